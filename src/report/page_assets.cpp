#include "report/page_assets.hpp"

namespace nrmlab::report {

const std::string_view k_report_css = R"css(
:root { --ink: #1a1a1a; --muted: #5a5a5a; --rule: #d8d8d8; --accent: #0072B2; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1180px; padding: 1.5rem 2rem 4rem; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; }
h2 { font-size: 1.3rem; margin: 2.4rem 0 .6rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
nav a { margin-right: .9rem; color: var(--accent); text-decoration: none; font-size: .9rem; }
.lede { color: var(--muted); margin: 0 0 1rem; }
.verdict { background: #f3f7fb; border-left: 4px solid var(--accent); padding: .8rem 1.1rem; }
.verdict li { margin: .25rem 0; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; width: 100%; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #fafafa; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: .6rem; font-size: .8rem;
         background: #eee; color: #333; }
.badge.supported { background: #D55E00; color: #fff; }
.badge.not-supported { background: #009E73; color: #fff; }
.badge.not-testable { background: #999; color: #fff; }
figure { margin: 1rem 0 2rem; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem; }
.panel { border: 1px solid var(--rule); border-radius: 4px; padding: .5rem; min-width: 0; }
.panel h4 { margin: 0 0 .2rem; font-size: .95rem; }
.panel .note { font-size: .8rem; color: var(--muted); margin: 0 0 .3rem; }
.panel .empty { color: var(--muted); font-style: italic; padding: 2rem 0; text-align: center; }
.panel button { font-size: .75rem; margin-top: .3rem; }
figcaption { font-size: .88rem; color: var(--muted); margin-top: .5rem; }
figcaption a { color: var(--accent); }
.provenance { font-size: .78rem; color: var(--muted); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .82rem; word-break: break-all; }
.flaws li { margin: .3rem 0; }
.code-status { font-weight: 600; }
.muted { color: var(--muted); }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; margin-right: .3rem;
          vertical-align: -1px; }
table.waits .bar { display: inline-block; height: .7rem; min-width: 1px; vertical-align: middle; }
.flame-controls { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; margin: .4rem 0; }
.flame-controls input { font: inherit; font-size: .88rem; padding: .15rem .4rem; width: 16rem; }
.flame-legend { font-size: .82rem; color: var(--muted); }
.flame { border: 1px solid var(--rule); border-radius: 4px; min-height: 60px; overflow-x: hidden; }
.flame-details { font-size: .82rem; color: var(--muted); min-height: 1.3rem; margin-top: .2rem;
                 font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
)css";

const std::string_view k_report_js = R"js(
(function () {
  'use strict';
  const island = JSON.parse(document.getElementById('nrmlab-data').textContent);
  const palette = island.palette;
  const charts = [];
  window.nrmlabCharts = charts;

  function colourOf(series, position) {
    const index = series.colour >= 0 ? series.colour : position;
    return palette[index % palette.length];
  }
  function alpha(hex, a) {
    const n = parseInt(hex.slice(1), 16);
    return 'rgba(' + (n >> 16) + ',' + ((n >> 8) & 255) + ',' + (n & 255) + ',' + a + ')';
  }

  // uPlot wants every series on one x array: the union of the series' x values. A null x
  // in a series is a break (a condition boundary); it becomes an x between its neighbours
  // where every series is null, so no line crosses it. A line is filled in at the other
  // series' x values between two of its own points (on the segment joining them), so it
  // stays one line; points and bars appear only at their own x.
  function align(panel) {
    const xs = new Set();
    for (const s of panel.series) {
      for (let j = 0; j < s.x.length; j++) {
        if (s.x[j] !== null) xs.add(s.x[j]);
        else if (j > 0 && j + 1 < s.x.length && s.x[j - 1] !== null && s.x[j + 1] !== null)
          xs.add((s.x[j - 1] + s.x[j + 1]) / 2);
      }
    }
    const x = Array.from(xs).sort((a, b) => a - b);
    const at = new Map(x.map((v, i) => [v, i]));
    const keep = (v) => (v === null || (panel.log_y && v <= 0) ? null : v);
    const column = (s, values) => {
      const out = new Array(x.length).fill(null);
      for (let j = 0; j < s.x.length; j++)
        if (s.x[j] !== null) out[at.get(s.x[j])] = keep(values[j]);
      if (s.style !== 'line' && s.style !== 'band') return out;
      for (let j = 0; j + 1 < s.x.length; j++) {
        const x0 = s.x[j], x1 = s.x[j + 1], y0 = keep(values[j]), y1 = keep(values[j + 1]);
        if (x0 === null || x1 === null || y0 === null || y1 === null || !(x1 > x0)) continue;
        for (let i = at.get(x0) + 1; i < at.get(x1); i++)
          if (out[i] === null) out[i] = y0 + ((y1 - y0) * (x[i] - x0)) / (x1 - x0);
      }
      return out;
    };
    return { x, column };
  }

  function makeChart(element, panel) {
    const { x, column } = align(panel);
    const data = [x];
    const series = [{}];
    const bands = [];
    const whiskers = [];
    const helpers = [];  // series that only draw a band's edge: no legend entry
    let low = Infinity;
    let high = -Infinity;
    const extend = (values) => {
      for (const v of values)
        if (v !== null && isFinite(v)) {
          low = Math.min(low, v);
          high = Math.max(high, v);
        }
    };
    panel.series.forEach((s, position) => {
      const colour = colourOf(s, position);
      const entry = { label: s.name, stroke: colour, width: 1.5, spanGaps: false,
                      nrmlabStyle: s.style };
      if (s.style === 'points' || s.style === 'error_bars') {
        entry.paths = () => null;
        entry.points = { show: true, size: s.style === 'points' ? 4 : 7, fill: colour };
      } else if (s.style === 'bars') {
        entry.paths = uPlot.paths.bars({ size: [0.25, 80] });
        entry.fill = alpha(colour, 0.65);
        entry.points = { show: false };
      }
      data.push(column(s, s.y));
      series.push(entry);
      extend(data[data.length - 1]);
      const index = series.length - 1;
      if (s.style === 'band') {
        data.push(column(s, s.y_high), column(s, s.y_low));
        series.push({ label: s.name + ' (upper)', stroke: alpha(colour, 0.4), width: 1, dash: [4, 4] });
        series.push({ label: s.name + ' (lower)', stroke: alpha(colour, 0.4), width: 1, dash: [4, 4] });
        bands.push({ series: [index + 1, index + 2], fill: alpha(colour, 0.12) });
        helpers.push(index + 1, index + 2);
        extend(data[index + 1]);
        extend(data[index + 2]);
      } else if (s.style === 'error_bars') {
        whiskers.push({ index, colour, low: column(s, s.y_low), high: column(s, s.y_high) });
        extend(whiskers[whiskers.length - 1].low);
        extend(whiskers[whiskers.length - 1].high);
      }
    });

    const categories = panel.x_categories || [];
    // The y range covers bands and whiskers too; bars stand on zero.
    const barsOnly = panel.series.some((s) => s.style === 'bars');
    const yRange = (u, dataMin, dataMax) => {
      let lo = Math.min(dataMin === null ? low : dataMin, low);
      let hi = Math.max(dataMax === null ? high : dataMax, high);
      if (!isFinite(lo) || !isFinite(hi)) { lo = panel.log_y ? 1 : 0; hi = panel.log_y ? 10 : 1; }
      // Half the smallest value below it, so a bar at the minimum still shows.
      if (panel.log_y) return uPlot.rangeLog(lo / 2, hi, 10, true);
      if (barsOnly && lo > 0) lo = 0;
      return uPlot.rangeNum(lo, hi, 0.1, true);
    };
    const scales = { x: { time: false }, y: panel.log_y ? { distr: 3, log: 10, range: yRange } : { range: yRange } };
    const axes = [{ label: panel.x_label }, { label: panel.y_label, size: 60 }];
    if (categories.length > 0) {
      scales.x.range = () => [-0.6, categories.length - 0.4];
      axes[0].splits = () => categories.map((_, i) => i);
      axes[0].values = (u, splits) =>
        splits.map((v) => {
          const name = categories[Math.round(v)] || '';
          return name.length > 22 ? name.slice(0, 21) + '\u2026' : name;
        });
      const longest = Math.max(...categories.map((c) => Math.min(c.length, 22)));
      if (categories.length * longest > 40) {
        axes[0].rotate = -30;
        axes[0].size = 30 + longest * 5;
      } else {
        axes[0].size = 50;
      }
    }

    const hooks = {
      drawClear: [(u) => {
        const ctx = u.ctx;
        (panel.spans || []).forEach((span, i) => {
          const left = u.valToPos(span.x_begin, 'x', true);
          const right = u.valToPos(span.x_end, 'x', true);
          ctx.fillStyle = i % 2 === 0 ? 'rgba(0,0,0,0.05)' : 'rgba(0,114,178,0.06)';
          ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
        });
      }],
      draw: [(u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.font = Math.round(11 * devicePixelRatio) + 'px system-ui, sans-serif';
        ctx.fillStyle = '#444';
        for (const span of panel.spans || []) {
          const left = Math.max(u.valToPos(span.x_begin, 'x', true), u.bbox.left);
          ctx.fillText(span.label, left + 4, u.bbox.top + 14 * devicePixelRatio);
        }
        ctx.beginPath();
        ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
        ctx.clip();
        for (const w of whiskers) {
          if (!u.series[w.index].show) continue;
          ctx.strokeStyle = w.colour;
          ctx.lineWidth = 1.5 * devicePixelRatio;
          for (let i = 0; i < u.data[0].length; i++) {
            if (w.low[i] === null || w.high[i] === null) continue;
            const px = u.valToPos(u.data[0][i], 'x', true);
            const top = u.valToPos(w.high[i], 'y', true);
            const bottom = u.valToPos(w.low[i], 'y', true);
            ctx.beginPath();
            ctx.moveTo(px, top); ctx.lineTo(px, bottom);
            ctx.moveTo(px - 4, top); ctx.lineTo(px + 4, top);
            ctx.moveTo(px - 4, bottom); ctx.lineTo(px + 4, bottom);
            ctx.stroke();
          }
        }
        ctx.restore();
      }],
    };

    const width = Math.max(320, element.clientWidth || 520);
    const options = { width, height: 300, scales, axes, series, bands, hooks,
                      cursor: { drag: { x: true, y: false } }, legend: { live: true } };
    const chart = new uPlot(options, data, element);
    const rows = chart.root.querySelectorAll('.u-legend .u-series');
    for (const index of helpers)
      if (rows[index]) rows[index].style.display = 'none';
    return chart;
  }

  function toCsv(panel) {
    const { x, column } = align(panel);
    const header = [panel.x_label];
    const columns = [];
    for (const s of panel.series) {
      header.push(s.name);
      columns.push(column(s, s.y));
    }
    const quote = (text) => '"' + String(text).replace(/"/g, '""') + '"';
    const lines = [header.map(quote).join(',')];
    for (let i = 0; i < x.length; i++)
      lines.push([x[i]].concat(columns.map((c) => (c[i] === null ? '' : c[i]))).join(','));
    return lines.join('\n') + '\n';
  }

  // A figure's panel, or (data-island) a panel of another island member's figure: the code
  // section's share chart.
  const figureOf = (element) => (element.dataset.island
    ? island[element.dataset.island].share : island.figures[+element.dataset.figure]);
  document.querySelectorAll('.chart').forEach((element) => {
    const panel = figureOf(element).panels[+element.dataset.panel];
    try {
      charts.push(makeChart(element, panel));
    } catch (error) {
      console.error('nrmlab: chart ' + element.id + ' failed: ' + error);
    }
    const button = element.parentElement.querySelector('button.csv');
    if (button)
      button.addEventListener('click', () => {
        const link = document.createElement('a');
        link.href = URL.createObjectURL(new Blob([toCsv(panel)], { type: 'text/csv' }));
        link.download = element.id + '.csv';
        link.click();
      });
  });
  // The flame graphs (d3-flame-graph, embedded only when the island has a graph). The whole
  // run's: a box per function, coloured by the wait class holding most of its time. The
  // differential one (data.differential): the late side's boxes, coloured by the library's
  // differential colours from each node's change ("d", in the width's units), with both
  // sides' time per step on hover. Both: click zooms, the search box highlights matching
  // functions, hover names the function, module, time and its split by wait class.
  function drawFlameGraph(data, prefix, colours) {
    const element = document.getElementById(prefix + '-graph');
    if (!element || !data) return null;
    if (typeof flamegraph === 'undefined' || typeof d3 === 'undefined')
      throw new Error('the flame graph library is missing from the page');
    const details = document.getElementById(prefix + '-details');
    const diff = data.differential;
    const total = data.total_ns > 0 ? data.total_ns : 1;
    const share = (ns) => (100 * ns / total).toFixed(ns < total / 1000 ? 3 : 1) + '%';
    const seconds = (ns) => (ns / 1e9).toPrecision(3) + ' s';
    const perStep = (ns, steps) => (steps > 0 ? (ns / steps / 1e6).toPrecision(3) + ' ms' : 'n/a');
    const dominant = (node) => {
      let best = 'on_cpu', most = -1;
      for (const [wait, ns] of Object.entries(node.w || {}))
        if (ns > most) { most = ns; best = wait; }
      return best;
    };
    const change = (node) => {
      const late = node.v / diff.late_steps, early = (node.b || 0) / diff.early_steps;
      const sign = late >= early ? '+' : '\u2212';
      return perStep(node.b || 0, diff.early_steps) + ' \u2192 ' + perStep(node.v, diff.late_steps) +
        ' per step (' + sign + (Math.abs(late - early) / 1e6).toPrecision(3) + ' ms' +
        (early > 0 ? ', ' + sign + (100 * Math.abs(late - early) / early).toFixed(0) + '%' : ', only late') + ')';
    };
    const label = (d) => {
      const node = d.data;
      const waits = Object.entries(node.w || {}).sort((a, b) => b[1] - a[1])
        .map(([wait, ns]) => wait + ' ' + (100 * ns / (node.v || 1)).toFixed(0) + '%').join(', ');
      const figures = diff ? 'early \u2192 late ' + change(node)
        : seconds(node.v) + ', ' + share(node.v) + ' of the sampled time';
      return node.n + (node.m ? ' (' + node.m + ')' : '') + ': ' + figures + ' [' + waits + ']' +
        (node.f ? '; ' + seconds(node.f) + ' in small callees folded in' : '');
    };
    const colour = diff
      ? (d) => (d.highlight ? '#E600E6' : flamegraph.colorMapper.differentialColorMapper(d))
      : (d) => (d.highlight ? '#E600E6' : colours[dominant(d.data)] || '#999999');
    const term = (text) => text.trim().toLowerCase();
    let searchText = '\u00a0';
    const chart = flamegraph.default()
      .width(Math.max(320, element.clientWidth - 2 || 960))
      .cellHeight(18)
      .transitionDuration(250)
      .minFrameSize(1)
      .sort(false)
      .setColorMapper(colour)
      .setLabelHandler(label)
      .setSearchMatch((d, text) => !!term(text) && String(d.data.n).toLowerCase().includes(term(text)))
      .setSearchHandler((results, sum) => {
        searchText = results.length === 0 ? 'no function matches'
          : results.length + ' frames match: ' + (diff ? perStep(sum, diff.late_steps) + ' per late step'
            : seconds(sum) + ', ' + share(sum) + ' of the sampled time');
        details.textContent = searchText;
      })
      // Hover shows the frame; leaving it shows the search's result again.
      .setDetailsHandler((text) => { details.textContent = text || searchText; })
      .setDetailsElement(details);
    d3.select(element).datum(data.root).call(chart);
    const search = document.getElementById(prefix + '-search');
    search.addEventListener('input', () => {
      if (term(search.value)) chart.search(search.value);
      else { searchText = '\u00a0'; chart.clear(); }
    });
    document.getElementById(prefix + '-reset').addEventListener('click', () => chart.resetZoom());
    return chart;
  }
  const flameColours = (island.flame_graph || {}).colours || {};
  try {
    window.nrmlabFlameGraph = drawFlameGraph(island.flame_graph, 'flame', flameColours);
  } catch (error) {
    console.error('nrmlab: the flame graph failed: ' + error);
  }
  try {
    window.nrmlabDiffFlameGraph =
      drawFlameGraph((island.code_growth || {}).graph, 'flame-diff', flameColours);
  } catch (error) {
    console.error('nrmlab: the differential flame graph failed: ' + error);
  }

  requestAnimationFrame(() => requestAnimationFrame(() => {
    window.nrmlabReadyAt = performance.now();
    window.nrmlabReady = true;
  }));
})();
)js";

}  // namespace nrmlab::report

// The report in a real browser: opens REPORT_HTML from disk in headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core; no browser is ever downloaded) and checks
// the contract report.html honours (ARCHITECTURE.md, the report stage):
//   * every interactive chart is a <div class="chart"> that uPlot renders into;
//   * window.nrmlabCharts holds the uPlot instances in document order;
//   * window.nrmlabReady = true and window.nrmlabReadyAt = performance.now() once every chart
//     has been created and drawn;
//   * the file needs no network.
// With --expect-flame-graph, the section "Where the time goes in the code" has a flame graph
// (d3-flame-graph's SVG in #flame-graph, window.nrmlabFlameGraph its chart) that draws boxes
// coloured by wait class, names a box's function, time and share on hover, highlights the
// matches of #flame-search, zooms into a clicked box and back with #flame-reset.
// With --expect-differential, the same section compares the featured run's late steps with
// its early ones (run_report_e2e.sh plants the samples): the differential flame graph
// (#flame-diff-graph, window.nrmlabDiffFlameGraph) draws scan_history, which grew, red and
// cpu_percent (constant) and commit_row (shrank) not red, commit_row blue; hovering
// scan_history gives its early and late time per step (as the growth table has them); its
// own search (#flame-diff-search), click-to-zoom and reset (#flame-diff-reset) work; the
// share chart (.chart[data-island="code_growth"]) draws scan_history's line; the growth table
// lists scan_history first.
//
// usage: node report_e2e.mjs REPORT_HTML SCREENSHOT_PNG [--expect-no-markup-execution]
//                                                      [--expect-flame-graph]
//                                                      [--expect-differential]
//
// Prints one JSON line {"load_ms":..., "charts":N, "bytes":SIZE} and saves a full-page
// screenshot. Exit status 0 when every assertion holds, 1 with one "FAIL:" line per failed
// assertion, 2 on a usage error.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// playwright-core comes from the repository's node_modules (npm ci). ES modules ignore
// NODE_PATH, so resolve it the CommonJS way: from this file upwards, then NODE_PATH.
const require = createRequire(import.meta.url);
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (error) {
  console.error(`report_e2e: cannot load playwright-core (${error.message}); ` +
                'run `npm ci` in the repository root (make test does it)');
  process.exit(2);
}

const CHROMIUM = process.env.NRMLAB_CHROMIUM || '/usr/bin/chromium';
const READY_TIMEOUT_MS = 10_000;

const argv = process.argv.slice(2);
const flags = argv.filter((a) => a.startsWith('--'));
const positional = argv.filter((a) => !a.startsWith('--'));
const known = ['--expect-no-markup-execution', '--expect-flame-graph', '--expect-differential'];
const unknown = flags.filter((f) => !known.includes(f));
if (positional.length !== 2 || unknown.length > 0) {
  console.error('usage: node report_e2e.mjs REPORT_HTML SCREENSHOT_PNG ' +
                '[--expect-no-markup-execution] [--expect-flame-graph] [--expect-differential]');
  process.exit(2);
}
const reportPath = path.resolve(positional[0]);
const screenshotPath = path.resolve(positional[1]);
const expectNoMarkup = flags.includes('--expect-no-markup-execution');
const expectFlameGraph = flags.includes('--expect-flame-graph');
const expectDifferential = flags.includes('--expect-differential');
if (!fs.existsSync(reportPath)) {
  console.error(`FAIL: ${reportPath} does not exist`);
  process.exit(1);
}
const bytes = fs.statSync(reportPath).size;

const failures = [];
const fail = (message) => failures.push(message);

// The frames the flame graph draws: name, fill and width of each box.
const flameFrames = (page) => page.evaluate(() =>
  [...document.querySelectorAll('#flame-graph svg g.frame')].map((g) => {
    const rect = g.querySelector('rect');
    return { name: g.getAttribute('name'), fill: rect ? getComputedStyle(rect).fill : '',
             width: rect ? rect.getBoundingClientRect().width : 0 };
  }));
// Waits (polling each frame) until `predicate(frames)` holds; false after 5 s.
const waitForFrames = (page, predicate) =>
  page.waitForFunction(predicate, null, { timeout: 5000, polling: 'raf' }).then(() => true, () => false);

async function checkFlameGraph(page) {
  const present = await page.evaluate(() => !!window.nrmlabFlameGraph &&
                                            !!document.querySelector('#flame-graph svg'));
  if (!present) return fail('flame graph: no window.nrmlabFlameGraph or no SVG in #flame-graph');
  const frames = await flameFrames(page);
  if (frames.length < 5) return fail(`flame graph: only ${frames.length} boxes drawn`);
  // On the CPU (#E69F00) and asleep (#56B4E9) are both drawn: colour by wait class.
  const fills = new Set(frames.map((f) => f.fill));
  for (const [what, colour] of [['on-CPU', 'rgb(230, 159, 0)'], ['sleep', 'rgb(86, 180, 233)']])
    if (!fills.has(colour)) fail(`flame graph: no box in the ${what} colour ${colour} (${[...fills].join(', ')})`);

  // Hover: the details line names the box's function, module, time and share.
  const box = page.locator('#flame-graph g.frame[name="cpu_percent"]').first();
  if ((await box.count()) === 0) return fail('flame graph: no box named cpu_percent');
  await box.scrollIntoViewIfNeeded();
  await box.hover();
  const details = await page.locator('#flame-details').textContent();
  if (!/^cpu_percent \(prog\): [0-9.]+ s, [0-9.]+% of the sampled time/.test(details))
    fail(`flame graph: hovering cpu_percent shows "${details}"`);

  // Search: the matching boxes turn magenta and the details line counts them.
  await page.fill('#flame-search', 'nanosleep');
  if (!(await waitForFrames(page, () => [...document.querySelectorAll('#flame-graph g.frame')]
        .some((g) => getComputedStyle(g.querySelector('rect')).fill === 'rgb(230, 0, 230)'))))
    fail('flame graph: searching "nanosleep" highlights no box');
  const found = await page.locator('#flame-details').textContent();
  if (!/frames? match/.test(found)) fail(`flame graph: the search says "${found}"`);
  await page.fill('#flame-search', '');

  // Click: cpu_percent fills the graph's width and its siblings go.
  const before = frames.find((f) => f.name === 'cpu_percent').width;
  const full = await page.evaluate(() => document.querySelector('#flame-graph svg').getBoundingClientRect().width);
  await box.click();
  const zoomed = await waitForFrames(page, () => {
    const g = document.querySelector('#flame-graph g.frame[name="cpu_percent"] rect');
    const svg = document.querySelector('#flame-graph svg');
    return g && g.getBoundingClientRect().width > 0.95 * svg.getBoundingClientRect().width &&
      !document.querySelector('#flame-graph g.frame[name="commit_row"]');
  });
  if (!zoomed) fail(`flame graph: clicking cpu_percent (${before.toFixed(0)} of ${full.toFixed(0)} px) did not zoom into it`);
  await page.click('#flame-reset');
  if (!(await waitForFrames(page, () => !!document.querySelector('#flame-graph g.frame[name="commit_row"]'))))
    fail('flame graph: reset zoom did not bring commit_row back');
}

// The differential flame graph's boxes: name, fill as [r, g, b], width.
const diffFrames = (page) => page.evaluate(() =>
  [...document.querySelectorAll('#flame-diff-graph svg g.frame')].map((g) => {
    const rect = g.querySelector('rect');
    const fill = rect ? getComputedStyle(rect).fill : '';
    return { name: g.getAttribute('name'), fill,
             rgb: (fill.match(/\d+/g) || []).slice(0, 3).map(Number),
             width: rect ? rect.getBoundingClientRect().width : 0 };
  }));
// d3-flame-graph's differential colours: grey unchanged, red (r kept, g = b lowered) grew,
// blue (b kept, r = g lowered) shrank.
const isRed = ([r, g, b]) => r - Math.max(g, b) >= 40;
const isBlue = ([r, g, b]) => b - Math.max(r, g) >= 40;
// "a ms" or "a s" as milliseconds.
const toMs = (value, unit) => (unit === 's' ? 1000 : 1) * Number(value);

async function checkDifferential(page) {
  const present = await page.evaluate(() => !!window.nrmlabDiffFlameGraph &&
                                            !!document.querySelector('#flame-diff-graph svg'));
  if (!present)
    return fail('differential flame graph: no window.nrmlabDiffFlameGraph or no SVG in #flame-diff-graph');
  const frames = await diffFrames(page);
  if (frames.length < 5) return fail(`differential flame graph: only ${frames.length} boxes drawn`);
  const frame = (name) => frames.find((f) => f.name === name);
  for (const name of ['scan_history', 'cpu_percent', 'commit_row'])
    if (!frame(name) || !(frame(name).width > 0))
      return fail(`differential flame graph: no box named ${name} (${frames.map((f) => f.name).join(', ')})`);
  if (!isRed(frame('scan_history').rgb))
    fail(`differential flame graph: scan_history grew but its box is ${frame('scan_history').fill}, not red`);
  for (const name of ['cpu_percent', 'commit_row'])
    if (isRed(frame(name).rgb))
      fail(`differential flame graph: ${name} did not grow but its box is red (${frame(name).fill})`);
  if (!isBlue(frame('commit_row').rgb))
    fail(`differential flame graph: commit_row shrank but its box is ${frame('commit_row').fill}, not blue`);

  // The growth table: scan_history first, with its time per step early and late.
  const rows = await page.evaluate(() => [...document.querySelectorAll('table.code-growth tr')]
    .slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())));
  let tableEarly = null, tableLate = null;
  if (rows.length === 0) fail('growth table: no table.code-growth or no rows in it');
  else if (rows[0][0] !== 'scan_history')
    fail(`growth table: the first function is "${rows[0][0]}", not scan_history (${rows.map((r) => r[0]).join(', ')})`);
  else {
    const m = /^([0-9.e+-]+) ms \u2192 ([0-9.e+-]+) ms$/.exec(rows[0][3] || '');
    if (!m) fail(`growth table: scan_history's time per step reads "${rows[0][3]}"`);
    else [tableEarly, tableLate] = [Number(m[1]), Number(m[2])];
  }

  // Hover: both sides' time per step, late above early, agreeing with the table's (the graph
  // adds up the same windows' samples; scan_history has no callees, so its box is its self time).
  const box = page.locator('#flame-diff-graph g.frame[name="scan_history"]').first();
  await box.scrollIntoViewIfNeeded();
  await box.hover();
  const details = await page.locator('#flame-diff-details').textContent();
  const hover = /^scan_history \(prog\): early \u2192 late ([0-9.e+-]+) (ms|s) \u2192 ([0-9.e+-]+) (ms|s) per step \(\+/
    .exec(details);
  if (!hover) {
    fail(`differential flame graph: hovering scan_history shows "${details}"`);
  } else {
    const early = toMs(hover[1], hover[2]), late = toMs(hover[3], hover[4]);
    if (!(late > 2 * early)) fail(`differential flame graph: hovering scan_history gives ${early} -> ${late} ms per step ("${details}")`);
    const near = (a, b) => Math.abs(a - b) <= 0.02 * Math.max(a, b);
    if (tableEarly !== null && !(near(early, tableEarly) && near(late, tableLate)))
      fail(`differential flame graph: hovering scan_history gives ${early} -> ${late} ms per step, the growth table ${tableEarly} -> ${tableLate}`);
  }

  // Search: only the matching box turns magenta and the details line counts it.
  await page.fill('#flame-diff-search', 'scan_hist');
  const magenta = 'rgb(230, 0, 230)';
  if (!(await waitForFrames(page, () => {
    const g = document.querySelector('#flame-diff-graph g.frame[name="scan_history"] rect');
    return g && getComputedStyle(g).fill === 'rgb(230, 0, 230)';
  }))) fail('differential flame graph: searching "scan_hist" does not highlight scan_history');
  const lit = (await diffFrames(page)).filter((f) => f.fill === magenta).map((f) => f.name);
  if (lit.length !== 1) fail(`differential flame graph: searching "scan_hist" highlights ${lit.join(', ') || 'nothing'}`);
  const found = await page.locator('#flame-diff-details').textContent();
  if (!/^1 frames? match: [0-9.e+-]+ m?s per late step/.test(found))
    fail(`differential flame graph: the search says "${found}"`);
  if (await page.evaluate(() => [...document.querySelectorAll('#flame-graph g.frame rect')]
        .some((r) => getComputedStyle(r).fill === 'rgb(230, 0, 230)')))
    fail('differential flame graph: its search highlights boxes in the whole run\'s flame graph');
  await page.fill('#flame-diff-search', '');
  if (!(await waitForFrames(page, () => ![...document.querySelectorAll('#flame-diff-graph g.frame rect')]
        .some((r) => getComputedStyle(r).fill === 'rgb(230, 0, 230)'))))
    fail('differential flame graph: clearing the search leaves boxes highlighted');

  // Click: scan_history fills the graph's width and its sibling run_step goes; reset brings it back.
  await box.click();
  const zoomed = await waitForFrames(page, () => {
    const g = document.querySelector('#flame-diff-graph g.frame[name="scan_history"] rect');
    const svg = document.querySelector('#flame-diff-graph svg');
    return g && g.getBoundingClientRect().width > 0.95 * svg.getBoundingClientRect().width &&
      !document.querySelector('#flame-diff-graph g.frame[name="run_step"]');
  });
  if (!zoomed) fail(`differential flame graph: clicking scan_history (${frame('scan_history').width.toFixed(0)} px) did not zoom into it`);
  await page.click('#flame-diff-reset');
  if (!(await waitForFrames(page, () => {
    const g = document.querySelector('#flame-diff-graph g.frame[name="scan_history"] rect');
    const svg = document.querySelector('#flame-diff-graph svg');
    return !!document.querySelector('#flame-diff-graph g.frame[name="run_step"]') && g &&
      g.getBoundingClientRect().width < 0.95 * svg.getBoundingClientRect().width;
  }))) fail('differential flame graph: reset zoom did not bring run_step back');

  // The share chart: a uPlot chart of the code_growth island with scan_history's line drawn
  // (every .chart is also checked for paint above).
  const share = await page.evaluate(() => {
    const element = document.querySelector('.chart[data-island="code_growth"]');
    if (!element) return null;
    const u = (window.nrmlabCharts || []).find((c) => c && c.root && element.contains(c.root));
    if (!u) return { instance: false };
    const at = u.series.findIndex((s) => String(s.label).startsWith('scan_history'));
    const values = at > 0 ? u.data[at].filter((v) => v !== null && Number.isFinite(v)) : [];
    return { instance: true, labels: u.series.slice(1).map((s) => String(s.label)), values,
             canvas: !!element.querySelector('canvas') };
  });
  if (share === null) fail('share chart: no .chart[data-island="code_growth"]');
  else if (!share.instance) fail('share chart: no uPlot instance in window.nrmlabCharts for it');
  else if (!share.canvas) fail('share chart: no canvas');
  else if (share.values.length < 8)
    fail(`share chart: scan_history's line has ${share.values.length} points (series: ${share.labels.join(', ')})`);
  else {
    // It grows: its share is larger at the end of the first condition than at its start.
    const [first, most] = [share.values[0], Math.max(...share.values)];
    if (!(most > first + 20)) fail(`share chart: scan_history's share never rises above its first ${first.toFixed(1)}% by 20 points (top ${most.toFixed(1)}%)`);
  }
}

// Schemes that are not network: the file itself and what it creates in memory.
const isLocal = (url) => /^(file|data|blob|about):/i.test(url);

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let result = null;
try {
  // A fresh context is a fresh, temporary profile.
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 },
                                            acceptDownloads: true });
  const page = await context.newPage();

  const consoleErrors = [];
  const pageErrors = [];
  const networkRequests = [];
  const failedRequests = [];
  const dialogs = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(String(error && error.message || error)));
  page.on('request', (request) => {
    if (!isLocal(request.url())) networkRequests.push(request.url());
  });
  page.on('requestfailed', (request) => {
    if (isLocal(request.url()))
      failedRequests.push(`${request.url()} (${request.failure()?.errorText ?? 'failed'})`);
  });
  page.on('websocket', (socket) => networkRequests.push(socket.url()));
  page.on('dialog', async (dialog) => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    await dialog.dismiss().catch(() => {});
  });
  // Nothing may leave the machine: refuse every non-local request (it is also recorded above).
  await context.route((url) => !isLocal(url.href), (route) => route.abort('blockedbyclient'));

  const url = pathToFileURL(reportPath).href;
  const started = performance.now();
  await page.goto(url, { waitUntil: 'load', timeout: 60_000 });
  let ready = true;
  try {
    await page.waitForFunction(() => window.nrmlabReady === true, null,
                               { timeout: READY_TIMEOUT_MS, polling: 'raf' });
  } catch {
    ready = false;
    fail(`window.nrmlabReady did not become true within ${READY_TIMEOUT_MS / 1000} s`);
  }
  const wallMs = performance.now() - started;

  let charts = 0;
  let loadMs = null;
  if (ready) {
    const readyAt = await page.evaluate(() => window.nrmlabReadyAt);
    if (typeof readyAt === 'number' && Number.isFinite(readyAt) && readyAt > 0) {
      loadMs = readyAt;  // performance.now() in the page: since its navigation started
    } else {
      fail(`window.nrmlabReadyAt is not a positive number (${JSON.stringify(readyAt)})`);
      loadMs = wallMs;
    }

    // Every .chart holds a uPlot instance (in document order) and a canvas with paint on it.
    const found = await page.evaluate(() => {
      const elements = [...document.querySelectorAll('.chart')];
      const instances = Array.isArray(window.nrmlabCharts) ? window.nrmlabCharts : null;
      return {
        instances: instances ? instances.length : -1,
        charts: elements.map((element, index) => {
          const name = element.id ? `#${element.id}` : `.chart[${index}]`;
          const instance = instances ? instances[index] : undefined;
          const owns = !!(instance && instance.root && element.contains(instance.root));
          // Painted = pixels in a series colour: axes, grid, text and the condition shading
          // are grey, every palette colour but black is saturated.
          let painted = 0;
          let sizes = [];
          for (const canvas of element.querySelectorAll('canvas')) {
            sizes.push(`${canvas.width}x${canvas.height}`);
            if (canvas.width === 0 || canvas.height === 0) continue;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let count = 0;
            for (let k = 0; k < data.length; k += 4) {
              const spread = Math.max(data[k], data[k + 1], data[k + 2]) -
                             Math.min(data[k], data[k + 1], data[k + 2]);
              if (data[k + 3] > 128 && spread > 60) ++count;
            }
            painted = Math.max(painted, count);
          }
          // A line drawn from isolated points (each neighbour null) draws nothing.
          const broken = [];
          if (instance && instance.series)
            instance.series.forEach((series, i) => {
              if (i === 0 || (series.nrmlabStyle !== 'line' && series.nrmlabStyle !== 'band')) return;
              const values = instance.data[i];
              let joined = values.length < 2;
              for (let k = 0; k + 1 < values.length && !joined; k++)
                joined = values[k] !== null && values[k + 1] !== null;
              if (!joined) broken.push(series.label);
            });
          return { name, owns, canvases: sizes, painted, broken };
        }),
      };
    });
    charts = found.charts.length;
    if (charts === 0) fail('no .chart element in the report');
    if (found.instances < 0) fail('window.nrmlabCharts is not an array');
    else if (found.instances !== charts)
      fail(`window.nrmlabCharts has ${found.instances} instances for ${charts} .chart elements`);
    for (const chart of found.charts) {
      if (found.instances >= 0 && !chart.owns)
        fail(`${chart.name}: window.nrmlabCharts does not hold its uPlot instance at its position`);
      if (chart.canvases.length === 0) fail(`${chart.name}: no canvas`);
      else if (chart.painted === 0)
        fail(`${chart.name}: no series drawn (no pixel in a series colour; ${chart.canvases.join(', ')})`);
      for (const label of chart.broken)
        fail(`${chart.name}: the line "${label}" has no two neighbouring points, so it draws nothing`);
    }

    await page.screenshot({ path: screenshotPath, fullPage: true });

    // Drag-to-zoom across the middle third of the first chart's plotting area.
    if (found.instances > 0) {
      const box = await page.evaluate(() => {
        const u = window.nrmlabCharts[0];
        const over = u.over || u.root.querySelector('.u-over');
        if (!over) return null;
        over.scrollIntoView({ block: 'center' });
        const r = over.getBoundingClientRect();
        return { x: r.left, y: r.top, width: r.width, height: r.height,
                 min: u.scales.x.min, max: u.scales.x.max };
      });
      if (box === null) {
        fail('zoom: the first chart has no .u-over element');
      } else if (!(Number.isFinite(box.min) && Number.isFinite(box.max) && box.max > box.min)) {
        fail(`zoom: the first chart's x scale is not a range before zooming (${box.min}, ${box.max})`);
      } else if (box.width < 30 || box.height < 10) {
        fail(`zoom: the first chart's plotting area is too small to drag (${box.width}x${box.height})`);
      } else {
        const y = box.y + box.height / 2;
        await page.mouse.move(box.x + box.width / 3, y);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width / 2, y, { steps: 5 });
        await page.mouse.move(box.x + (2 * box.width) / 3, y, { steps: 5 });
        await page.mouse.up();
        await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
        const after = await page.evaluate(() => {
          const u = window.nrmlabCharts[0];
          return { min: u.scales.x.min, max: u.scales.x.max };
        });
        const range = `[${box.min}, ${box.max}] -> [${after.min}, ${after.max}]`;
        if (!(Number.isFinite(after.min) && Number.isFinite(after.max)))
          fail(`zoom: the x scale is not finite after the drag (${range})`);
        else if (!(after.max - after.min < box.max - box.min))
          fail(`zoom: dragging across the middle third did not narrow the x range (${range})`);
        else if (!(after.min >= box.min && after.max <= box.max))
          fail(`zoom: the zoomed x range is not inside the original one (${range})`);
      }
    }

    // The first chart's CSV export: a download of its points with a header row.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 5000 }),
      page.locator('button.csv').first().click(),
    ]).catch((error) => [null, fail(`CSV export: no download (${error.message.split('\n')[0]})`)]);
    if (download) {
      const file = await download.path();
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      if (lines.length < 2 || !lines[0].startsWith('"'))
        fail(`CSV export: expected a header and rows, got ${lines.length} line(s): ${lines[0]}`);
    }

    // Hover every chart once (legends and tooltips render labels then).
    for (let index = 0; index < charts; ++index) {
      const centre = await page.evaluate((i) => {
        const element = document.querySelectorAll('.chart')[i];
        const over = element.querySelector('.u-over') || element;
        over.scrollIntoView({ block: 'center' });
        const r = over.getBoundingClientRect();
        return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
      }, index);
      await page.mouse.move(centre.x, centre.y);
    }
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
    if (expectFlameGraph) await checkFlameGraph(page);
    if (expectDifferential) await checkDifferential(page);
  } else {
    loadMs = wallMs;
    await page.screenshot({ path: screenshotPath, fullPage: true }).catch(() => {});
  }

  if (expectNoMarkup) {
    const probe = await page.evaluate(() => ({
      xss: typeof window.__nrmlab_xss === 'undefined' ? null : String(window.__nrmlab_xss),
      injected: document.getElementById('nrmlab-injected') !== null,
    }));
    if (probe.xss !== null)
      fail(`markup executed: window.__nrmlab_xss is set (${probe.xss})`);
    if (probe.injected) fail('markup injected: an element with id "nrmlab-injected" exists');
    if (dialogs.length > 0) fail(`markup executed: a dialog opened (${dialogs.join('; ')})`);
  } else if (dialogs.length > 0) {
    fail(`the report opened a dialog (${dialogs.join('; ')})`);
  }
  for (const message of consoleErrors) fail(`console error: ${message}`);
  for (const message of pageErrors) fail(`page error: ${message}`);
  for (const request of networkRequests) fail(`network request (the report must need none): ${request}`);
  for (const request of failedRequests) fail(`failed request: ${request}`);

  result = { load_ms: Math.round(loadMs * 10) / 10, charts, bytes };
  await context.close();
} catch (error) {
  fail(`unexpected error: ${error && error.stack || error}`);
} finally {
  await browser.close();
}

if (result) console.log(JSON.stringify(result));
for (const message of failures) console.error(`FAIL: ${message}`);
process.exit(failures.length === 0 ? 0 : 1);

#include <algorithm>
#include <cmath>

#include "analysis/attribution.hpp"
#include "analysis/sound_mode.hpp"
#include "analysis/windows.hpp"

namespace nrmlab::analysis {

TimeDecomposition decompose(const std::string& scope, const std::vector<const Columns*>& steps) {
  TimeDecomposition d;
  d.scope = scope;
  double wall = 0.0, cpu = 0.0, unexplained = 0.0;
  const char* const k_sections[] = {"sampling", "window", "database", "recorder", "compute"};
  double section_ns[5] = {};
  for (const Columns* columns : steps) {
    d.steps += columns->rows();
    // The largest condition's wait: a run that waited in one condition was disturbed there.
    const double wait = cpu_wait_share(*columns);
    if (std::isfinite(wait) && !(wait <= d.cpu_wait_share)) d.cpu_wait_share = wait;
    const auto wall_ns = (*columns)["wall_ns"];
    const auto cpu_ns = (*columns)["cpu_ns"];
    const auto window_ns = (*columns)["window_ns"];
    wall += sum_of(wall_ns);
    cpu += sum_of(cpu_ns);
    for (std::size_t i = 0; i < wall_ns.size(); ++i) {
      // CPU may exceed wall by the clocks' resolution on a CPU-bound step: clamp at 0.
      const double off = wall_ns[i] - cpu_ns[i] - (std::isfinite(window_ns[i]) ? window_ns[i] : 0);
      if (std::isfinite(off) && off > 0) unexplained += off;
    }
    for (int s = 0; s < 5; ++s)
      section_ns[s] += sum_of((*columns)[std::string(k_sections[s]) + "_ns"]);
  }
  d.wall_seconds = wall * 1e-9;
  d.cpu_seconds = cpu * 1e-9;
  const double nan = std::nan("");
  d.cpu_share = wall > 0 ? std::min(1.0, cpu / wall) : nan;
  d.off_cpu_share = wall > 0 ? 1.0 - d.cpu_share : nan;
  d.off_cpu_unexplained_share = wall > 0 ? unexplained / wall : nan;
  d.recorder_share = wall > 0 ? section_ns[3] / wall : nan;
  for (int s = 0; s < 5; ++s)
    d.sections.push_back(
        {k_sections[s], section_ns[s] * 1e-9, wall > 0 ? section_ns[s] / wall : nan});
  std::stable_sort(d.sections.begin(), d.sections.end(),
                   [](const SectionShare& a, const SectionShare& b) { return a.share > b.share; });
  d.dominant = d.sections.front().section;
  return d;
}

}  // namespace nrmlab::analysis

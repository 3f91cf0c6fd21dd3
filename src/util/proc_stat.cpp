#include "util/proc_stat.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <string>

namespace nrmlab {

std::optional<CpuTicks> read_cpu_ticks(const std::filesystem::path& proc_stat) {
  std::ifstream in(proc_stat);
  std::string label;
  if (!(in >> label) || label != "cpu") return std::nullopt;
  std::array<std::int64_t, 8> field{};
  for (auto& value : field)
    if (!(in >> value) || value < 0) return std::nullopt;
  CpuTicks ticks;
  for (const auto value : field)
    ticks.total += value;
  ticks.busy = ticks.total - field[3] - field[4];
  return ticks;
}

std::optional<double> busy_percent(const CpuTicks& from, const CpuTicks& to) {
  if (to.total <= from.total) return std::nullopt;
  const double busy = static_cast<double>(to.busy - from.busy);
  return std::clamp(100.0 * busy / static_cast<double>(to.total - from.total), 0.0, 100.0);
}

std::optional<MemoryTotals> read_memory_totals(const std::filesystem::path& proc_meminfo) {
  std::ifstream in(proc_meminfo);
  std::string key;
  std::string rest;
  std::int64_t value = 0;
  std::optional<std::int64_t> total, available;
  while (in >> key >> value) {
    std::getline(in, rest);
    if (key == "MemTotal:") total = value;
    if (key == "MemAvailable:") available = value;
  }
  if (!total || !available || *total <= 0 || *available < 0 || *available > *total)
    return std::nullopt;
  return MemoryTotals{*total, *available};
}

}  // namespace nrmlab

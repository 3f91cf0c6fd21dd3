#include "util/proc_stat.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <string>

#include "util/parse.hpp"

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

std::optional<Schedstat> parse_schedstat(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  std::array<std::int64_t, 3> field{};
  for (std::size_t i = 0; i < field.size(); ++i) {
    const auto space = text.find(' ');
    if ((space == std::string_view::npos) != (i + 1 == field.size())) return std::nullopt;
    const auto value = parse_number<std::int64_t>(text.substr(0, space));
    if (!value || *value < 0) return std::nullopt;
    field[i] = *value;
    text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
  }
  return Schedstat{field[0], field[1], field[2]};
}

}  // namespace nrmlab

#include "util/proc_stat.hpp"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
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

std::vector<pid_t> numeric_entries(const std::filesystem::path& dir) {
  std::vector<pid_t> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (const auto id = parse_number<pid_t>(it->path().filename().string())) ids.push_back(*id);
  return ids;
}

std::optional<pid_t> parent_process(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos || close + 4 > text.size()) return std::nullopt;
  const std::string_view rest = std::string_view(text).substr(close + 4);  // after ") S "
  return parse_number<pid_t>(rest.substr(0, rest.find(' ')));
}

std::vector<pid_t> descendant_processes(pid_t root) {
  std::multimap<pid_t, pid_t> children;
  for (const pid_t pid : numeric_entries("/proc"))
    if (const auto parent = parent_process(pid)) children.emplace(*parent, pid);
  std::vector<pid_t> found;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    const pid_t parent = todo.back();
    todo.pop_back();
    const auto [first, last] = children.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      found.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return found;
}

}  // namespace nrmlab

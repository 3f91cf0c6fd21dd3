#include "telemetry/system_streams.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "util/parse.hpp"
#include "util/proc_stat.hpp"

namespace nrmlab::telemetry {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_first_line(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return line;
}

std::optional<double> read_number(const fs::path& path) {
  const auto line = read_first_line(path);
  if (!line) return std::nullopt;
  std::string text = *line;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n'))
    text.pop_back();
  return parse_number<double>(text);
}

// Sorted directory entries whose name starts with `prefix`; empty if the directory is absent.
std::vector<fs::path> entries_with_prefix(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path());
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

SystemSampler::SystemSampler(fs::path proc_root, fs::path sys_root)
    : m_proc(std::move(proc_root)), m_sys(std::move(sys_root)) {
  const long ticks = sysconf(_SC_CLK_TCK);
  if (ticks > 0) m_tick_ns = 1'000'000'000 / ticks;
}

void SystemSampler::fail_once(const std::string& what) {
  if (std::find(m_failures.begin(), m_failures.end(), what) == m_failures.end())
    m_failures.push_back(what);
}

std::optional<std::int64_t> SystemSampler::read_own_cpu_ticks() {
  const auto line = read_first_line(m_proc / "self" / "stat");
  // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
  const auto close = line ? line->rfind(')') : std::string::npos;
  if (close == std::string::npos) {
    fail_once("cannot parse " + (m_proc / "self" / "stat").string());
    return std::nullopt;
  }
  std::istringstream fields(line->substr(close + 2));
  std::string field;
  std::int64_t utime = -1, stime = -1;  // -1 until found: a short line is an error
  for (int index = 0; index < 13 && fields >> field; ++index) {
    if (index == 11) utime = parse_number<std::int64_t>(field).value_or(-1);
    if (index == 12) stime = parse_number<std::int64_t>(field).value_or(-1);
  }
  if (utime < 0 || stime < 0) {
    fail_once("cannot parse " + (m_proc / "self" / "stat").string());
    return std::nullopt;
  }
  return utime + stime;
}

SystemSample SystemSampler::sample_system() {
  SystemSample sample;
  const auto cpu = read_cpu_ticks(m_proc / "stat");
  if (!cpu) fail_once("cannot parse " + (m_proc / "stat").string());
  const auto own = read_own_cpu_ticks();
  if (cpu && m_previous_cpu) {
    sample.cpu_percent = busy_percent(*m_previous_cpu, *cpu);
    if (sample.cpu_percent && own && m_previous_own_ticks) {
      const std::int64_t others =
          (cpu->busy - m_previous_cpu->busy) - (*own - *m_previous_own_ticks);
      sample.other_cpu_ns = std::max<std::int64_t>(others, 0) * m_tick_ns;
    }
  }
  if (cpu) m_previous_cpu = cpu;
  if (own) m_previous_own_ticks = own;

  if (const auto memory = read_memory_totals(m_proc / "meminfo"))
    sample.memory_percent = memory->used_percent();
  else
    fail_once("cannot parse " + (m_proc / "meminfo").string());
  {
    std::ifstream in(m_proc / "loadavg");
    std::string one, five, fifteen, running;
    if (in >> one >> five >> fifteen >> running) {
      sample.load1 = parse_number<double>(one);
      sample.load5 = parse_number<double>(five);
      sample.load15 = parse_number<double>(fifteen);
      const auto slash = running.find('/');
      sample.procs_running = parse_number<std::int64_t>(running.substr(0, slash));
    }
    if (!sample.load1 || !sample.load5 || !sample.load15)
      fail_once("cannot parse " + (m_proc / "loadavg").string());
  }
  {
    std::ifstream in(m_proc / "self" / "io");
    std::map<std::string, std::int64_t> io;
    std::string key;
    std::string value;
    while (in >> key >> value)
      if (auto number = parse_number<std::int64_t>(value)) io[key] = *number;
    auto take = [&](const char* name) -> std::optional<std::int64_t> {
      const auto it = io.find(name);
      return it == io.end() ? std::nullopt : std::optional<std::int64_t>(it->second);
    };
    sample.io_read_bytes = take("read_bytes:");
    sample.io_write_bytes = take("write_bytes:");
    sample.io_syscr = take("syscr:");
    sample.io_syscw = take("syscw:");
    sample.io_rchar = take("rchar:");
    sample.io_wchar = take("wchar:");
    if (io.empty()) fail_once("cannot read " + (m_proc / "self" / "io").string());
  }
  return sample;
}

std::vector<SensorReading> SystemSampler::sample_sensors() const {
  std::vector<SensorReading> readings;
  for (const auto& cpu : entries_with_prefix(m_sys / "devices/system/cpu", "cpu")) {
    const std::string name = cpu.filename().string();
    if (name.size() < 4 || !std::isdigit(static_cast<unsigned char>(name[3]))) continue;
    if (const auto khz = read_number(cpu / "cpufreq" / "scaling_cur_freq"))
      readings.push_back({"cpufreq_khz", name, *khz});
  }
  for (const auto& zone : entries_with_prefix(m_sys / "class/thermal", "thermal_zone")) {
    if (const auto millidegrees = read_number(zone / "temp")) {
      const std::string type = read_first_line(zone / "type").value_or("?");
      readings.push_back(
          {"temperature_c", zone.filename().string() + " (" + type + ")", *millidegrees / 1000.0});
    }
  }
  for (const auto& hwmon : entries_with_prefix(m_sys / "class/hwmon", "hwmon")) {
    const std::string chip = read_first_line(hwmon / "name").value_or("?");
    for (const auto& input : entries_with_prefix(hwmon, "temp")) {
      const std::string file = input.filename().string();
      if (file.size() < 6 || file.substr(file.size() - 6) != "_input") continue;
      if (const auto millidegrees = read_number(input))
        readings.push_back(
            {"temperature_c",
             hwmon.filename().string() + " " + file.substr(0, file.size() - 6) + " (" + chip + ")",
             *millidegrees / 1000.0});
    }
  }
  return readings;
}

std::vector<std::string> SystemSampler::describe_sensors() const {
  std::size_t cores = 0, thermal = 0;
  for (const auto& reading : sample_sensors()) {
    if (reading.kind == "cpufreq_khz") ++cores;
    if (reading.kind == "temperature_c") ++thermal;
  }
  return {
      cores > 0 ? "cpufreq: " + std::to_string(cores) + " cores" : "cpufreq: none",
      thermal > 0 ? "temperature: " + std::to_string(thermal) + " sensors" : "temperature: none"};
}

void SystemSampler::track_file(std::string name, fs::path path) {
  m_files.emplace_back(std::move(name), std::move(path));
}

std::vector<FileSize> SystemSampler::sample_files() const {
  std::vector<FileSize> sizes;
  for (const auto& [name, path] : m_files) {
    std::error_code ec;
    const auto bytes = fs::file_size(path, ec);
    if (!ec) sizes.push_back({name, static_cast<std::int64_t>(bytes)});
  }
  return sizes;
}

}  // namespace nrmlab::telemetry

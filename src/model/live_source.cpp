#include "model/live_source.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "util/error.hpp"

namespace nrmlab::model {
namespace {

std::ifstream open_proc(const char* path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("live metric source: cannot read {}", path));
  return in;
}

struct MemoryInfo {
  double percent = 0.0;
  double used_mb = 0.0;
};

MemoryInfo read_memory() {
  std::ifstream in = open_proc("/proc/meminfo");
  std::string key;
  std::uint64_t value = 0;
  std::string unit;
  std::uint64_t total_kb = 0;
  std::uint64_t available_kb = 0;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemTotal:") total_kb = value;
    if (key == "MemAvailable:") available_kb = value;
  }
  if (total_kb == 0) throw Error("live metric source: /proc/meminfo has no MemTotal");
  const double used_kb = static_cast<double>(total_kb - std::min(available_kb, total_kb));
  return {100.0 * used_kb / static_cast<double>(total_kb), used_kb / 1024.0};
}

struct NetworkInfo {
  double sent_mb = 0.0;
  double received_mb = 0.0;
};

NetworkInfo read_network() {
  std::ifstream in("/proc/net/dev");
  NetworkInfo info;
  std::string line;
  std::uint64_t received = 0;
  std::uint64_t sent = 0;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::istringstream fields(line.substr(colon + 1));
    std::uint64_t value = 0;
    for (int column = 0; column < 9 && fields >> value; ++column) {
      if (column == 0) received += value;
      if (column == 8) sent += value;
    }
  }
  info.received_mb = static_cast<double>(received) / (1024.0 * 1024.0);
  info.sent_mb = static_cast<double>(sent) / (1024.0 * 1024.0);
  return info;
}

std::int64_t count_processes() {
  std::int64_t count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) ++count;
  }
  return count;
}

}  // namespace

LiveSource::LiveSource(std::filesystem::path disk_path) : m_disk_path(std::move(disk_path)) {
  struct statvfs fs {};
  if (statvfs(m_disk_path.c_str(), &fs) != 0)
    throw Error(
        fmt::format("live metric source: cannot stat file system of {}", m_disk_path.string()));
  read_memory();
  m_previous = read_cpu_times();
}

void LiveSource::begin_condition(int) {
  m_previous = read_cpu_times();
}

LiveSource::CpuTimes LiveSource::read_cpu_times() {
  std::ifstream in = open_proc("/proc/stat");
  std::string label;
  in >> label;
  if (label != "cpu") throw Error("live metric source: /proc/stat does not start with 'cpu'");
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  std::uint64_t field[8] = {};
  for (auto& value : field)
    in >> value;
  CpuTimes times;
  for (auto value : field)
    times.total += value;
  times.busy = times.total - field[3] - field[4];
  return times;
}

double LiveSource::cpu_percent_between(const CpuTimes& from, const CpuTimes& to) {
  if (to.total <= from.total) return 0.0;
  const double busy = static_cast<double>(to.busy - std::min(from.busy, to.busy));
  return std::clamp(100.0 * busy / static_cast<double>(to.total - from.total), 0.0, 100.0);
}

MetricSample LiveSource::sample(const SampleKey&, std::chrono::milliseconds window) {
  MetricSample sample;
  if (window.count() > 0) m_previous = read_cpu_times();
  block(window);
  const CpuTimes now = read_cpu_times();
  sample.cpu_percent = cpu_percent_between(m_previous, now);
  m_previous = now;

  const MemoryInfo memory = read_memory();
  sample.memory_percent = memory.percent;
  sample.memory_used_mb = memory.used_mb;

  struct statvfs fs {};
  if (statvfs(m_disk_path.c_str(), &fs) == 0) {
    const double block = static_cast<double>(fs.f_frsize);
    const double used = static_cast<double>(fs.f_blocks - fs.f_bfree) * block;
    const double available = static_cast<double>(fs.f_bavail) * block;
    sample.disk_percent = used + available > 0.0 ? 100.0 * used / (used + available) : 0.0;
    sample.disk_used_gb = used / (1024.0 * 1024.0 * 1024.0);
  }
  const NetworkInfo network = read_network();
  sample.network_sent_mb = network.sent_mb;
  sample.network_recv_mb = network.received_mb;
  sample.process_count = count_processes();
  sample.timestamp = wall_clock_seconds();
  return sample;
}

}  // namespace nrmlab::model

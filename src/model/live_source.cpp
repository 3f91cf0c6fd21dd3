#include "model/live_source.hpp"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "util/error.hpp"
#include "util/proc_stat.hpp"

namespace nrmlab::model {
namespace {

struct MemoryInfo {
  double percent = 0.0;
  double used_mb = 0.0;
};

MemoryInfo read_memory() {
  const auto totals = read_memory_totals("/proc/meminfo");
  if (!totals) throw Error("live metric source: cannot parse /proc/meminfo");
  return {totals->used_percent(), static_cast<double>(totals->used_kb()) / 1024.0};
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
  m_previous = read_cpu_ticks_or_throw();
}

void LiveSource::begin_condition(int) {
  m_previous = read_cpu_ticks_or_throw();
}

nlohmann::json LiveSource::save_state() const {
  return {{"cpu_busy", m_previous.busy}, {"cpu_total", m_previous.total}};
}

void LiveSource::restore_state(const nlohmann::json& state) {
  m_previous.busy = state.at("cpu_busy").get<std::int64_t>();
  m_previous.total = state.at("cpu_total").get<std::int64_t>();
}

CpuTicks LiveSource::read_cpu_ticks_or_throw() {
  const auto ticks = read_cpu_ticks("/proc/stat");
  if (!ticks) throw Error("live metric source: cannot parse the cpu line of /proc/stat");
  return *ticks;
}

MetricSample LiveSource::sample(const SampleKey&, std::chrono::milliseconds window) {
  MetricSample sample;
  if (window.count() > 0) m_previous = read_cpu_ticks_or_throw();
  block(window);
  const CpuTicks now = read_cpu_ticks_or_throw();
  // Two reads within one clock tick see no elapsed time: the model needs a number, and 0 is
  // what the original's psutil reported then too.
  sample.cpu_percent = busy_percent(m_previous, now).value_or(0.0);
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

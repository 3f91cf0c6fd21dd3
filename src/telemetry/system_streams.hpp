// The side streams: what the machine and the process are doing around the engine, read at
// their own cadence (on the recorder's background thread). Roots are injectable so tests
// can feed malformed or missing files; anything unreadable is absent, never zero.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/proc_stat.hpp"

namespace nrmlab::telemetry {

struct SystemSample {
  std::optional<double> cpu_percent;     // all cores, since the previous sample
  std::optional<double> memory_percent;  // (total - available) / total
  std::optional<double> load1, load5, load15;
  std::optional<std::int64_t> procs_running;
  // CPU time of everything but this process since the previous sample (contention).
  std::optional<std::int64_t> other_cpu_ns;
  // This process's I/O (/proc/self/io).
  std::optional<std::int64_t> io_read_bytes, io_write_bytes, io_syscr, io_syscw, io_rchar, io_wchar;
};

struct SensorReading {
  std::string kind;  // "cpufreq_khz" or "temperature_c"
  std::string name;  // "cpu0", "thermal_zone0 (x86_pkg_temp)", "hwmon1 temp1 (coretemp)"
  double value = 0.0;
};

struct FileSize {
  std::string name;
  std::int64_t bytes = 0;
};

class SystemSampler {
 public:
  SystemSampler(std::filesystem::path proc_root = "/proc", std::filesystem::path sys_root = "/sys");

  SystemSample sample_system();
  std::vector<SensorReading> sample_sensors() const;
  // Which sensors exist here, e.g. {"cpufreq: 2 cores", "thermal: none", "hwmon: none"}.
  std::vector<std::string> describe_sensors() const;
  // Files whose size is tracked (the databases and their WAL files); absent ones skipped.
  void track_file(std::string name, std::filesystem::path path);
  std::vector<FileSize> sample_files() const;
  // Problems met so far (each reported once), for the run's meta table.
  const std::vector<std::string>& failures() const { return m_failures; }
  // Records a problem met by a caller reading alongside (reported once).
  void note_failure(const std::string& what) { fail_once(what); }

 private:
  std::optional<std::int64_t> read_own_cpu_ticks();
  void fail_once(const std::string& what);

  std::filesystem::path m_proc;
  std::filesystem::path m_sys;
  std::optional<CpuTicks> m_previous_cpu;
  std::optional<std::int64_t> m_previous_own_ticks;
  std::int64_t m_tick_ns = 10'000'000;
  std::vector<std::pair<std::string, std::filesystem::path>> m_files;
  std::vector<std::string> m_failures;
};

}  // namespace nrmlab::telemetry

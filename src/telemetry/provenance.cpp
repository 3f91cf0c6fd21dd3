#include "telemetry/provenance.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include "build_info.hpp"

namespace nrmlab::telemetry {
namespace {

std::string first_line_or(const std::filesystem::path& path, const std::string& fallback) {
  std::ifstream in(path);
  std::string line;
  if (in && std::getline(in, line) && !line.empty()) return line;
  return fallback;
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("g++ ") + __VERSION__;
#else
  return "unknown";
#endif
}

std::string cpu_model(const std::filesystem::path& proc_root) {
  std::ifstream in(proc_root / "cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "unknown";
}

}  // namespace

MetaEntries collect_provenance(const AllocatorProbe& allocator, const SystemSampler& system,
                               const std::filesystem::path& proc_root,
                               const std::filesystem::path& sys_root) {
  MetaEntries meta;
  meta.emplace_back("nrmlab_version", build_info::k_version);
  meta.emplace_back("nrmlab_commit", build_info::k_commit);
  meta.emplace_back("compiler", compiler());
  meta.emplace_back("allocator", allocator.name());
  meta.emplace_back("allocator_version", allocator.version());
  const char* arena_max = std::getenv("MALLOC_ARENA_MAX");
  meta.emplace_back("malloc_arena_max", arena_max != nullptr ? arena_max : "unset");
  const char* preload = std::getenv("LD_PRELOAD");
  meta.emplace_back("ld_preload", preload != nullptr ? preload : "");
  utsname names{};
  if (uname(&names) == 0)
    meta.emplace_back("kernel", std::string(names.sysname) + " " + names.release + " " +
                                    names.version + " " + names.machine);
  meta.emplace_back("cpu_model", cpu_model(proc_root));
  meta.emplace_back("cores", std::to_string(std::thread::hardware_concurrency()));
  meta.emplace_back(
      "governor",
      first_line_or(sys_root / "devices/system/cpu/cpu0/cpufreq/scaling_governor", "absent"));
  meta.emplace_back("thp_mode",
                    first_line_or(sys_root / "kernel/mm/transparent_hugepage/enabled", "absent"));
  std::string sensors;
  for (const auto& line : system.describe_sensors())
    sensors += (sensors.empty() ? "" : "; ") + line;
  meta.emplace_back("sensors", sensors);
  return meta;
}

namespace {

std::int64_t read_clock_ns(clockid_t clock) {
  timespec now{};
  ::clock_gettime(clock, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

}  // namespace

std::string utc_iso8601(std::int64_t unix_ns) {
  const std::int64_t seconds =
      unix_ns >= 0 ? unix_ns / 1'000'000'000 : -((-unix_ns + 999'999'999) / 1'000'000'000);
  const std::int64_t micros = (unix_ns - seconds * 1'000'000'000) / 1000;
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", utc.tm_year + 1900,
                     utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, micros);
}

MetaEntries start_time_meta(std::int64_t origin_ns) {
  // Realtime on both sides of the monotonic reading: their midpoint is its realtime twin.
  const std::int64_t before = read_clock_ns(CLOCK_REALTIME);
  const std::int64_t monotonic = read_clock_ns(CLOCK_MONOTONIC);
  const std::int64_t after = read_clock_ns(CLOCK_REALTIME);
  const std::int64_t unix_ns = before + (after - before) / 2 - (monotonic - origin_ns);
  return {{"start.utc", utc_iso8601(unix_ns)},
          {"start.unix_ns", std::to_string(unix_ns)},
          {"start.monotonic_ns", std::to_string(origin_ns)}};
}

}  // namespace nrmlab::telemetry

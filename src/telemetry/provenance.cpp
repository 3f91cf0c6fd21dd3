#include "telemetry/provenance.hpp"

#include <sys/utsname.h>

#include <cstdlib>
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

}  // namespace nrmlab::telemetry

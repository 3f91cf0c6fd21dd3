#include "telemetry/allocator.hpp"

#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <malloc.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace nrmlab::telemetry {
namespace {

class GlibcProbe final : public AllocatorProbe {
 public:
  std::string name() const override { return "glibc"; }
  std::string version() const override { return gnu_get_libc_version(); }
  AllocatorStats read() override {
    const struct mallinfo2 info = mallinfo2();
    AllocatorStats stats;
    const auto bytes = [](std::size_t value) { return static_cast<std::int64_t>(value); };
    stats.allocated = bytes(info.uordblks + info.hblkhd);
    stats.active = bytes(info.arena + info.hblkhd);  // obtained from the system
    stats.free_bytes = bytes(info.fordblks);
    stats.mmapped = bytes(info.hblkhd);
    stats.top_pad = bytes(info.keepcost);
    return stats;
  }
};

class JemallocProbe final : public AllocatorProbe {
 public:
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  explicit JemallocProbe(Mallctl mallctl) : m_mallctl(mallctl) {}
  std::string name() const override { return "jemalloc"; }
  std::string version() const override {
    const char* version = nullptr;
    std::size_t size = sizeof version;
    if (m_mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr)
      return "unknown";
    return version;
  }
  AllocatorStats read() override {
    // Statistics are cached; writing "epoch" refreshes them.
    std::uint64_t epoch = 1;
    std::size_t epoch_size = sizeof epoch;
    m_mallctl("epoch", &epoch, &epoch_size, &epoch, epoch_size);
    AllocatorStats stats;
    stats.allocated = value("stats.allocated");
    stats.active = value("stats.active");
    stats.resident = value("stats.resident");
    stats.mapped = value("stats.mapped");
    stats.retained = value("stats.retained");
    stats.metadata = value("stats.metadata");
    return stats;
  }

 private:
  std::optional<std::int64_t> value(const char* key) const {
    std::size_t value = 0;
    std::size_t size = sizeof value;
    if (m_mallctl(key, &value, &size, nullptr, 0) != 0) return std::nullopt;
    return static_cast<std::int64_t>(value);
  }
  Mallctl m_mallctl;
};

class MimallocProbe final : public AllocatorProbe {
 public:
  using ProcessInfo = void (*)(std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*,
                               std::size_t*, std::size_t*, std::size_t*);
  using Version = int (*)();
  MimallocProbe(ProcessInfo process_info, Version version)
      : m_process_info(process_info), m_version(version) {}
  std::string name() const override { return "mimalloc"; }
  std::string version() const override {
    if (m_version == nullptr) return "unknown";
    const int v = m_version();  // e.g. 209 for 2.0.9
    return std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." +
           std::to_string(v % 10);
  }
  AllocatorStats read() override {
    std::size_t elapsed = 0, user = 0, system = 0, rss = 0, peak_rss = 0, commit = 0,
                peak_commit = 0, faults = 0;
    m_process_info(&elapsed, &user, &system, &rss, &peak_rss, &commit, &peak_commit, &faults);
    AllocatorStats stats;
    // mimalloc's release builds keep no allocation statistics, and on Linux its
    // "current rss" is a copy of its committed bytes: committed memory is all it reports.
    stats.mapped = static_cast<std::int64_t>(commit);
    return stats;
  }

 private:
  ProcessInfo m_process_info;
  Version m_version;
};

class UnknownProbe final : public AllocatorProbe {
 public:
  explicit UnknownProbe(std::string library) : m_library(std::move(library)) {}
  std::string name() const override { return "unknown (" + m_library + ")"; }
  std::string version() const override { return "unknown"; }
  AllocatorStats read() override { return {}; }

 private:
  std::string m_library;
};

}  // namespace

std::unique_ptr<AllocatorProbe> detect_allocator() {
  Dl_info info{};
  // The address malloc resolves to in this process tells which library serves it.
  void* malloc_address = reinterpret_cast<void*>(&::malloc);
  std::string library = "unknown";
  if (dladdr(malloc_address, &info) != 0 && info.dli_fname != nullptr)
    library = std::filesystem::path(info.dli_fname).filename().string();

  if (library.find("jemalloc") != std::string::npos) {
    if (auto* mallctl = reinterpret_cast<JemallocProbe::Mallctl>(dlsym(RTLD_DEFAULT, "mallctl")))
      return std::make_unique<JemallocProbe>(mallctl);
  }
  if (library.find("mimalloc") != std::string::npos) {
    auto* process_info =
        reinterpret_cast<MimallocProbe::ProcessInfo>(dlsym(RTLD_DEFAULT, "mi_process_info"));
    auto* version = reinterpret_cast<MimallocProbe::Version>(dlsym(RTLD_DEFAULT, "mi_version"));
    if (process_info != nullptr) return std::make_unique<MimallocProbe>(process_info, version);
  }
  if (library.find("libc.so") != std::string::npos) return std::make_unique<GlibcProbe>();
  return std::make_unique<UnknownProbe>(library);
}

}  // namespace nrmlab::telemetry

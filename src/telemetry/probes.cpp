#include "telemetry/probes.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "util/parse.hpp"

namespace nrmlab::telemetry {

std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

std::int64_t thread_cpu_ns() {
  timespec used{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used);
  return static_cast<std::int64_t>(used.tv_sec) * 1'000'000'000 + used.tv_nsec;
}

ThreadCpuClock::ThreadCpuClock(std::int64_t exact_from_ns) : m_exact_from_ns(exact_from_ns) {
  if (exact_from_ns <= 0) {  // no shortcut wanted: no event to open
    m_how = "system call (no telemetry budget)";
    return;
  }
  // A dummy software event counts nothing and costs nothing: only its user page is wanted.
  // Excluding the kernel and hypervisor keeps it within perf_event_paranoid 2.
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_DUMMY;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  m_fd = static_cast<int>(syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC));
  if (m_fd < 0) {
    m_how = fmt::format("system call (perf_event_open: {})", std::strerror(errno));
    return;
  }
  void* page = mmap(nullptr, static_cast<std::size_t>(sysconf(_SC_PAGESIZE)), PROT_READ, MAP_SHARED,
                    m_fd, 0);
  if (page == MAP_FAILED) {
    m_how = fmt::format("system call (mmap of the perf page: {})", std::strerror(errno));
    close(m_fd);
    m_fd = -1;
    return;
  }
  m_page = page;
  m_how = fmt::format("switch-checked (intervals under {} us without a context switch)",
                      exact_from_ns / 1000);
}

ThreadCpuClock::~ThreadCpuClock() {
  if (m_page != nullptr) munmap(m_page, static_cast<std::size_t>(sysconf(_SC_PAGESIZE)));
  if (m_fd >= 0) close(m_fd);
}

std::uint32_t ThreadCpuClock::sequence() const {
  if (m_page == nullptr) return 0;
  const auto* page = static_cast<const volatile perf_event_mmap_page*>(m_page);
  const std::uint32_t sequence = page->lock;
  std::atomic_signal_fence(std::memory_order_seq_cst);  // not moved across the clock read
  return sequence;
}

std::int64_t ThreadCpuClock::at(std::int64_t wall_ns, std::uint32_t sequence_before) {
  const std::uint32_t after = sequence();
  // The previous boundary's sequence was read before its wall clock, this one's after this
  // wall clock: equal means no switch anywhere in the interval.
  const bool unswitched = m_page != nullptr && m_anchored && after == m_last_sequence &&
                          wall_ns - m_last_wall_ns < m_exact_from_ns;
  std::int64_t cpu = 0;
  if (unswitched) {
    cpu = m_last_cpu_ns + (wall_ns - m_last_wall_ns);
    ++m_shortcut;
  } else {
    cpu = thread_cpu_ns();
    ++m_exact;
  }
  m_anchored = true;
  m_last_sequence = sequence_before;
  m_last_wall_ns = wall_ns;
  m_last_cpu_ns = cpu;
  return cpu;
}

ThreadUsage read_thread_usage() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  const auto ns = [](const timeval& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 +
           static_cast<std::int64_t>(t.tv_usec) * 1'000;
  };
  return {ns(usage.ru_utime), ns(usage.ru_stime), usage.ru_nvcsw,
          usage.ru_nivcsw,    usage.ru_minflt,    usage.ru_majflt};
}

ThreadSchedstat::ThreadSchedstat(const std::filesystem::path& proc_root)
    : m_path((proc_root / "thread-self/schedstat").string()) {
  m_fd = open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (m_fd < 0) {
    m_unavailable = "cannot open " + m_path + ": " + std::strerror(errno);
    return;
  }
  const auto first = read();
  // The calling thread is running, so it has been put on a CPU at least once: all zeros
  // can only mean a kernel that keeps no statistics.
  if (!first || first->empty()) {
    m_unavailable = m_path + (first ? " reads 0 0 0: the kernel keeps no scheduler statistics"
                                    : " cannot be read or parsed");
    close(m_fd);
    m_fd = -1;
  }
}

ThreadSchedstat::~ThreadSchedstat() {
  if (m_fd >= 0) close(m_fd);
}

std::optional<Schedstat> ThreadSchedstat::read() const {
  if (m_fd < 0) return std::nullopt;
  std::array<char, 128> buffer{};
  const ssize_t got = pread(m_fd, buffer.data(), buffer.size() - 1, 0);
  if (got <= 0) return std::nullopt;
  return parse_schedstat(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
}

ProcessMemory::ProcessMemory(std::filesystem::path proc_self) : m_proc_self(std::move(proc_self)) {
  m_statm_fd = open((m_proc_self / "statm").c_str(), O_RDONLY | O_CLOEXEC);
  const long page = sysconf(_SC_PAGESIZE);
  if (page > 0) m_page_size = page;
}

ProcessMemory::~ProcessMemory() {
  if (m_statm_fd >= 0) close(m_statm_fd);
}

std::optional<std::int64_t> ProcessMemory::rss_bytes() {
  if (m_statm_fd < 0) return std::nullopt;
  std::array<char, 128> buffer{};
  const ssize_t got = pread(m_statm_fd, buffer.data(), buffer.size() - 1, 0);
  if (got <= 0) return std::nullopt;
  // "size resident shared text lib data dt", in pages.
  const std::string_view text(buffer.data(), static_cast<std::size_t>(got));
  const auto first_space = text.find(' ');
  if (first_space == std::string_view::npos) return std::nullopt;
  const auto second_space = text.find(' ', first_space + 1);
  const auto pages =
      parse_number<std::int64_t>(text.substr(first_space + 1, second_space - first_space - 1));
  if (!pages) return std::nullopt;
  return *pages * m_page_size;
}

std::optional<std::int64_t> ProcessMemory::pss_bytes() const {
  std::ifstream in(m_proc_self / "smaps_rollup");
  std::string key;
  std::string value;
  std::string unit;
  while (in >> key >> value >> unit) {
    if (key == "Pss:") {
      const auto kib = parse_number<std::int64_t>(value);
      if (!kib || unit != "kB") return std::nullopt;
      return *kib * 1024;
    }
    std::getline(in, unit);  // lines have varying shapes: skip the rest
  }
  return std::nullopt;
}

std::int64_t time_allocation_probe() {
  // Small objects, where fragmentation lives; about 30 KiB in all, below glibc's trim
  // threshold, so the probe times the allocator rather than brk/madvise system calls.
  constexpr std::array<std::size_t, 7> k_sizes = {16, 32, 64, 128, 256, 512, 1024};
  constexpr std::size_t k_count = 112;
  std::array<void*, k_count> blocks{};
  const std::int64_t started = monotonic_ns();
  for (std::size_t i = 0; i < k_count; ++i) {
    blocks[i] = std::malloc(k_sizes[i % k_sizes.size()]);
    if (blocks[i] != nullptr) *static_cast<volatile char*>(blocks[i]) = 1;  // keep it real
  }
  // Free every other block first, then the rest: holes before reuse, like a real heap.
  for (std::size_t i = 0; i < k_count; i += 2)
    std::free(blocks[i]);
  for (std::size_t i = 1; i < k_count; i += 2)
    std::free(blocks[i]);
  return monotonic_ns() - started;
}

}  // namespace nrmlab::telemetry

#include "telemetry/profile/sampler.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>
#include <system_error>
#include <utility>

#include "util/error.hpp"
#include "util/parse.hpp"
#include "util/proc_stat.hpp"
#include "util/unique_fd.hpp"

namespace nrmlab::telemetry::profile {
namespace {

namespace fs = std::filesystem;

constexpr const char* k_force_unavailable_env = "NRMLAB_PROFILE_UNAVAILABLE";
constexpr unsigned k_max_frequency_hz = 10'000;      // the kernel's floor for hrtimer periods
constexpr std::uint32_t k_max_stack_bytes = 65'528;  // sample_stack_user < USHRT_MAX, aligned
// A ring smaller than this cannot hold one sample with a 16 KiB stack; mmap's halving on a
// locked-memory limit stops here.
constexpr std::uint32_t k_min_ring_pages = 8;
constexpr std::uint64_t k_sampler_sample_type = PERF_SAMPLE_IDENTIFIER | PERF_SAMPLE_TID |
                                                PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN |
                                                PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;

std::string sampler_errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

enum class SamplerEventKind { cpu_clock, switches };

perf_event_attr sampler_attr(SamplerEventKind kind, const SamplerOptions& options,
                             std::uint64_t period_ns, bool kernel_mode, bool kernel_chain) {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  const bool clock = kind == SamplerEventKind::cpu_clock;
  attr.config = clock ? PERF_COUNT_SW_CPU_CLOCK : PERF_COUNT_SW_CONTEXT_SWITCHES;
  attr.sample_period = clock ? period_ns : 1;
  attr.sample_type = k_sampler_sample_type;
  attr.sample_regs_user = k_user_regs_mask;
  attr.sample_stack_user = options.stack_bytes;
  attr.use_clockid = 1;
  attr.clockid = CLOCK_MONOTONIC;
  attr.sample_id_all = 1;  // switch and lost records carry pid, tid, time and the event id
  attr.exclude_kernel = kernel_mode ? 0 : 1;
  attr.exclude_hv = 1;
  attr.exclude_callchain_kernel = kernel_chain ? 0 : 1;
  attr.context_switch = clock ? 0 : 1;
  return attr;
}

int open_sampler_event(perf_event_attr& attr, pid_t tid, int group_fd = -1) {
  return static_cast<int>(
      ::syscall(SYS_perf_event_open, &attr, tid, -1, group_fd, PERF_FLAG_FD_CLOEXEC));
}

std::uint64_t sampler_period_ns(const SamplerOptions& options) {
  return 1'000'000'000ULL / options.frequency_hz;
}

SamplerOptions validated_sampler_options(SamplerOptions options) {
  if (options.frequency_hz == 0 || options.frequency_hz > k_max_frequency_hz)
    throw Error(fmt::format("profile: frequency_hz {} is not in 1..{}", options.frequency_hz,
                            k_max_frequency_hz));
  if (options.stack_bytes % 8 != 0 || options.stack_bytes > k_max_stack_bytes)
    throw Error(fmt::format("profile: stack_bytes {} is not a multiple of 8 in 0..{}",
                            options.stack_bytes, k_max_stack_bytes));
  if (!std::has_single_bit(options.ring_pages) || options.ring_pages < k_min_ring_pages)
    throw Error(fmt::format("profile: ring_pages {} is not a power of two >= {}",
                            options.ring_pages, k_min_ring_pages));
  return options;
}

std::optional<int> read_perf_paranoid() {
  std::ifstream in("/proc/sys/kernel/perf_event_paranoid");
  std::string text;
  if (!(in >> text)) return std::nullopt;
  return parse_number<int>(text);
}

// 0 none, 1 strict, 2 filter (a container's profile): /proc/self/status's Seccomp field.
int read_seccomp_mode() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Seccomp:", 0) != 0) continue;
    const auto mode =
        parse_number<int>(std::string_view(line).substr(line.find_last_of(" \t") + 1));
    return mode.value_or(0);
  }
  return 0;
}

struct SamplerFailure {
  std::string reason;
  std::string hint;
};

SamplerFailure explain_perf_permission(const std::string& text) {
  const std::optional<int> paranoid = read_perf_paranoid();
  const std::string level = paranoid ? std::to_string(*paranoid) : "unreadable";
  if (read_seccomp_mode() == 2 && (!paranoid || *paranoid <= 2))
    return {text + ": a seccomp filter blocks the system call (Seccomp: 2 in /proc/self/status)",
            "the container's seccomp profile blocks perf_event_open: allow it (docker or podman "
            "run --security-opt seccomp=<a profile that permits perf_event_open>, or "
            "seccomp=unconfined) or run outside the container"};
  if (paranoid && *paranoid > 2)
    return {fmt::format("{}: kernel.perf_event_paranoid is {}, which forbids perf_event_open "
                        "to processes without CAP_PERFMON",
                        text, level),
            "sysctl kernel.perf_event_paranoid=2 (user stacks; 1 adds kernel stacks), or run "
            "with CAP_PERFMON or as root"};
  return {fmt::format("{}: refused to this process (kernel.perf_event_paranoid is {}; a "
                      "security module or a missing capability)",
                      text, level),
          "run as root or with CAP_PERFMON (setcap cap_perfmon+ep on the program), or "
          "sysctl kernel.perf_event_paranoid=1"};
}

SamplerFailure explain_perf_error(int error) {
  const std::string text = "perf_event_open: " + sampler_errno_text(error);
  switch (error) {
    case EACCES:
    case EPERM:
      return explain_perf_permission(text);
    case ENOSYS:
      return {text + ": the kernel has no perf events, or a seccomp filter answers ENOSYS",
              "a kernel built with CONFIG_PERF_EVENTS=y; in a container, a seccomp profile "
              "that permits perf_event_open"};
    case ENOENT:
    case ENODEV:
    case EOPNOTSUPP:
      return {text +
                  ": the kernel does not offer the software CPU-clock or context-switch "
                  "event",
              "a kernel built with CONFIG_PERF_EVENTS=y (software events)"};
    case EINVAL:
      return {text +
                  ": the kernel rejected the event's settings (use_clockid needs Linux "
                  "4.1, switch records 4.3, x86-64 user registers)",
              "Linux 4.17 or later on x86-64"};
    case EMFILE:
    case ENFILE:
      return {text + ": no file descriptor left (two per sampled thread)",
              "raise the descriptor limit (ulimit -n)"};
    default:
      return {text, "none known"};
  }
}

Availability unavailable_sampling(SamplerFailure failure) {
  Availability result;
  result.reason = std::move(failure.reason);
  result.enable_hint = std::move(failure.hint);
  return result;
}

// Opens and closes one event on the calling thread; 0 or the errno.
int try_sampler_event(SamplerEventKind kind, const SamplerOptions& options, bool kernel_mode) {
  perf_event_attr attr =
      sampler_attr(kind, options, sampler_period_ns(options), kernel_mode, kernel_mode);
  UniqueFd fd(open_sampler_event(attr, 0));
  return fd.valid() ? 0 : errno;
}

}  // namespace

Availability probe_sampling(const SamplerOptions& options) {
  if (const char* forced = std::getenv(k_force_unavailable_env); forced != nullptr)
    return unavailable_sampling(
        {*forced != '\0' ? forced : "forced", "unset NRMLAB_PROFILE_UNAVAILABLE"});
#if !defined(__x86_64__)
  return unavailable_sampling({"the sampler knows the x86-64 user registers only",
                               "run on x86-64 (no other architecture is supported yet)"});
#endif
  bool kernel_mode = false;
  if (!options.assume_unprivileged) {
    const int error = try_sampler_event(SamplerEventKind::cpu_clock, options, true);
    if (error != 0 && error != EACCES && error != EPERM)
      return unavailable_sampling(explain_perf_error(error));
    kernel_mode = error == 0;
  }
  if (!kernel_mode) {
    if (const int error = try_sampler_event(SamplerEventKind::cpu_clock, options, false))
      return unavailable_sampling(explain_perf_error(error));
  }
  Availability result;
  result.available = true;
  result.kernel_mode = kernel_mode;
  result.kernel_stacks = kernel_mode && options.kernel_stacks;
  if (!kernel_mode) {
    result.note = fmt::format(
        "user stacks only: kernel-mode samples need root, CAP_PERFMON or "
        "kernel.perf_event_paranoid<=1 (it is {}){}; on-CPU time in system calls is not "
        "sampled and off-CPU intervals carry no stack (sysctl kernel.perf_event_paranoid=1 "
        "enables both)",
        read_perf_paranoid().value_or(-1), options.assume_unprivileged ? ", assumed" : "");
  }
  if (options.off_cpu) {
    if (const int error = try_sampler_event(SamplerEventKind::switches, options, kernel_mode)) {
      const SamplerFailure failure = explain_perf_error(error);
      result.note += fmt::format("{}off-CPU time not sampled: {} ({})",
                                 result.note.empty() ? "" : "; ", failure.reason, failure.hint);
    } else {
      result.off_cpu = true;
      result.off_cpu_stacks = kernel_mode;
    }
  }
  return result;
}

// ---- record decoding ------------------------------------------------------------------

namespace {

// Reads fixed-size fields out of a record without alignment assumptions.
class SamplerRecordCursor {
 public:
  explicit SamplerRecordCursor(std::span<const std::byte> bytes) : m_bytes(bytes) {}
  template <typename T>
  bool take(T& value) {
    if (m_bytes.size() - m_pos < sizeof(T)) return false;
    std::memcpy(&value, m_bytes.data() + m_pos, sizeof(T));
    m_pos += sizeof(T);
    return true;
  }
  std::size_t left() const { return m_bytes.size() - m_pos; }
  std::span<const std::byte> take_bytes(std::size_t count) {
    const std::span<const std::byte> part = m_bytes.subspan(m_pos, count);
    m_pos += count;
    return part;
  }

 private:
  std::span<const std::byte> m_bytes;
  std::size_t m_pos = 0;
};

// sample_id_all's trailer with the sampler's sample_type: TID, TIME, IDENTIFIER.
struct SamplerSampleId {
  std::uint32_t pid = 0;
  std::uint32_t tid = 0;
  std::uint64_t time_ns = 0;
  std::uint64_t id = 0;
};
constexpr std::size_t k_sample_id_bytes = 24;

std::optional<SamplerSampleId> sampler_trailer(std::span<const std::byte> record) {
  if (record.size() < sizeof(perf_event_header) + k_sample_id_bytes) return std::nullopt;
  SamplerRecordCursor cursor(record.subspan(record.size() - k_sample_id_bytes));
  SamplerSampleId id;
  cursor.take(id.pid);
  cursor.take(id.tid);
  cursor.take(id.time_ns);
  cursor.take(id.id);
  return id;
}

bool decode_user_regs(SamplerRecordCursor& cursor, UserRegs& regs) {
  if (!cursor.take(regs.abi)) return false;
  if (regs.abi == PERF_SAMPLE_REGS_ABI_NONE) return true;
  for (std::size_t reg = 0; reg < k_user_regs; ++reg) {
    if ((k_user_regs_mask >> reg & 1U) == 0) continue;
    if (!cursor.take(regs.values[reg])) return false;
  }
  return true;
}

bool decode_user_stack(SamplerRecordCursor& cursor, RawSample& out) {
  std::uint64_t size = 0;
  if (!cursor.take(size)) return false;
  if (size == 0) return true;  // a kernel thread, or no registers to copy from
  if (cursor.left() < size + sizeof(std::uint64_t)) return false;
  const std::span<const std::byte> bytes = cursor.take_bytes(size);
  std::uint64_t dynamic = 0;
  cursor.take(dynamic);
  const std::size_t valid = std::min(dynamic, size);
  out.stack.resize(valid);
  // An empty copy (the kernel copied nothing: dynamic size 0) leaves data() null, which
  // memcpy must not be given even for 0 bytes.
  if (valid > 0) std::memcpy(out.stack.data(), bytes.data(), valid);
  out.stack_address = out.regs.sp();
  return true;
}

}  // namespace

void split_callchain(std::span<const std::uint64_t> chain, std::vector<std::uint64_t>& kernel,
                     std::vector<std::uint64_t>& user) {
  // Entries before any marker are kernel addresses: the kernel writes its marker first.
  std::vector<std::uint64_t>* into = &kernel;
  for (const std::uint64_t entry : chain) {
    if (entry >= PERF_CONTEXT_MAX) {
      if (entry == PERF_CONTEXT_KERNEL)
        into = &kernel;
      else if (entry == PERF_CONTEXT_USER)
        into = &user;
      else
        into = nullptr;  // hypervisor or guest addresses: not ours to unwind
      continue;
    }
    if (into != nullptr) into->push_back(entry);
  }
}

std::optional<std::uint64_t> decode_sample(std::span<const std::byte> record, RawSample& out) {
  SamplerRecordCursor cursor(record);
  perf_event_header header{};
  std::uint64_t id = 0;
  std::uint64_t count = 0;
  if (!cursor.take(header) || !cursor.take(id) || !cursor.take(out.pid) || !cursor.take(out.tid) ||
      !cursor.take(out.time_ns) || !cursor.take(count) ||
      cursor.left() / sizeof(std::uint64_t) < count)
    return std::nullopt;
  std::vector<std::uint64_t> chain(count);
  for (std::uint64_t& entry : chain)
    cursor.take(entry);
  out.kernel_chain.clear();
  out.user_chain.clear();
  split_callchain(chain, out.kernel_chain, out.user_chain);
  out.wait = WaitClass::on_cpu;
  out.weight_ns = 0;
  out.regs = UserRegs{};
  out.stack.clear();
  out.stack_address = 0;
  if (!decode_user_regs(cursor, out.regs) || !decode_user_stack(cursor, out)) return std::nullopt;
  return id;
}

namespace {

void copy_out_of_ring(std::span<const std::byte> data, std::uint64_t from, std::byte* to,
                      std::size_t count) {
  const std::size_t offset = from & (data.size() - 1);
  const std::size_t first = std::min(count, data.size() - offset);
  std::memcpy(to, data.data() + offset, first);
  std::memcpy(to + first, data.data(), count - first);
}

}  // namespace

std::size_t read_ring_records(std::span<const std::byte> data, std::uint64_t tail,
                              std::uint64_t head, std::vector<std::byte>& scratch,
                              const std::function<void(std::span<const std::byte>)>& on_record) {
  std::size_t records = 0;
  while (head - tail >= sizeof(perf_event_header)) {
    perf_event_header header{};
    copy_out_of_ring(data, tail, reinterpret_cast<std::byte*>(&header), sizeof header);
    if (header.size < sizeof header || header.size > head - tail) break;
    const std::size_t offset = tail & (data.size() - 1);
    if (offset + header.size <= data.size()) {
      on_record(data.subspan(offset, header.size));
    } else {
      scratch.resize(header.size);
      copy_out_of_ring(data, tail, scratch.data(), header.size);
      on_record(scratch);
    }
    tail += header.size;
    ++records;
  }
  return records;
}

// ---- off-CPU intervals ----------------------------------------------------------------

void OffCpuTracker::on_switch_sample(RawSample sample) {
  // A pending interval here lost its switch-in (or this sample's switch-out record preceded
  // nothing we saw): it cannot be measured.
  if (m_pending) ++m_unpaired;
  sample.wait = WaitClass::other;
  sample.weight_ns = 0;
  m_pending = std::move(sample);
  m_switched_out = false;
}

void OffCpuTracker::on_switch_out(std::int32_t pid, std::int32_t tid, std::uint64_t time_ns,
                                  bool preempted) {
  if (m_pending && m_switched_out) {
    ++m_unpaired;
    m_pending.reset();
  }
  if (!m_pending) {
    // No sample before this switch (lost, or kernel-mode samples not permitted): the
    // interval is still measured, without a stack.
    RawSample stackless;
    stackless.pid = pid;
    stackless.tid = tid;
    stackless.time_ns = time_ns;
    stackless.wait = WaitClass::other;
    m_pending = std::move(stackless);
  }
  m_switched_out = true;
  m_out_ns = time_ns;
  if (preempted) m_pending->wait = WaitClass::run_queue;
}

std::optional<RawSample> OffCpuTracker::on_switch_in(std::uint64_t time_ns) {
  if (!m_pending || !m_switched_out) return std::nullopt;  // began before we attached
  RawSample sample = std::move(*m_pending);
  m_pending.reset();
  m_switched_out = false;
  sample.weight_ns = time_ns > m_out_ns ? time_ns - m_out_ns : 0;
  return sample;
}

// ---- the ring buffer and the threads --------------------------------------------------

// Named, not anonymous: StackSampler::Thread (external linkage) holds one.
namespace sampler_detail {

// One thread's perf ring: the metadata page and 2^n data pages, unmapped on destruction.
class SamplerRing {
 public:
  SamplerRing() = default;
  ~SamplerRing() { unmap(); }
  SamplerRing(const SamplerRing&) = delete;
  SamplerRing& operator=(const SamplerRing&) = delete;

  // Maps `pages` data pages, halving them while the locked-memory limit refuses (an
  // unprivileged user has kernel.perf_event_mlock_kb, 516 KiB by default, for all rings).
  // 0 or the errno of the last attempt.
  int map(int fd, std::uint32_t pages) {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    for (;; pages /= 2) {
      const std::size_t length = (std::size_t{pages} + 1) * page;
      void* base = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (base != MAP_FAILED) {
        m_base = base;
        m_length = length;
        const auto* meta = static_cast<const perf_event_mmap_page*>(base);
        const std::size_t offset = meta->data_offset != 0 ? meta->data_offset : page;
        const std::size_t size = meta->data_size != 0 ? meta->data_size : pages * page;
        m_data = {static_cast<const std::byte*>(base) + offset, size};
        return 0;
      }
      const int error = errno;
      if ((error != EPERM && error != ENOMEM) || pages / 2 < k_min_ring_pages) return error;
    }
  }
  std::span<const std::byte> data() const { return m_data; }
  std::uint64_t head() const { return __atomic_load_n(&meta()->data_head, __ATOMIC_ACQUIRE); }
  std::uint64_t tail() const { return meta()->data_tail; }
  // Hands the space up to `tail` back to the kernel, after the records are read.
  void set_tail(std::uint64_t tail) {
    __atomic_store_n(&meta()->data_tail, tail, __ATOMIC_RELEASE);
  }

 private:
  perf_event_mmap_page* meta() const { return static_cast<perf_event_mmap_page*>(m_base); }
  void unmap() {
    if (m_base != nullptr) ::munmap(m_base, m_length);
    m_base = nullptr;
  }
  void* m_base = nullptr;
  std::size_t m_length = 0;
  std::span<const std::byte> m_data;
};

}  // namespace sampler_detail

namespace {

// Whether a thread's event reports its exit (POLLHUP once the task is gone).
bool sampled_thread_exited(int fd) {
  pollfd entry{fd, POLLIN, 0};
  if (::poll(&entry, 1, 0) < 0) return false;
  return (entry.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace

struct StackSampler::Thread {
  pid_t pid = 0;
  pid_t tid = 0;
  UniqueFd clock_fd;   // owns the ring
  UniqueFd switch_fd;  // writes into clock_fd's ring (PERF_EVENT_IOC_SET_OUTPUT)
  std::uint64_t clock_id = 0;
  std::uint64_t switch_id = 0;
  sampler_detail::SamplerRing ring;
  OffCpuTracker off_cpu;
  std::vector<std::byte> scratch;
};

StackSampler::StackSampler(pid_t pid, SamplerOptions options)
    : m_pid(pid), m_options(validated_sampler_options(options)) {
  m_period_ns = sampler_period_ns(m_options);
  m_status = probe_sampling(m_options);
  if (!m_status.available) return;
  if (refresh_threads() > 0) return;
  // Not one thread: the target is gone, or may not be sampled by this process.
  Availability failed;
  if (m_first_error == 0) {
    failed.reason = fmt::format("no process {} to sample (it exited, or never existed)", pid);
    failed.enable_hint = "start sampling while the process runs";
  } else if (m_first_error == EACCES || m_first_error == EPERM) {
    failed.reason = fmt::format(
        "cannot sample process {}: {}: this process may not trace it "
        "(another user's process, or kernel.yama.ptrace_scope)",
        pid, sampler_errno_text(m_first_error));
    failed.enable_hint =
        "run as the process's owner or as root, or sysctl kernel.yama.ptrace_scope=0";
  } else {
    const SamplerFailure failure = explain_perf_error(m_first_error);
    failed.reason = fmt::format("cannot sample process {}: {}", pid, m_first_failure);
    failed.enable_hint = failure.hint;
  }
  m_status = std::move(failed);
}

StackSampler::~StackSampler() = default;
StackSampler::StackSampler(StackSampler&&) noexcept = default;
StackSampler& StackSampler::operator=(StackSampler&&) noexcept = default;

std::uint64_t StackSampler::unpaired() const {
  std::uint64_t total = m_unpaired_closed;
  for (const auto& [tid, thread] : m_threads)
    total += thread->off_cpu.unpaired();
  return total;
}

void StackSampler::note_open_failure(pid_t tid, const std::string& what, int error) {
  if (error == ESRCH || error == ENOENT) return;  // the thread exited meanwhile
  if (m_first_error != 0) return;                 // one note is enough; the rest repeat it
  m_first_error = error;
  m_first_failure = fmt::format("{}: {}", what, sampler_errno_text(error));
  m_status.note += fmt::format("{}thread {} not sampled: {}", m_status.note.empty() ? "" : "; ",
                               tid, m_first_failure);
}

bool StackSampler::open_thread(pid_t pid, pid_t tid) {
  auto thread = std::make_unique<Thread>();
  thread->pid = pid;
  thread->tid = tid;
  perf_event_attr clock = sampler_attr(SamplerEventKind::cpu_clock, m_options, m_period_ns,
                                       m_status.kernel_mode, m_status.kernel_stacks);
  thread->clock_fd = UniqueFd(open_sampler_event(clock, tid));
  if (!thread->clock_fd.valid()) {
    note_open_failure(tid, "perf_event_open", errno);
    return false;
  }
  if (const int error = thread->ring.map(thread->clock_fd.get(), m_options.ring_pages)) {
    note_open_failure(tid, "mmap of the ring (sysctl kernel.perf_event_mlock_kb)", error);
    return false;
  }
  if (::ioctl(thread->clock_fd.get(), PERF_EVENT_IOC_ID, &thread->clock_id) != 0) {
    note_open_failure(tid, "PERF_EVENT_IOC_ID", errno);
    return false;
  }
  if (m_status.off_cpu) {
    perf_event_attr switches = sampler_attr(SamplerEventKind::switches, m_options, m_period_ns,
                                            m_status.kernel_mode, m_status.kernel_stacks);
    thread->switch_fd = UniqueFd(open_sampler_event(switches, tid));
    const bool joined =
        thread->switch_fd.valid() &&
        ::ioctl(thread->switch_fd.get(), PERF_EVENT_IOC_SET_OUTPUT, thread->clock_fd.get()) == 0 &&
        ::ioctl(thread->switch_fd.get(), PERF_EVENT_IOC_ID, &thread->switch_id) == 0;
    if (!joined) {
      // On-CPU samples of this thread are still worth having.
      note_open_failure(tid, "the context-switch event", errno);
      thread->switch_fd.reset();
    }
  }
  m_threads.emplace(tid, std::move(thread));
  return true;
}

std::size_t StackSampler::refresh_threads() {
  if (!m_status.available) return 0;
  std::vector<pid_t> processes{m_pid};
  if (m_options.children) {
    const std::vector<pid_t> descendants = descendant_processes(m_pid);
    processes.insert(processes.end(), descendants.begin(), descendants.end());
  }
  std::size_t opened = 0;
  std::set<pid_t> listed;
  for (const pid_t process : processes) {
    for (const pid_t tid : numeric_entries(fmt::format("/proc/{}/task", process))) {
      listed.insert(tid);
      if (m_threads.contains(tid) || m_finished.contains(tid)) continue;
      if (m_options.ignored_tids.contains(tid)) continue;
      if (open_thread(process, tid)) ++opened;
    }
  }
  // A finished thread no longer listed is gone for good: forget it, so the set stays small
  // and a later thread that reuses its id is sampled.
  std::erase_if(m_finished, [&](pid_t tid) { return !listed.contains(tid); });
  return opened;
}

void StackSampler::handle_record(Thread& thread, std::span<const std::byte> record,
                                 std::vector<RawSample>& out) {
  perf_event_header header{};
  std::memcpy(&header, record.data(), sizeof header);
  switch (header.type) {
    case PERF_RECORD_SAMPLE: {
      RawSample sample;
      const std::optional<std::uint64_t> id = decode_sample(record, sample);
      if (!id) return;
      if (*id == thread.clock_id) {
        sample.weight_ns = m_period_ns;
        out.push_back(std::move(sample));
      } else if (thread.switch_fd.valid() && *id == thread.switch_id) {
        thread.off_cpu.on_switch_sample(std::move(sample));
      }
      return;
    }
    case PERF_RECORD_SWITCH: {
      const std::optional<SamplerSampleId> id = sampler_trailer(record);
      if (!id) return;
      if ((header.misc & PERF_RECORD_MISC_SWITCH_OUT) != 0) {
        const bool preempted = (header.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT) != 0;
        thread.off_cpu.on_switch_out(static_cast<std::int32_t>(id->pid),
                                     static_cast<std::int32_t>(id->tid), id->time_ns, preempted);
      } else if (auto sample = thread.off_cpu.on_switch_in(id->time_ns)) {
        out.push_back(std::move(*sample));
      }
      return;
    }
    case PERF_RECORD_LOST:
    case PERF_RECORD_LOST_SAMPLES: {
      // LOST: {id, lost}; LOST_SAMPLES: {lost}; both then the trailer.
      SamplerRecordCursor cursor(record.subspan(sizeof header));
      std::uint64_t first = 0;
      std::uint64_t lost = 0;
      if (!cursor.take(first)) return;
      if (header.type == PERF_RECORD_LOST && !cursor.take(lost)) return;
      m_lost += header.type == PERF_RECORD_LOST ? lost : first;
      return;
    }
    case PERF_RECORD_THROTTLE:
      ++m_throttled;
      return;
    default:
      return;
  }
}

std::size_t StackSampler::drain(std::vector<RawSample>& out) {
  const std::size_t before = out.size();
  for (auto it = m_threads.begin(); it != m_threads.end();) {
    Thread& thread = *it->second;
    // Asked first: a thread seen gone has written its last record, so one read finishes it.
    const bool exited = sampled_thread_exited(thread.clock_fd.get());
    const std::uint64_t head = thread.ring.head();
    read_ring_records(
        thread.ring.data(), thread.ring.tail(), head, thread.scratch,
        [&](std::span<const std::byte> record) { handle_record(thread, record, out); });
    thread.ring.set_tail(head);
    if (exited) {
      m_unpaired_closed += thread.off_cpu.unpaired();
      m_finished.insert(it->first);
      it = m_threads.erase(it);
    } else {
      ++it;
    }
  }
  return out.size() - before;
}

}  // namespace nrmlab::telemetry::profile

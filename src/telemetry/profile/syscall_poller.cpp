#include "telemetry/profile/syscall_poller.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/perf_event.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "util/error.hpp"
#include "util/parse.hpp"
#include "util/proc_stat.hpp"
#include "util/unique_fd.hpp"

namespace nrmlab::telemetry::profile {
namespace {

constexpr std::uint32_t k_poller_max_stack_bytes = 512 * 1024;
// perf's x86-64 register slots in UserRegs::values (asm/perf_regs.h).
constexpr std::size_t k_poller_perf_bp = 6;
constexpr std::size_t k_poller_perf_sp = 7;
constexpr std::size_t k_poller_perf_ip = 8;
// Descendant processes are found by reading every /proc/<pid>/stat: too dear for every
// look at a fast polling interval, and a process younger than this is missed only briefly.
constexpr std::uint64_t k_poller_descendant_rescan_ns = 1'000'000'000;
// The executable mappings are re-read when an address is in none of them (dlopen), but at
// most this often: a scan for frame records tries many words that are not code.
constexpr std::uint64_t k_poller_code_reread_ns = 1'000'000'000;

std::string poller_errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::uint64_t poller_monotonic_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ULL +
         static_cast<std::uint64_t>(now.tv_nsec);
}

// A whole small /proc file in one read (the syscall and stat files are a line each; the
// kernel renders them afresh per open). Returns the errno on failure.
struct ProcRead {
  std::string text;
  int error = 0;
};
ProcRead poller_read_small_file(const std::string& path) {
  ProcRead result;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    result.error = errno;
    return result;
  }
  char buffer[512];
  const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
  if (n < 0) {
    result.error = errno;
    return result;
  }
  result.text.assign(buffer, static_cast<std::size_t>(n));
  return result;
}

// The state letter of /proc/<pid>/stat ("pid (comm) S ppid ..."): the command may hold
// spaces and parentheses, so it is read after the last ')'.
std::optional<char> poller_read_state(const std::string& path) {
  const ProcRead stat = poller_read_small_file(path);
  const std::size_t close = stat.text.rfind(')');
  if (stat.error != 0 || close == std::string::npos || close + 2 >= stat.text.size())
    return std::nullopt;
  return stat.text[close + 2];
}

bool poller_parse_hex(std::string_view field, std::uint64_t& value) {
  if (field.size() < 3 || field[0] != '0' || field[1] != 'x') return false;
  const char* first = field.data() + 2;
  const char* last = field.data() + field.size();
  auto [end, ec] = std::from_chars(first, last, value, 16);
  return ec == std::errc{} && end == last;
}

// Copies `into.size()` bytes from `from` in process `pid`, one remote range per page: a
// partial copy is only promised at the granularity of ranges, and the stack's mapping may
// end less than stack_bytes above sp (a main thread's stack, near its top).
// Returns the bytes copied, or -errno.
ssize_t poller_copy_stack(pid_t pid, std::uint64_t from, std::vector<std::uint8_t>& into) {
  constexpr std::uint64_t k_page = 4096;
  std::vector<iovec> remote;
  const std::uint64_t end = from + into.size();
  for (std::uint64_t at = from; at < end;) {
    const std::uint64_t next = std::min<std::uint64_t>((at | (k_page - 1)) + 1, end);
    remote.push_back({reinterpret_cast<void*>(at), static_cast<std::size_t>(next - at)});
    at = next;
  }
  iovec local{into.data(), into.size()};
  const ssize_t copied = ::process_vm_readv(pid, &local, 1, remote.data(), remote.size(), 0);
  return copied < 0 ? -errno : copied;
}

// Why a first read of the target's syscall file failed, and what would let it succeed.
PollerStatus poller_unavailable(pid_t pid, int error) {
  PollerStatus status;
  const std::string file = fmt::format("/proc/{}/task/{}/syscall", pid, pid);
  if (error == ENOENT || error == ESRCH) {
    if (::access(fmt::format("/proc/{}", pid).c_str(), F_OK) != 0) {
      status.reason = fmt::format("no process {} to poll (it exited, or never existed)", pid);
      status.enable_hint = "start polling while the process runs";
    } else {
      status.reason = fmt::format("{} does not exist: this kernel lacks it", file);
      status.enable_hint =
          "a kernel built with CONFIG_HAVE_ARCH_TRACEHOOK (any x86-64 distribution kernel)";
    }
  } else if (error == EACCES || error == EPERM) {
    status.reason = fmt::format(
        "cannot read {}: {}: it needs the access ptrace would (another user's process, or "
        "kernel.yama.ptrace_scope >= 1 and the process is not a descendant of this one)",
        file, poller_errno_text(error));
    status.enable_hint =
        "run nrmlab as the process's user and start the program from nrmlab, or "
        "sysctl -w kernel.yama.ptrace_scope=0, or grant CAP_SYS_PTRACE";
  } else {
    status.reason = fmt::format("cannot read {}: {}", file, poller_errno_text(error));
    status.enable_hint = "a readable /proc (mounted, not hidepid=2 for this user)";
  }
  return status;
}

}  // namespace

// ---- parsing and classifying ----------------------------------------------------------

SyscallLine parse_syscall_line(std::string_view text) {
  SyscallLine line;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  std::vector<std::string_view> fields;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    fields.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  if (fields.size() != 3 && fields.size() != 9) return line;  // "running", or malformed
  const auto nr = parse_number<long>(fields[0]);
  if (!nr || (*nr < 0) != (fields.size() == 3)) return line;
  const std::size_t args = fields.size() - 3;
  for (std::size_t i = 0; i < args; ++i) {
    if (!poller_parse_hex(fields[1 + i], line.args[i])) return line;
  }
  if (!poller_parse_hex(fields[1 + args], line.sp) || !poller_parse_hex(fields[2 + args], line.pc))
    return line;
  line.nr = *nr;
  line.valid = true;
  return line;
}

namespace {

WaitClass classify_fd_target(std::string_view target) {
  if (target.starts_with("pipe:") || target.starts_with("socket:")) return WaitClass::network;
  if (target.starts_with('/')) return WaitClass::disk;  // a regular file or a block device
  return WaitClass::other;
}

bool is_descriptor_io_syscall(long nr) {
  switch (nr) {
    case SYS_read:
    case SYS_write:
    case SYS_pread64:
    case SYS_pwrite64:
    case SYS_readv:
    case SYS_writev:
    case SYS_preadv:
    case SYS_pwritev:
    case SYS_preadv2:
    case SYS_pwritev2:
      return true;
    default:
      return false;
  }
}

}  // namespace

WaitClass classify_syscall(long nr, std::span<const std::uint64_t> args,
                           std::string_view fd_target) {
  const auto arg = [&](std::size_t i) { return i < args.size() ? args[i] : 0; };
  if (is_descriptor_io_syscall(nr)) return classify_fd_target(fd_target);
  switch (nr) {
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
      return WaitClass::sleep;
    // Without a descriptor to watch they are a sleep with a timeout (or forever).
    case SYS_select:
    case SYS_pselect6:
      return arg(0) == 0 ? WaitClass::sleep : WaitClass::network;
    case SYS_poll:
    case SYS_ppoll:
      return arg(1) == 0 ? WaitClass::sleep : WaitClass::network;
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
      return WaitClass::network;
    case SYS_fsync:
    case SYS_fdatasync:
    case SYS_sync_file_range:
    case SYS_msync:
    case SYS_sync:
    case SYS_syncfs:
      return WaitClass::disk;
    case SYS_futex:
#ifdef SYS_futex_waitv
    case SYS_futex_waitv:
#endif
      return WaitClass::lock;
    case SYS_accept:
    case SYS_accept4:
    case SYS_connect:
    case SYS_recvfrom:
    case SYS_recvmsg:
    case SYS_recvmmsg:
    case SYS_sendto:
    case SYS_sendmsg:
    case SYS_sendmmsg:
      return WaitClass::network;
    default:
      return WaitClass::other;  // wait4, waitid, pause, rt_sigtimedwait, ...
  }
}

std::string describe_fd(pid_t pid, std::uint64_t fd) {
  const std::string link = fmt::format("/proc/{}/fd/{}", pid, fd);
  char buffer[4096];
  const ssize_t n = ::readlink(link.c_str(), buffer, sizeof buffer);
  if (n <= 0) return {};
  std::string target(buffer, static_cast<std::size_t>(n));
  if (!target.starts_with('/')) return target;
  // A path may name something that is not storage: stat follows the link to the file the
  // descriptor holds (even a deleted one), and its type says which.
  struct stat info {};
  if (::stat(link.c_str(), &info) != 0) return target;
  if (S_ISFIFO(info.st_mode)) return "pipe:" + target;
  if (S_ISSOCK(info.st_mode)) return "socket:" + target;
  if (S_ISCHR(info.st_mode)) return "char:" + target;
  return target;
}

namespace {

std::uint64_t poller_stack_word(std::span<const std::uint8_t> stack, std::uint64_t offset) {
  std::uint64_t value = 0;
  std::memcpy(&value, stack.data() + offset, sizeof value);
  return value;
}

// The executable mappings of /proc/<pid>/maps ("begin-end r-xp ..."), sorted.
std::vector<std::pair<std::uint64_t, std::uint64_t>> poller_read_code_ranges(pid_t pid) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  std::ifstream in(fmt::format("/proc/{}/maps", pid));
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t dash = line.find('-');
    const std::size_t space = line.find(' ');
    if (dash == std::string::npos || space == std::string::npos || dash > space ||
        space + 3 >= line.size() || line[space + 3] != 'x') {
      continue;
    }
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
    const char* text = line.data();
    if (std::from_chars(text, text + dash, begin, 16).ec != std::errc{} ||
        std::from_chars(text + dash + 1, text + space, end, 16).ec != std::errc{}) {
      continue;
    }
    ranges.emplace_back(begin, end);
  }
  std::sort(ranges.begin(), ranges.end());
  return ranges;
}

bool poller_in_ranges(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges,
                      std::uint64_t address) {
  auto it = std::upper_bound(ranges.begin(), ranges.end(), address,
                             [](std::uint64_t a, const auto& r) { return a < r.first; });
  return it != ranges.begin() && address < std::prev(it)->second;
}

}  // namespace

std::optional<std::uint64_t> scan_frame_pointer(std::span<const std::uint8_t> stack,
                                                std::uint64_t stack_address,
                                                const std::function<bool(std::uint64_t)>& is_code) {
  constexpr std::uint64_t k_word = 8;
  const std::uint64_t size = stack.size() & ~(k_word - 1);
  const std::uint64_t first = (k_word - stack_address % k_word) % k_word;
  const std::uint64_t end = stack_address + size;
  // A frame record at `offset`: [A] = the caller's record (above A, 8-aligned, inside the
  // copy), [A + 8] = a return address. The address tests come first: they are cheap and
  // reject nearly every word, so is_code is asked about few.
  const auto caller_record = [&](std::uint64_t offset) -> std::optional<std::uint64_t> {
    const std::uint64_t next = poller_stack_word(stack, offset);
    const std::uint64_t address = stack_address + offset;
    if (next <= address || next >= end || next % k_word != 0) return std::nullopt;
    if (next - stack_address + 2 * k_word > size) return std::nullopt;
    if (!is_code(poller_stack_word(stack, offset + k_word))) return std::nullopt;
    return next - stack_address;
  };
  for (std::uint64_t offset = first; offset + 2 * k_word <= size; offset += k_word) {
    const auto next_offset = caller_record(offset);
    if (!next_offset) continue;
    // The second record: the outermost frame's (its caller's record 0), or one above it.
    const std::uint64_t after = poller_stack_word(stack, *next_offset);
    if ((after == 0 || after > stack_address + *next_offset) &&
        is_code(poller_stack_word(stack, *next_offset + k_word))) {
      return stack_address + offset;
    }
  }
  return std::nullopt;
}

bool SyscallPoller::is_code(pid_t pid, std::uint64_t address) {
  if (address < 4096 || address >= (std::uint64_t{1} << 47)) return false;  // x86-64 user
  CodeRanges& code = m_code[pid];
  if (poller_in_ranges(code.ranges, address)) return true;
  const std::uint64_t now = poller_monotonic_ns();
  if (code.read_ns != 0 && now - code.read_ns < k_poller_code_reread_ns) return false;
  code.ranges = poller_read_code_ranges(pid);
  code.read_ns = now;
  return poller_in_ranges(code.ranges, address);
}

// ---- SyscallPoller --------------------------------------------------------------------

SyscallPoller::SyscallPoller(pid_t pid, bool children, std::set<pid_t> ignored_tids,
                             std::uint32_t stack_bytes)
    : m_pid(pid),
      m_children(children),
      m_ignored(std::move(ignored_tids)),
      m_stack_bytes(stack_bytes) {
  if (stack_bytes % 8 != 0 || stack_bytes > k_poller_max_stack_bytes) {
    throw Error(fmt::format("profile: poller stack_bytes {} is not a multiple of 8 in 0..{}",
                            stack_bytes, k_poller_max_stack_bytes));
  }
  if (pid <= 0) {
    m_status.reason = fmt::format("no process {} to poll (not a process id)", pid);
    m_status.enable_hint = "a running process's id";
    return;
  }
  // The main thread's file tells whether the others can be read: they share its checks.
  const ProcRead first = poller_read_small_file(fmt::format("/proc/{}/task/{}/syscall", pid, pid));
  if (first.error != 0) {
    m_status = poller_unavailable(pid, first.error);
    return;
  }
  m_status.available = true;
}

std::vector<pid_t> SyscallPoller::processes() {
  std::vector<pid_t> result{m_pid};
  if (!m_children) return result;
  const std::uint64_t now = poller_monotonic_ns();
  if (!m_descendants_scanned || now - m_descendants_scanned_ns >= k_poller_descendant_rescan_ns) {
    m_descendants = descendant_processes(m_pid);
    m_descendants_scanned = true;
    m_descendants_scanned_ns = now;
  }
  result.insert(result.end(), m_descendants.begin(), m_descendants.end());
  return result;
}

std::size_t SyscallPoller::poll(std::uint64_t weight_ns, std::vector<RawSample>& out) {
  if (!m_status.available) return 0;
  const std::size_t before = out.size();
  bool target_alive = false;
  const std::vector<pid_t> polled = processes();
  std::erase_if(m_code, [&](const auto& entry) {
    return std::find(polled.begin(), polled.end(), entry.first) == polled.end();
  });
  for (const pid_t process : polled) {
    const std::vector<pid_t> tids = numeric_entries(fmt::format("/proc/{}/task", process));
    if (process == m_pid) target_alive = !tids.empty();
    for (const pid_t tid : tids) {
      if (m_ignored.contains(tid)) continue;
      sample_thread(process, tid, weight_ns, out);
    }
  }
  // A zombie keeps its /proc entry but no tasks to read; either way nothing more comes.
  if (!target_alive) {
    m_status.available = false;
    m_status.reason = fmt::format("process {} has exited", m_pid);
    m_status.enable_hint = "poll while the process runs";
  }
  return out.size() - before;
}

bool SyscallPoller::sample_thread(pid_t pid, pid_t tid, std::uint64_t weight_ns,
                                  std::vector<RawSample>& out) {
  const std::string task = fmt::format("/proc/{}/task/{}/", pid, tid);
  const ProcRead text = poller_read_small_file(task + "syscall");
  if (text.error != 0) return false;  // gone since the listing, or not ours to read
  const SyscallLine line = parse_syscall_line(text.text);
  // "running" (on a CPU or runnable: perf's on-CPU and run-queue time), or outside a system
  // call (a page fault, a stop).
  if (!line.valid || line.nr < 0) return false;
  // Blocked, not stopped (T, t) or dying: only S and D are waits of the program's own.
  const auto state = poller_read_state(task + "stat");
  if (!state || (*state != 'S' && *state != 'D')) return false;

  RawSample sample;
  sample.pid = pid;
  sample.tid = tid;
  sample.time_ns = poller_monotonic_ns();
  sample.weight_ns = weight_ns;
  const std::string fd_target =
      is_descriptor_io_syscall(line.nr) ? describe_fd(pid, line.args[0]) : std::string();
  sample.wait = classify_syscall(line.nr, line.args, fd_target);
  sample.regs.abi = PERF_SAMPLE_REGS_ABI_64;
  sample.regs.values[k_poller_perf_ip] = line.pc;
  sample.regs.values[k_poller_perf_sp] = line.sp;
  sample.regs.known =
      (std::uint64_t{1} << k_poller_perf_ip) | (std::uint64_t{1} << k_poller_perf_sp);
  sample.stack_address = line.sp;
  sample.stack.resize(m_stack_bytes);
  if (m_stack_bytes > 0) {
    const ssize_t copied = poller_copy_stack(pid, line.sp, sample.stack);
    if (copied == -ESRCH) return false;  // the process exited meanwhile
    if ((copied == -EPERM || copied == -ENOSYS) && !m_stack_copy_failed) {
      m_stack_copy_failed = true;
      m_status.note = fmt::format(
          "stacks are not copied (process_vm_readv: {}): samples carry only the blocked "
          "call's address; a seccomp profile that allows process_vm_readv would add them",
          poller_errno_text(static_cast<int>(-copied)));
    }
    sample.stack.resize(copied > 0 ? static_cast<std::size_t>(copied) : 0);
  }
  const auto frame_pointer = scan_frame_pointer(sample.stack, sample.stack_address,
                                                [&](std::uint64_t a) { return is_code(pid, a); });
  if (frame_pointer) {
    sample.regs.values[k_poller_perf_bp] = *frame_pointer;
    sample.regs.known |= std::uint64_t{1} << k_poller_perf_bp;
  }
  out.push_back(std::move(sample));
  return true;
}

}  // namespace nrmlab::telemetry::profile

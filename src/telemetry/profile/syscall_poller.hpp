// Off-CPU stacks without kernel sampling (issue 18): a poller of the system calls the
// target's threads are blocked in, from /proc/<pid>/task/<tid>/syscall.
//
// Why: the sampler's off-CPU stacks come from the context-switch event's samples, which
// happen in kernel mode; without kernel sampling (not root, no CAP_PERFMON,
// kernel.perf_event_paranoid >= 2) the off-CPU intervals are measured but stackless. What
// an unprivileged process may still read of its own children is the syscall file: for a
// thread blocked in a system call, "nr a1 a2 a3 a4 a5 a6 sp pc" (the user sp and pc at
// the syscall instruction); "running" for a thread on a CPU or runnable; "-1 sp pc" for a
// thread stopped outside a system call (a page fault). wchan reads 0 on these kernels.
// With the user stack copied from sp (process_vm_readv) the Unwinder's DWARF walk finds
// the callers, from ip and sp alone: the other registers are unknown (UserRegs::known).
//
// Each look stands for the caller's polling interval of wall time per blocked thread, so
// the samples' weights add up to the time spent blocked, to within the interval. Both
// files need the access ptrace would (PTRACE_MODE_ATTACH): the process's own user, and
// with kernel.yama.ptrace_scope 1 a descendant (nrmlab's own child is one).
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/profile/sample.hpp"

namespace nrmlab::telemetry::profile {

struct PollerStatus {
  bool available = false;
  std::string reason;       // why not (the process, the file, the errno)
  std::string enable_hint;  // what would enable it
  // What is limited though available: stacks that cannot be copied (process_vm_readv
  // refused, e.g. by a seccomp filter), so samples carry only the ip.
  std::string note;
};

class SyscallPoller {
 public:
  // Threads of `pid` (and with `children`, of its descendant processes, like StackSampler),
  // except `ignored_tids`. Never throws for a process that is gone or unreadable: status().
  // Throws nrmlab::Error for a stack_bytes that is not a multiple of 8 up to 512 KiB.
  SyscallPoller(pid_t pid, bool children, std::set<pid_t> ignored_tids,
                std::uint32_t stack_bytes = 16 * 1024);

  const PollerStatus& status() const { return m_status; }

  // One look at every thread: for each thread blocked in a system call (state S or D and
  // the syscall file gives "nr a1..a6 sp pc"), appends a RawSample: pid, tid, time_ns
  // (CLOCK_MONOTONIC now), weight_ns = `weight_ns` (the polling interval), wait =
  // classify_syscall(...), regs (abi 64, ip = pc, sp = sp, and bp when scan_frame_pointer
  // finds it; only those known), stack = up to
  // stack_bytes from sp (stack_address = sp). Running threads and threads stopped outside
  // a system call are skipped (on-CPU time is perf's). Threads and (with `children`)
  // processes that appeared since the last call are found: tasks are listed at every
  // call, descendants at most once a second (a scan of all of /proc). Returns how many
  // samples were appended. When the target has exited, status() says so.
  std::size_t poll(std::uint64_t weight_ns, std::vector<RawSample>& out);

 private:
  bool sample_thread(pid_t pid, pid_t tid, std::uint64_t weight_ns, std::vector<RawSample>& out);
  std::vector<pid_t> processes();

  pid_t m_pid = -1;
  bool m_children = false;
  std::set<pid_t> m_ignored;
  std::uint32_t m_stack_bytes = 0;
  PollerStatus m_status;
  std::vector<pid_t> m_descendants;
  std::uint64_t m_descendants_scanned_ns = 0;
  bool m_descendants_scanned = false;
  bool m_stack_copy_failed = false;  // the note is written once
  // Executable ranges per process (for scan_frame_pointer), re-read at most once a second
  // when an address is in none (dlopen).
  struct CodeRanges {
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;  // [begin, end), sorted
    std::uint64_t read_ns = 0;
  };
  std::map<pid_t, CodeRanges> m_code;
  bool is_code(pid_t pid, std::uint64_t address);
};

// One line of /proc/<pid>/task/<tid>/syscall, parsed: `valid` false for "running" and for
// malformed text; `nr` -1 for a thread stopped outside a system call ("-1 sp pc").
struct SyscallLine {
  bool valid = false;
  long nr = -1;
  std::array<std::uint64_t, 6> args{};
  std::uint64_t sp = 0;
  std::uint64_t pc = 0;
};
SyscallLine parse_syscall_line(std::string_view text);

// The frame pointer (rbp) a blocked thread most likely holds, from its stack copy: the
// lowest 8-aligned address A in the copy where a frame record starts a chain of two,
// i.e. word[A] = B with A < B inside the copy, word[A + 8] code, and word[B] either 0 or
// above B with word[B + 8] code. The syscall file gives only sp and pc, and code built
// with frame pointers finds its callers through rbp (CFA = rbp + 16): without a value
// the walk stops in the first such frame. A guess that is wrong (a saved register that
// happens to point at a frame record) is harmless where it lands below the frame that
// saved rbp: that frame's CFI restores the saved value over it. Nullopt when no chain is
// found. `is_code` says whether an address is in an executable mapping.
std::optional<std::uint64_t> scan_frame_pointer(std::span<const std::uint8_t> stack,
                                                std::uint64_t stack_address,
                                                const std::function<bool(std::uint64_t)>& is_code);

// The wait class of a blocked system call (x86-64 numbers): nanosleep, clock_nanosleep ->
// sleep; select/pselect6 (nfds a1), poll/ppoll (nfds a2): sleep when they watch no
// descriptor, else network; epoll_wait/epoll_pwait(2) -> network (which descriptors an
// epoll set holds is not cheap to tell); fsync, fdatasync, sync_file_range, msync, sync,
// syncfs -> disk; read/write/pread64/pwrite64/readv/writev/preadv(2)/pwritev(2) on
// descriptor a1: by `fd_target`, what /proc/<pid>/fd/<a1> links to as describe_fd gives it
// ("pipe:", "socket:" -> network; a path -> disk; anything else, "char:" included ->
// other); futex, futex_waitv -> lock; accept/accept4/connect/recvfrom/recvmsg/recvmmsg/
// sendto/sendmsg/sendmmsg -> network; anything else (wait4, waitid, pause...) -> other.
WaitClass classify_syscall(long nr, std::span<const std::uint64_t> args,
                           std::string_view fd_target);

// What descriptor `fd` of process `pid` refers to, for classify_syscall: the link's text
// ("pipe:[123]", "socket:[45]", "anon_inode:[eventfd]", "/data/x.bin"), except that a path
// naming a FIFO, a socket or a character device gets "pipe:", "socket:" or "char:" before
// it (so a named pipe counts as a pipe and /dev/tty is not disk). Empty when unreadable.
std::string describe_fd(pid_t pid, std::uint64_t fd);

}  // namespace nrmlab::telemetry::profile

#include "telemetry/profile/wait_class.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

namespace nrmlab::telemetry::profile {

namespace {

// One name (exact, or a prefix) and the wait it stands for.
struct WaitNameRule {
  std::string_view name;
  WaitClass wait;
  bool prefix = false;
};

// The libc (and libpthread) calls a thread blocks in, by their public names.
//
// read/write and their variants are counted as disk, but the same calls block on pipes and
// sockets. The user frames cannot tell them apart (the descriptor is gone by the time we
// look); the kernel frames can, and they are consulted first when the sampler has them
// (pipe_read, sock_recvmsg, tcp_recvmsg, unix_stream_read_generic... against
// ext4_file_read_iter, filemap_read, io_schedule...).
constexpr std::array k_user_wait_rules = {
    WaitNameRule{"nanosleep", WaitClass::sleep},
    WaitNameRule{"clock_nanosleep", WaitClass::sleep},
    WaitNameRule{"usleep", WaitClass::sleep},
    WaitNameRule{"sleep", WaitClass::sleep},
    WaitNameRule{"select", WaitClass::sleep},
    WaitNameRule{"pselect", WaitClass::sleep},
    WaitNameRule{"pselect6", WaitClass::sleep},
    WaitNameRule{"poll", WaitClass::sleep},
    WaitNameRule{"ppoll", WaitClass::sleep},
    WaitNameRule{"epoll_wait", WaitClass::sleep},
    WaitNameRule{"epoll_pwait", WaitClass::sleep},
    WaitNameRule{"epoll_pwait2", WaitClass::sleep},
    WaitNameRule{"fsync", WaitClass::disk},
    WaitNameRule{"fdatasync", WaitClass::disk},
    WaitNameRule{"sync_file_range", WaitClass::disk},
    WaitNameRule{"msync", WaitClass::disk},
    WaitNameRule{"syncfs", WaitClass::disk},
    WaitNameRule{"sync", WaitClass::disk},
    WaitNameRule{"read", WaitClass::disk},
    WaitNameRule{"pread", WaitClass::disk},
    WaitNameRule{"readv", WaitClass::disk},
    WaitNameRule{"preadv", WaitClass::disk},
    WaitNameRule{"write", WaitClass::disk},
    WaitNameRule{"pwrite", WaitClass::disk},
    WaitNameRule{"writev", WaitClass::disk},
    WaitNameRule{"pwritev", WaitClass::disk},
    WaitNameRule{"futex", WaitClass::lock, true},  // futex, futex_wait, futex_abstimed_wait...
    WaitNameRule{"lll_lock_wait", WaitClass::lock, true},
    WaitNameRule{"pthread_mutex_lock", WaitClass::lock, true},
    WaitNameRule{"pthread_mutex_timedlock", WaitClass::lock},
    WaitNameRule{"pthread_cond_wait", WaitClass::lock},
    WaitNameRule{"pthread_cond_timedwait", WaitClass::lock},
    WaitNameRule{"pthread_cond_clockwait", WaitClass::lock},
    WaitNameRule{"pthread_rwlock_rdlock", WaitClass::lock},
    WaitNameRule{"pthread_rwlock_wrlock", WaitClass::lock},
    WaitNameRule{"pthread_barrier_wait", WaitClass::lock},
    WaitNameRule{"pthread_join", WaitClass::lock},
    WaitNameRule{"pthread_clockjoin_ex", WaitClass::lock},
    WaitNameRule{"pthread_timedjoin_np", WaitClass::lock},
    WaitNameRule{"sem_wait", WaitClass::lock},
    WaitNameRule{"sem_timedwait", WaitClass::lock},
    WaitNameRule{"recv", WaitClass::network},
    WaitNameRule{"recvfrom", WaitClass::network},
    WaitNameRule{"recvmsg", WaitClass::network},
    WaitNameRule{"recvmmsg", WaitClass::network},
    WaitNameRule{"send", WaitClass::network},
    WaitNameRule{"sendto", WaitClass::network},
    WaitNameRule{"sendmsg", WaitClass::network},
    WaitNameRule{"sendmmsg", WaitClass::network},
    WaitNameRule{"accept", WaitClass::network},
    WaitNameRule{"accept4", WaitClass::network},
    WaitNameRule{"connect", WaitClass::network},
};

// Kernel functions on the way to a page fault: looked for anywhere in the kernel chain,
// before anything else, because a fault that waits for a read of the file looks like
// disk I/O further in (io_schedule, folio_wait_bit).
constexpr std::array k_kernel_fault_rules = {
    WaitNameRule{"asm_exc_page_fault", WaitClass::page_fault},
    WaitNameRule{"exc_page_fault", WaitClass::page_fault},
    WaitNameRule{"do_user_addr_fault", WaitClass::page_fault},
    WaitNameRule{"handle_mm_fault", WaitClass::page_fault},
    WaitNameRule{"do_page_fault", WaitClass::page_fault},
    WaitNameRule{"filemap_fault", WaitClass::page_fault},
};

// Kernel functions a blocked system call waits under, matched innermost first.
constexpr std::array k_kernel_wait_rules = {
    WaitNameRule{"do_nanosleep", WaitClass::sleep},
    WaitNameRule{"hrtimer_nanosleep", WaitClass::sleep},
    WaitNameRule{"common_nsleep", WaitClass::sleep},
    WaitNameRule{"do_select", WaitClass::sleep},
    WaitNameRule{"core_sys_select", WaitClass::sleep},
    WaitNameRule{"do_sys_poll", WaitClass::sleep},
    WaitNameRule{"do_poll", WaitClass::sleep},
    WaitNameRule{"ep_poll", WaitClass::sleep},
    WaitNameRule{"do_epoll_wait", WaitClass::sleep},
    WaitNameRule{"futex_", WaitClass::lock, true},
    WaitNameRule{"do_futex", WaitClass::lock},
    WaitNameRule{"__x64_sys_futex", WaitClass::lock},
    WaitNameRule{"pipe_", WaitClass::network, true},       // pipe_read, pipe_write, pipe_wait...
    WaitNameRule{"anon_pipe_", WaitClass::network, true},  // anon_pipe_read (Linux 6.x)
    WaitNameRule{"wait_for_partner", WaitClass::network},  // opening a FIFO
    WaitNameRule{"sock_", WaitClass::network, true},
    WaitNameRule{"sk_wait_data", WaitClass::network},
    WaitNameRule{"sk_stream_wait", WaitClass::network, true},
    WaitNameRule{"tcp_", WaitClass::network, true},
    WaitNameRule{"udp_", WaitClass::network, true},
    WaitNameRule{"unix_", WaitClass::network, true},
    WaitNameRule{"inet_", WaitClass::network, true},
    WaitNameRule{"__sys_accept", WaitClass::network, true},
    WaitNameRule{"__sys_connect", WaitClass::network, true},
    WaitNameRule{"__sys_recv", WaitClass::network, true},
    WaitNameRule{"__sys_send", WaitClass::network, true},
    WaitNameRule{"vfs_fsync", WaitClass::disk, true},
    WaitNameRule{"do_fsync", WaitClass::disk},
    WaitNameRule{"ksys_sync_file_range", WaitClass::disk},
    WaitNameRule{"file_write_and_wait_range", WaitClass::disk},
    WaitNameRule{"io_schedule", WaitClass::disk, true},
    WaitNameRule{"folio_wait", WaitClass::disk, true},
    WaitNameRule{"wait_on_page", WaitClass::disk, true},
    WaitNameRule{"filemap_", WaitClass::disk, true},
    WaitNameRule{"blk_", WaitClass::disk, true},
    WaitNameRule{"jbd2_", WaitClass::disk, true},
    WaitNameRule{"ext4_", WaitClass::disk, true},
    WaitNameRule{"xfs_", WaitClass::disk, true},
    WaitNameRule{"btrfs_", WaitClass::disk, true},
};

std::string_view strip_wait_prefix(std::string_view name, std::string_view prefix) {
  if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
  return name;
}

std::string_view strip_wait_suffix(std::string_view name, std::string_view suffix) {
  if (name.size() > suffix.size() && name.ends_with(suffix)) name.remove_suffix(suffix.size());
  return name;
}

std::string_view strip_leading_underscores(std::string_view name) {
  while (name.starts_with('_'))
    name.remove_prefix(1);
  return name;
}

// A kernel symbol without the compiler's clone suffixes ("tcp_recvmsg.cold",
// "do_select.isra.0").
std::string_view kernel_function_core(std::string_view name) {
  if (auto dot = name.find('.'); dot != std::string_view::npos && dot > 0)
    name = name.substr(0, dot);
  return name;
}

template <std::size_t N>
bool match_wait_rule(const std::array<WaitNameRule, N>& rules, std::string_view name,
                     WaitClass& wait) {
  for (const auto& rule : rules) {
    if (rule.prefix ? name.starts_with(rule.name) : name == rule.name) {
      wait = rule.wait;
      return true;
    }
  }
  return false;
}

// How many innermost user frames are looked at: the blocking call is in the first few
// (syscall wrapper, its libc caller, perhaps a pthread or stdio layer); further out, a
// function named like a wait (a program's own "read") says nothing about this wait.
constexpr std::size_t k_user_wait_depth = 6;

}  // namespace

std::string_view wait_function_core(std::string_view function) {
  if (auto at = function.find('@'); at != std::string_view::npos) function = function.substr(0, at);
  function = strip_leading_underscores(function);
  function = strip_leading_underscores(strip_wait_prefix(function, "GI_"));
  function = strip_leading_underscores(strip_wait_prefix(function, "libc_"));
  function = strip_wait_suffix(function, "_nocancel");
  function = strip_wait_suffix(function, "_time64");
  function = strip_wait_suffix(function, "64");
  return function;
}

WaitClass classify_wait(std::span<const Frame> user, std::span<const Frame> kernel,
                        WaitClass from_sampler) {
  if (from_sampler != WaitClass::other) return from_sampler;
  WaitClass wait = WaitClass::other;
  for (const auto& frame : kernel) {
    if (match_wait_rule(k_kernel_fault_rules, kernel_function_core(frame.function), wait)) {
      return wait;
    }
  }
  for (const auto& frame : kernel) {
    if (match_wait_rule(k_kernel_wait_rules, kernel_function_core(frame.function), wait)) {
      return wait;
    }
  }
  const auto depth = std::min(user.size(), k_user_wait_depth);
  for (std::size_t i = 0; i < depth; ++i) {
    if (match_wait_rule(k_user_wait_rules, wait_function_core(user[i].function), wait)) {
      return wait;
    }
  }
  return WaitClass::other;
}

}  // namespace nrmlab::telemetry::profile

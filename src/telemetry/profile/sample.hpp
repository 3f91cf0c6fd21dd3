// What the wall-clock stack sampler records (issue 18), handed from the sampler
// (sampler.hpp: perf_event_open ring buffers) to the unwinder (unwinder.hpp: frames and
// symbols) and on to storage. Raw samples live only in memory, between a read of the ring
// buffers and their aggregation per step: telemetry.db stores interned stacks and counts.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nrmlab::telemetry::profile {

// Where a thread's time went at a sample: on a CPU, or off it waiting for something.
enum class WaitClass : std::uint8_t {
  on_cpu,      // running (a CPU-clock sample)
  run_queue,   // runnable but preempted: waiting for a CPU
  sleep,       // nanosleep, clock_nanosleep, select/poll/epoll with a timeout
  disk,        // fsync, fdatasync, sync_file_range, blocking reads and writes of files
  lock,        // futex (mutexes, condition variables, joins)
  network,     // sockets and pipes
  page_fault,  // waiting for a page to be read in
  other,       // off the CPU for a reason not classified
};

std::string_view to_string(WaitClass c);

// The x86-64 user registers perf samples (PERF_SAMPLE_REGS_USER), in perf's register order
// (asm/perf_regs.h: AX BX CX DX SI DI BP SP IP FLAGS CS SS DS ES FS GS R8..R15); mask
// sampler.hpp's k_user_regs_mask selects them all but the segment registers' upper half.
inline constexpr std::size_t k_user_regs = 24;  // PERF_REG_X86_64_MAX
struct UserRegs {
  std::uint64_t abi = 0;  // PERF_SAMPLE_REGS_ABI_*: 0 = none (a kernel thread)
  std::array<std::uint64_t, k_user_regs> values{};
  // Bit i set: values[i] is the register's value. perf gives them all; the syscall poller
  // (syscall_poller.hpp) only ip and sp, and an unwinder must not take the others for 0.
  std::uint64_t known = ~std::uint64_t{0};
  std::uint64_t ip() const { return values[8]; }
  std::uint64_t sp() const { return values[7]; }
  std::uint64_t bp() const { return values[6]; }
};

// One sample of one thread.
struct RawSample {
  std::int32_t pid = 0;
  std::int32_t tid = 0;
  std::uint64_t time_ns = 0;  // CLOCK_MONOTONIC (perf's use_clockid)
  WaitClass wait = WaitClass::on_cpu;
  // On-CPU samples stand for 1/frequency of CPU time; an off-CPU sample (taken at the
  // switch-out) for the time until the thread ran again (0 until known).
  std::uint64_t weight_ns = 0;
  std::vector<std::uint64_t> kernel_chain;  // return addresses, innermost first
  std::vector<std::uint64_t> user_chain;    // from frame pointers, innermost first
  UserRegs regs;                            // at the sample (user mode)
  std::uint64_t stack_address = 0;          // where `stack` was copied from (regs.sp())
  std::vector<std::uint8_t> stack;          // the user stack above sp, for DWARF unwinding
};

// One frame of an unwound stack.
struct Frame {
  std::uint64_t address = 0;  // return address (callers) or ip (the innermost frame)
  std::string function;       // demangled; empty when no symbol covers the address
  std::string module;         // the file's base name ("libc.so.6"), "[kernel]", or empty
};

}  // namespace nrmlab::telemetry::profile

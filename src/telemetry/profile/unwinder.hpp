// From a sample's registers and copied stack to symbolized frames (issue 18).
//
// Unwinding is DWARF call-frame information (.eh_frame, .debug_frame) through elfutils'
// libdwfl: Debian's programs and libraries are built without frame pointers, so the
// kernel's frame-pointer chain stops after one or two frames; the CFI of the mapped files
// does not. libdwfl was chosen over libunwind because its process-state interface lets us
// supply both the memory (the sample's copy of the stack, never the live process, which may
// have moved on or exited) and the initial registers through plain callbacks, and it also
// gives the symbols, so one library reads each file once. Where a frame has no CFI (code
// built with -fno-asynchronous-unwind-tables), libdwfl's x86-64 backend (elfutils >= 0.178;
// Debian 12 has 0.188) goes on along the frame-pointer chain from the registers the CFI
// recovered so far (ProfileUnwinder.FallsBackToFramePointersWithoutUnwindTables), so no
// frame-pointer walk of our own is needed there.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "telemetry/profile/sample.hpp"

namespace nrmlab::telemetry::profile {

// Kernel text symbols from /proc/kallsyms, read once and shared by every Unwinder of a
// run (the table is a few MB; one copy is enough).
class KernelSymbols {
 public:
  // Reads `path` (/proc/kallsyms) at the first question asked, not before: the kernel takes
  // about 0.1 s to produce the file, which a run whose samples never reach the kernel
  // should not pay. Never throws: when the file is unreadable or its addresses are hidden
  // (all zero: kernel.kptr_restrict, or no CAP_SYSLOG), `available()` is false and `why()`
  // says so and what would enable it. Thread-safe.
  explicit KernelSymbols(std::string path = "/proc/kallsyms") : m_path(std::move(path)) {}
  bool available() const;
  const std::string& why() const;
  // The function holding `address`, or empty when none does.
  std::string function_at(std::uint64_t address) const;

 private:
  void load() const;

  std::string m_path;
  mutable std::once_flag m_loaded;
  mutable std::vector<std::pair<std::uint64_t, std::string>> m_symbols;  // sorted by address
  mutable std::string m_why;
};

// True for addresses in the kernel half of x86-64's address space.
constexpr bool is_kernel_address(std::uint64_t address) {
  return address >= (1ULL << 63);
}

// Unwinds and symbolizes the samples of one process. Keeps the process's modules (from
// /proc/<pid>/maps, reported once; again when an address falls outside every known module
// and the maps changed: dlopen) and libdwfl's per-file caches (symbol tables, CFI) for its
// lifetime. Not thread-safe: one Unwinder per thread that unwinds.
class Unwinder {
 public:
  // Throws nrmlab::Error naming the pid when its maps cannot be read (no such process).
  explicit Unwinder(std::int32_t pid, std::shared_ptr<const KernelSymbols> kernel = nullptr);
  ~Unwinder();
  Unwinder(const Unwinder&) = delete;
  Unwinder& operator=(const Unwinder&) = delete;

  // The user frames of `sample`, innermost first: the sampled ip, then return addresses,
  // each symbolized (a caller's function is looked up at its return address minus one, so
  // a call that ends a function is attributed to it, not to the next one). Reads memory
  // only from sample.stack; when DWARF yields no caller at all and the sampler gave a
  // frame-pointer chain (sample.user_chain), that chain is used instead. At most
  // k_max_frames frames. Empty for a sample without user registers and chain (regs.abi 0:
  // a kernel thread); with a chain but no registers, the chain.
  std::vector<Frame> unwind(const RawSample& sample);

  // The function and module at `address` (user or kernel). A caller's return address
  // should be passed minus one.
  Frame symbolize(std::uint64_t address);

  // The kernel chain of a sample, symbolized (module "[kernel]").
  std::vector<Frame> symbolize_kernel(std::span<const std::uint64_t> chain);

  std::int32_t pid() const;

  static constexpr std::size_t k_max_frames = 128;

  // Opaque; named here (not private) so that libdwfl's C callbacks in the .cpp can use it.
  struct State;

 private:
  std::unique_ptr<State> m_state;
};

}  // namespace nrmlab::telemetry::profile

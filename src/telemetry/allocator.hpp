// Allocator statistics behind one interface, for the allocator that is actually serving
// malloc in this process: glibc (mallinfo2), jemalloc (mallctl) or mimalloc
// (mi_process_info), whether linked or preloaded with LD_PRELOAD. A field an allocator
// does not report is absent, never zero.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace nrmlab::telemetry {

struct AllocatorStats {
  std::optional<std::int64_t> allocated;   // bytes in live allocations
  std::optional<std::int64_t> active;      // bytes in pages holding allocations
  std::optional<std::int64_t> resident;    // bytes of allocator memory resident in RAM
  std::optional<std::int64_t> mapped;      // bytes mapped (or committed) by the allocator
  std::optional<std::int64_t> retained;    // bytes kept mapped but returned to the OS
  std::optional<std::int64_t> metadata;    // the allocator's own bookkeeping
  std::optional<std::int64_t> free_bytes;  // free bytes held inside the heap (glibc)
  std::optional<std::int64_t> mmapped;     // bytes in mmap-served allocations (glibc)
  std::optional<std::int64_t> top_pad;     // releasable space at the heap top (glibc)
};

class AllocatorProbe {
 public:
  virtual ~AllocatorProbe() = default;
  virtual std::string name() const = 0;     // "glibc", "jemalloc", "mimalloc"
  virtual std::string version() const = 0;  // as the allocator reports it, or "unknown"
  virtual AllocatorStats read() = 0;
};

// The allocator whose malloc this process calls (found with dladdr on malloc). Unknown
// allocators yield a probe named after their library that reports nothing.
std::unique_ptr<AllocatorProbe> detect_allocator();

}  // namespace nrmlab::telemetry

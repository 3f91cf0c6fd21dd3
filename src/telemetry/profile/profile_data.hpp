// What stack sampling left in telemetry.db (issue 18), read back as one value: the tables
// profile_frames, profile_stacks and profile_counts (telemetry/rows.hpp documents their
// rows) and the meta keys profile.*. The one reader of these tables: the exports (folded
// stacks, speedscope), the analysis (code.time) and the report (flame graph) all start here.
//
// A database written before stack sampling existed has none of the tables: it reads as
// status "not recorded" with no samples, never as an error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/profile/sample.hpp"
#include "telemetry/rows.hpp"

namespace nrmlab::telemetry::profile {

// The meta keys the profiler writes (profiler.hpp), each once.
namespace meta_key {
inline constexpr std::string_view k_status = "profile.status";  // see ProfileData::status
inline constexpr std::string_view k_enable_hint = "profile.enable_hint";
inline constexpr std::string_view k_note = "profile.note";
inline constexpr std::string_view k_hz = "profile.hz";
inline constexpr std::string_view k_period_ns = "profile.period_ns";  // an on-CPU sample's worth
inline constexpr std::string_view k_window_ns = "profile.window_ns";
inline constexpr std::string_view k_off_cpu = "profile.off_cpu";  // how off-CPU time was seen
inline constexpr std::string_view k_samples = "profile.samples";
inline constexpr std::string_view k_lost = "profile.lost";      // records the kernel dropped
inline constexpr std::string_view k_cpu_ns = "profile.cpu_ns";  // the profiler's own CPU time
}  // namespace meta_key

// Every wait class, in WaitClass's order.
inline constexpr WaitClass k_wait_classes[] = {
    WaitClass::on_cpu, WaitClass::run_queue, WaitClass::sleep,      WaitClass::disk,
    WaitClass::lock,   WaitClass::network,   WaitClass::page_fault, WaitClass::other};

// The wait class called `name` (to_string's inverse), or nullopt.
std::optional<WaitClass> wait_class_named(std::string_view name);

// Windows first..last of profile_counts (ProfileData::Count::window, meta profile.window_ns
// long each), both included: the exports' selection, the two sides of a differential
// profile. Default: no window.
struct WindowRange {
  std::int64_t first = 0;
  std::int64_t last = -1;  // below `first`: no window
  bool contains(std::int64_t window) const { return window >= first && window <= last; }
};

struct ProfileData {
  // "sampled"; "off" (the user turned it off); "unavailable: <why>"; "not recorded" (a
  // database from before stack sampling, or a run that ended before the profiler started).
  std::string status = "not recorded";
  std::string enable_hint;  // the exact setting that would enable sampling (when unavailable)
  std::string note;         // what was limited though sampled (no kernel stacks, ...)
  std::string off_cpu;      // how off-CPU time was seen ("context switches (perf)", ...)
  unsigned hz = 0;
  std::int64_t period_ns = 0;
  std::int64_t window_ns = 0;
  std::int64_t lost = 0;
  std::int64_t profiler_cpu_ns = 0;

  std::vector<ProfileFrameRow> frames;  // frames[id - 1]
  std::vector<ProfileStackRow> stacks;  // stacks[id - 1]
  struct Count {
    std::int64_t window = 0;
    std::int64_t stack = 0;  // 0: no stack
    WaitClass wait = WaitClass::other;
    std::int64_t samples = 0;
    std::int64_t weight_ns = 0;
  };
  // Summed per (window, stack, wait), ordered by them; rows of an unknown wait class are
  // read as `other`.
  std::vector<Count> counts;

  bool sampled() const { return status == "sampled"; }
  // The frame (stack) with id `id` (from 1); throws nrmlab::Error for an id not stored.
  const ProfileFrameRow& frame(std::int64_t id) const;
  const ProfileStackRow& stack(std::int64_t id) const;
  // The frame ids of a stack, outermost first (empty for stack 0).
  std::vector<std::int64_t> frame_path(std::int64_t stack) const;
  std::int64_t total_weight_ns() const;
};

// Reads `db` (a telemetry.db). Throws nrmlab::Error naming the file when it is missing or not
// SQLite, or when a stack or count refers to a frame or stack that is not stored.
ProfileData read_profile(const std::filesystem::path& db);

// How many frames and stacks `db` holds already (0, 0 when it has none or no such tables):
// a process that appends to a run's database numbers its own after them.
std::pair<std::int64_t, std::int64_t> stored_profile_ids(const std::filesystem::path& db);

}  // namespace nrmlab::telemetry::profile

// The flame graph of a whole run (issue 18): the sampled stacks of telemetry.db
// (telemetry::profile::ProfileData) merged into one tree of call paths, which the report
// page draws with d3-flame-graph (report/assets.hpp).
//
// A node is a function (merged by function and module, whatever call site it was reached
// from, as flame graphs do); its time is the wall time of every sample whose stack passes
// through it, split by wait class. An off-CPU stack ends in a pseudo-frame naming the wait
// ("[sleep]", "[disk]"), so the graph's tops show what the threads waited for, under the call
// that waited. A sample without a stack hangs from "[no stack]".
//
// Large profiles: a node under `min_share` of the run's time is folded into its parent (its
// time stays in the parent's total, as time the parent's callees spent), and the threshold
// doubles until at most `max_nodes` remain, of about `max_bytes` of JSON at most, so the page
// stays small; the graph says how much it folded.
//
// The differential graph (issue 19: which code got slower) is the same tree built from the
// counts of the late side's windows only, each node also carrying its time in the early
// side's windows (`base_ns`). Its widths are the late side's; with each side divided by its
// own steps, a node's change is its time per step late less early. Folding looks at the late
// side, so a function that ran only early has no width: its time is in its callers' change.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::report {

inline constexpr double k_flame_min_share = 0.001;  // 0.1% of the run's sampled time
inline constexpr std::size_t k_flame_max_nodes = 4000;
// The graph's JSON, estimated as each node's names plus k_flame_node_bytes: C++ names can
// be long, so the node count alone does not bound the page.
inline constexpr std::size_t k_flame_max_bytes = 300'000;
inline constexpr std::size_t k_flame_node_bytes = 80;
// Longer function names are cut (with "...") in the JSON; the tree merges on the whole name.
inline constexpr std::size_t k_flame_name_chars = 400;
inline constexpr std::size_t k_flame_wait_classes = std::size(telemetry::profile::k_wait_classes);

using telemetry::profile::WindowRange;

// The two sides of a differential graph: their windows and the steps begun in them
// (analysis::CodeComparison's).
struct FlameSides {
  WindowRange early;
  WindowRange late;
  double early_steps = 0.0;
  double late_steps = 0.0;
};

// The differential graph's JSON carries two numbers more per node than the whole run's.
inline constexpr std::size_t k_flame_delta_bytes = 40;

struct FlameNode {
  std::string function;  // a function, or a pseudo-frame: "[sleep]", "[libfoo.so]" (no symbol),
                         // "[no stack]"
  std::string module;    // its file's base name, "[kernel]", or empty
  std::int64_t total_ns = 0;
  // total_ns by wait class, indexed by the WaitClass's value (k_wait_classes' order).
  std::array<std::int64_t, k_flame_wait_classes> wait_ns{};
  std::int64_t folded_ns = 0;       // of total_ns: time in callees folded in by the cap
  std::int64_t base_ns = 0;         // differential graphs: the time in the early side's windows
  std::vector<FlameNode> children;  // largest total first, then by function and module

  // The wait class with the most time here (on_cpu for a node without time).
  telemetry::profile::WaitClass dominant_wait() const;
};

struct FlameGraph {
  FlameNode root;                        // "all": every sample of the run
  double min_share = k_flame_min_share;  // the threshold finally applied
  std::size_t nodes = 0;                 // nodes kept, the root included
  std::size_t folded_nodes = 0;          // nodes folded into their parents
  std::int64_t folded_ns = 0;            // the time of the folded subtrees
  std::optional<FlameSides> sides;       // set for a differential graph
};

// The tree of every count of `data`, whatever its status (an unsampled profile gives a root
// without time). Throws nrmlab::Error when a count refers to a stack `data` does not hold.
FlameGraph build_flame_graph(const telemetry::profile::ProfileData& data,
                             double min_share = k_flame_min_share,
                             std::size_t max_nodes = k_flame_max_nodes,
                             std::size_t max_bytes = k_flame_max_bytes);

// The differential graph of `sides.late` against `sides.early` (see above): root and widths
// from the late windows' counts, base_ns from the early windows'. The same folding, with the
// late side's time as the run's.
FlameGraph build_differential_flame_graph(const telemetry::profile::ProfileData& data,
                                          const FlameSides& sides,
                                          double min_share = k_flame_min_share,
                                          std::size_t max_nodes = k_flame_max_nodes,
                                          std::size_t max_bytes = k_flame_max_bytes);

// A node's change of time per step, late less early, times the late side's steps:
// total_ns - base_ns * late_steps / early_steps. In total_ns's units because d3-flame-graph's
// differential colours compare it with the width (a node only late has delta == width).
double flame_delta_ns(const FlameNode& node, const FlameSides& sides);

// The page's form (d3-flame-graph's compact keys): {"total_ns", "min_share", "nodes",
// "folded_nodes", "folded_ns", "wait_classes": [names], "root": node}, a node being {"n":
// function, "m": module, "v": total_ns, "w": {wait class: ns, only those with time},
// "f": folded_ns (when not 0), "c": [children] (when any)}. "differential" is null for the
// whole run's graph; a differential graph's is {"early_first_window", "early_last_window",
// "late_first_window", "late_last_window", "early_steps", "late_steps", "early_total_ns"} and per
// node "b": base_ns and "d": flame_delta_ns (rounded to the nanosecond).
nlohmann::json to_json(const FlameGraph& graph);

}  // namespace nrmlab::report

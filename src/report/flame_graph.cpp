#include "report/flame_graph.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "telemetry/profile/profile_export.hpp"

namespace nrmlab::report {
namespace {

using telemetry::profile::ProfileData;
using telemetry::profile::WaitClass;

std::size_t flame_wait_index(WaitClass wait) {
  return static_cast<std::size_t>(wait);
}

// The tree while it grows: nodes in one vector, each created after its parent (so a
// parent's index is smaller), with its children looked up by (function, module).
struct FlameArenaNode {
  std::string function;
  std::string module;
  std::int64_t total_ns = 0;
  std::array<std::int64_t, k_flame_wait_classes> wait_ns{};
  std::int64_t base_ns = 0;
  std::map<std::pair<std::string, std::string>, std::size_t> children;
  std::size_t subtree = 0;  // nodes with time in the subtree, this one included
};

using FlameFrameKey = std::pair<std::string, std::string>;  // function, module

// `path` (outermost first) with `ns` of `wait`: every node on it gains the time, as its
// total or (`base`: the early side of a differential graph) as its base.
void add_flame_path(std::vector<FlameArenaNode>& arena, const std::vector<FlameFrameKey>& path,
                    WaitClass wait, std::int64_t ns, bool base) {
  std::size_t at = 0;
  const auto credit = [&](std::size_t index) {
    if (base) {
      arena[index].base_ns += ns;
      return;
    }
    arena[index].total_ns += ns;
    arena[index].wait_ns[flame_wait_index(wait)] += ns;
  };
  credit(at);
  for (const FlameFrameKey& key : path) {
    const auto found = arena[at].children.find(key);
    std::size_t next = 0;
    if (found != arena[at].children.end()) {
      next = found->second;
    } else {
      next = arena.size();
      arena[at].children.emplace(key, next);
      // emplace_back may move the arena: `arena[at]` is not held across it.
      arena.push_back(FlameArenaNode{key.first, key.second, 0, {}, 0, {}, 0});
    }
    at = next;
    credit(at);
  }
}

// The call path of stack `stack` (0: none recorded) as the graph names it, ending in the
// wait's pseudo-frame when off the CPU.
std::vector<FlameFrameKey> flame_path(const ProfileData& data, std::int64_t stack, WaitClass wait) {
  std::vector<FlameFrameKey> path;
  if (stack == 0) {
    path.emplace_back("[no stack]", "");
  } else {
    for (const std::int64_t id : data.frame_path(stack)) {
      const telemetry::ProfileFrameRow& frame = data.frame(id);
      path.emplace_back(telemetry::profile::profile_frame_name(frame, false), frame.module);
    }
  }
  if (wait != WaitClass::on_cpu) {
    // The exports' name for it, so that every view of a profile agrees.
    FlameFrameKey pseudo{telemetry::profile::wait_frame_name(wait), ""};
    // A profiler that stored the pseudo-frame itself does not get a second one.
    if (path.back() != pseudo) path.push_back(std::move(pseudo));
  }
  return path;
}

// A node is drawn when it has time (a differential graph's early-only nodes have none) of at
// least the cutoff.
bool flame_node_kept(const FlameArenaNode& node, double cutoff_ns) {
  return node.total_ns > 0 && static_cast<double>(node.total_ns) >= cutoff_ns;
}

struct FlameKept {
  std::size_t nodes = 0;
  std::size_t bytes = 0;  // of JSON, estimated
};

// What remains when every node under `cutoff_ns` is folded into its parent.
void count_kept_flame_nodes(const std::vector<FlameArenaNode>& arena, std::size_t at,
                            double cutoff_ns, std::size_t node_bytes, FlameKept& kept) {
  ++kept.nodes;
  kept.bytes += std::min(arena[at].function.size(), k_flame_name_chars) + arena[at].module.size() +
                node_bytes;
  for (const auto& [key, child] : arena[at].children)
    if (flame_node_kept(arena[child], cutoff_ns))
      count_kept_flame_nodes(arena, child, cutoff_ns, node_bytes, kept);
}

bool flame_tree_fits(const std::vector<FlameArenaNode>& arena, double cutoff_ns,
                     std::size_t max_nodes, std::size_t max_bytes, std::size_t node_bytes) {
  FlameKept kept;
  count_kept_flame_nodes(arena, 0, cutoff_ns, node_bytes, kept);
  return kept.nodes <= max_nodes && kept.bytes <= max_bytes;
}

FlameNode make_flame_node(const std::vector<FlameArenaNode>& arena, std::size_t at,
                          double cutoff_ns, FlameGraph& graph) {
  const FlameArenaNode& from = arena[at];
  FlameNode node;
  node.function = from.function;
  node.module = from.module;
  node.total_ns = from.total_ns;
  node.wait_ns = from.wait_ns;
  node.base_ns = from.base_ns;
  ++graph.nodes;
  for (const auto& [key, child] : from.children) {
    if (flame_node_kept(arena[child], cutoff_ns)) {
      node.children.push_back(make_flame_node(arena, child, cutoff_ns, graph));
    } else {
      node.folded_ns += arena[child].total_ns;
      graph.folded_ns += arena[child].total_ns;
      graph.folded_nodes += arena[child].subtree;
    }
  }
  std::sort(node.children.begin(), node.children.end(), [](const auto& a, const auto& b) {
    return std::tie(b.total_ns, a.function, a.module) < std::tie(a.total_ns, b.function, b.module);
  });
  return node;
}

nlohmann::json flame_node_json(const FlameNode& node, const std::optional<FlameSides>& sides) {
  nlohmann::json waits = nlohmann::json::object();
  for (const WaitClass wait : telemetry::profile::k_wait_classes)
    if (const std::int64_t ns = node.wait_ns[flame_wait_index(wait)]; ns != 0)
      waits[std::string(to_string(wait))] = ns;
  std::string name = node.function;
  if (name.size() > k_flame_name_chars) name = name.substr(0, k_flame_name_chars - 3) + "...";
  nlohmann::json out = {
      {"n", std::move(name)}, {"m", node.module}, {"v", node.total_ns}, {"w", std::move(waits)}};
  if (node.folded_ns != 0) out["f"] = node.folded_ns;
  if (sides) {
    out["b"] = node.base_ns;
    out["d"] = std::llround(flame_delta_ns(node, *sides));
  }
  if (!node.children.empty()) {
    nlohmann::json children = nlohmann::json::array();
    for (const FlameNode& child : node.children)
      children.push_back(flame_node_json(child, sides));
    out["c"] = std::move(children);
  }
  return out;
}

// The whole run's tree (no `sides`), or the differential one: the late windows' counts as
// the totals and the early windows' as the bases; counts in neither side are left out.
FlameGraph build_flame_tree(const ProfileData& data, const std::optional<FlameSides>& sides,
                            double min_share, std::size_t max_nodes, std::size_t max_bytes) {
  // Windows matter only as sides: sum them first, so each stack's path is walked once per
  // wait class and side.
  std::map<std::tuple<std::int64_t, WaitClass, bool>, std::int64_t> by_stack;
  for (const ProfileData::Count& count : data.counts) {
    if (!sides || sides->late.contains(count.window))
      by_stack[{count.stack, count.wait, false}] += count.weight_ns;
    if (sides && sides->early.contains(count.window))
      by_stack[{count.stack, count.wait, true}] += count.weight_ns;
  }
  std::vector<FlameArenaNode> arena(1);
  arena[0].function = "all";
  for (const auto& [key, ns] : by_stack) {
    const auto& [stack, wait, base] = key;
    add_flame_path(arena, flame_path(data, stack, wait), wait, ns, base);
  }
  // Children come after their parents, so a backward pass sees a subtree before its root.
  for (std::size_t i = arena.size(); i-- > 0;) {
    arena[i].subtree += arena[i].total_ns > 0 ? 1 : 0;
    for (const auto& [name, child] : arena[i].children)
      arena[i].subtree += arena[child].subtree;
  }

  FlameGraph graph;
  graph.sides = sides;
  graph.min_share = std::max(min_share, 0.0);
  const double total = static_cast<double>(arena[0].total_ns);
  const std::size_t node_bytes = k_flame_node_bytes + (sides ? k_flame_delta_bytes : 0);
  // Doubling ends: at a share above 1 only the root is left.
  while (graph.min_share <= 1.0 &&
         !flame_tree_fits(arena, graph.min_share * total, max_nodes, max_bytes, node_bytes))
    graph.min_share = graph.min_share > 0.0 ? 2.0 * graph.min_share : k_flame_min_share;
  graph.root = make_flame_node(arena, 0, graph.min_share * total, graph);
  return graph;
}

}  // namespace

WaitClass FlameNode::dominant_wait() const {
  const auto largest = std::max_element(wait_ns.begin(), wait_ns.end());
  return telemetry::profile::k_wait_classes[static_cast<std::size_t>(largest - wait_ns.begin())];
}

FlameGraph build_flame_graph(const ProfileData& data, double min_share, std::size_t max_nodes,
                             std::size_t max_bytes) {
  return build_flame_tree(data, std::nullopt, min_share, max_nodes, max_bytes);
}

FlameGraph build_differential_flame_graph(const ProfileData& data, const FlameSides& sides,
                                          double min_share, std::size_t max_nodes,
                                          std::size_t max_bytes) {
  return build_flame_tree(data, sides, min_share, max_nodes, max_bytes);
}

double flame_delta_ns(const FlameNode& node, const FlameSides& sides) {
  const double early_per_late_step =
      sides.early_steps > 0.0
          ? static_cast<double>(node.base_ns) * sides.late_steps / sides.early_steps
          : 0.0;
  return static_cast<double>(node.total_ns) - early_per_late_step;
}

nlohmann::json to_json(const FlameGraph& graph) {
  nlohmann::json classes = nlohmann::json::array();
  for (const WaitClass wait : telemetry::profile::k_wait_classes)
    classes.push_back(std::string(to_string(wait)));
  nlohmann::json sides = nullptr;
  if (graph.sides)
    sides = {{"early_first_window", graph.sides->early.first},
             {"early_last_window", graph.sides->early.last},
             {"late_first_window", graph.sides->late.first},
             {"late_last_window", graph.sides->late.last},
             {"early_steps", graph.sides->early_steps},
             {"late_steps", graph.sides->late_steps},
             {"early_total_ns", graph.root.base_ns}};
  return {{"total_ns", graph.root.total_ns},
          {"min_share", graph.min_share},
          {"nodes", graph.nodes},
          {"folded_nodes", graph.folded_nodes},
          {"folded_ns", graph.folded_ns},
          {"wait_classes", std::move(classes)},
          {"differential", sides},
          {"root", flame_node_json(graph.root, graph.sides)}};
}

}  // namespace nrmlab::report

#include "validate/workload.hpp"

#include <array>

#include "validate/workloads_internal.hpp"

namespace nrmlab::validate {
namespace {

constexpr std::array<std::pair<WorkloadKind, std::string_view>, 10> k_names = {{
    {WorkloadKind::stable, "stable"},
    {WorkloadKind::growth, "growth"},
    {WorkloadKind::store, "store"},
    {WorkloadKind::contention, "contention"},
    {WorkloadKind::fragmentation, "fragmentation"},
    {WorkloadKind::dearer, "dearer"},
    {WorkloadKind::fsync, "fsync"},
    {WorkloadKind::waits, "waits"},
    {WorkloadKind::hotspot, "hotspot"},
    {WorkloadKind::hotspot_growth, "hotspot-growth"},
}};

}  // namespace

std::optional<WorkloadKind> parse_workload(std::string_view name) {
  for (const auto& [kind, text] : k_names)
    if (text == name) return kind;
  return std::nullopt;
}

std::string_view workload_name(WorkloadKind kind) {
  for (const auto& [candidate, text] : k_names)
    if (candidate == kind) return text;
  return "unknown";
}

std::vector<std::string> workload_names() {
  std::vector<std::string> names;
  for (const auto& entry : k_names)
    names.emplace_back(entry.second);
  return names;
}

std::unique_ptr<Workload> make_workload(const WorkloadOptions& options) {
  switch (options.kind) {
    case WorkloadKind::stable:
      return make_stable(options);
    case WorkloadKind::growth:
      return make_growth(options);
    case WorkloadKind::store:
      return make_store(options);
    case WorkloadKind::contention:
      return make_contention(options);
    case WorkloadKind::fragmentation:
      return make_fragmentation(options);
    case WorkloadKind::dearer:
      return make_dearer(options);
    case WorkloadKind::fsync:
      return make_fsync(options);
    case WorkloadKind::waits:
      return make_waits(options);
    case WorkloadKind::hotspot:
      return make_hotspot(options);
    case WorkloadKind::hotspot_growth:
      return make_hotspot_growth(options);
  }
  return make_stable(options);
}

}  // namespace nrmlab::validate

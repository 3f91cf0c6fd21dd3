#include "analysis/code_profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "telemetry/profile/profile_export.hpp"
#include "util/error.hpp"

namespace nrmlab::analysis {
namespace {

using telemetry::ProfileFrameRow;
using telemetry::profile::ProfileData;
using telemetry::profile::WaitClass;

bool is_entry_point(std::string_view function) {
  return function == "main" || function == "_start" || function == "__libc_start_main" ||
         function == "__libc_start_call_main";
}

double per_step_of(double seconds, std::size_t steps) {
  return steps > 0 ? seconds / static_cast<double>(steps) : k_not_recorded;
}

void add_waits(const ProfileData& data, double total_ns, CodeProfile& code) {
  std::map<WaitClass, double> by_wait;
  for (const ProfileData::Count& count : data.counts)
    by_wait[count.wait] += static_cast<double>(count.weight_ns);
  for (const auto& [wait, ns] : by_wait)
    code.waits.push_back({std::string(to_string(wait)), ns / 1e9, ns / total_ns});
  std::sort(code.waits.begin(), code.waits.end(),
            [](const CodeWait& a, const CodeWait& b) { return a.seconds > b.seconds; });
}

void add_places(const ProfileData& data, double total_ns, std::size_t steps, CodeProfile& code) {
  // Stacks are few next to counts: place each once.
  std::map<std::int64_t, CodePlace> places;
  using Key =
      std::tuple<std::string, std::string, WaitClass, std::string, std::string, std::string>;
  std::map<Key, double> by_place;
  for (const ProfileData::Count& count : data.counts) {
    auto it = places.find(count.stack);
    if (it == places.end())
      it = places.emplace(count.stack, place_of(data, data.frame_path(count.stack))).first;
    const CodePlace& place = it->second;
    Key key{frame_name(place.function),
            place.function ? place.function->module : "",
            count.wait,
            place.caller ? place.caller->function : "",
            place.caller ? place.caller->module : "",
            place.site ? place.site->function : ""};
    by_place[key] += static_cast<double>(count.weight_ns);
  }
  for (const auto& [key, ns] : by_place) {
    const auto& [function, module, wait, caller, caller_module, site] = key;
    code.time.push_back({function, module, std::string(to_string(wait)), caller, caller_module,
                         site, ns / 1e9, ns / total_ns, per_step_of(ns / 1e9, steps)});
  }
  std::sort(code.time.begin(), code.time.end(), [](const CodeTime& a, const CodeTime& b) {
    return a.seconds != b.seconds ? a.seconds > b.seconds : a.function < b.function;
  });
  if (code.time.size() > CodeProfile::k_code_entries) code.time.resize(CodeProfile::k_code_entries);
}

}  // namespace

std::string frame_name(const ProfileFrameRow* frame) {
  return frame == nullptr ? "[no stack]" : telemetry::profile::profile_frame_name(*frame, false);
}

CodePlace place_of(const ProfileData& data, const std::vector<std::int64_t>& path) {
  CodePlace place;
  std::size_t at = path.size();
  for (std::size_t i = path.size(); i-- > 0;) {
    const ProfileFrameRow& frame = data.frame(path[i]);
    if (frame.module != "[kernel]" && !frame.function.empty()) {
      at = i;
      break;
    }
  }
  if (at == path.size()) {
    if (path.empty()) return place;
    at = path.size() - 1;
  }
  place.function = &data.frame(path[at]);
  for (std::size_t i = at; i-- > 0;) {
    const ProfileFrameRow& frame = data.frame(path[i]);
    if (!is_system_module(frame.module) && !frame.function.empty()) {
      place.caller = &frame;
      break;
    }
  }
  // The executable is the module of the outermost frame (main, or _start). Its entry
  // points are no site: every stack passes through them.
  const std::string& program = data.frame(path.front()).module;
  for (std::size_t i = at; i-- > 0;) {
    const ProfileFrameRow& frame = data.frame(path[i]);
    if (frame.module == program && !frame.function.empty() && !is_system_module(program)) {
      if (&frame != place.caller && !is_entry_point(frame.function)) place.site = &frame;
      break;
    }
  }
  return place;
}

bool is_system_module(std::string_view module) {
  constexpr std::string_view k_system_prefixes[] = {
      "libc.so", "libc-",     "ld-linux", "ld64.so",  "libpthread", "libdl.so",  "librt.so",
      "libm.so", "libstdc++", "libgcc_s", "[kernel]", "[vdso]",     "linux-vdso"};
  if (module.empty()) return true;
  return std::any_of(
      std::begin(k_system_prefixes), std::end(k_system_prefixes),
      [module](std::string_view prefix) { return module.substr(0, prefix.size()) == prefix; });
}

CodeProfile analyse_code(const ProfileData& data, std::size_t steps, double wall_seconds) {
  CodeProfile code;
  code.status = data.status;
  code.enable_hint = data.enable_hint;
  code.note = data.note;
  code.off_cpu = data.off_cpu;
  if (wall_seconds > 0)
    code.profiler_cpu_share = static_cast<double>(data.profiler_cpu_ns) / 1e9 / wall_seconds;
  const auto total_ns = static_cast<double>(data.total_weight_ns());
  code.sampled_seconds = total_ns / 1e9;
  if (total_ns <= 0) return code;
  add_waits(data, total_ns, code);
  add_places(data, total_ns, steps, code);
  return code;
}

CodeProfile analyse_code(const std::filesystem::path& db, std::size_t steps, double wall_seconds) {
  try {
    return analyse_code(telemetry::profile::read_profile(db), steps, wall_seconds);
  } catch (const Error& error) {
    CodeProfile code;
    code.status = std::string("unreadable: ") + error.what();
    return code;
  }
}

// "ns::(anonymous namespace)::persist_row(std::filesystem::path const&, long)" ->
// "ns::persist_row": a summary line names functions, it does not declare them.
std::string short_function(std::string name) {
  constexpr std::string_view k_anonymous = "(anonymous namespace)::";
  for (auto at = name.find(k_anonymous); at != std::string::npos; at = name.find(k_anonymous))
    name.erase(at, k_anonymous.size());
  if (const auto open = name.find('('); open != std::string::npos && open > 0) name.resize(open);
  return name;
}

// The three largest places with a stack and at least 0.5% of the time: small waits are
// what a user most often does not know about (a sync per row is a few percent of the C256
// original's time), so the line does not stop at the first large one.
std::string code_line(const CodeProfile& code) {
  constexpr std::size_t k_places = 3;
  constexpr double k_min_share = 0.005;
  std::string line;
  std::size_t places = 0;
  for (const CodeTime& t : code.time) {
    if (places == k_places || t.share < k_min_share) break;
    if (t.function == "[no stack]") continue;
    ++places;
    const std::string share = t.share >= 0.01 ? fmt::format("{:.0f}%", 100 * t.share)
                                              : fmt::format("{:.1f}%", 100 * t.share);
    const bool on_cpu = t.wait_class == "on_cpu";
    line += fmt::format("{}{} {} {}{}", line.empty() ? "" : "; ", share,
                        on_cpu ? "on-CPU in" : t.wait_class + " in", short_function(t.function),
                        t.module.empty() ? "" : " (" + t.module + ")");
    if (!t.caller.empty())
      line += fmt::format(" from {} ({})", short_function(t.caller), t.caller_module);
    if (!t.site.empty()) line += " at " + short_function(t.site);
  }
  return line;
}

}  // namespace nrmlab::analysis

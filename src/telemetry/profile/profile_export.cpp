#include "telemetry/profile/profile_export.hpp"

#include <fmt/format.h>

#include <map>
#include <system_error>
#include <utility>

#include "build_info.hpp"
#include "util/atomic_file.hpp"
#include "util/error.hpp"

namespace nrmlab::telemetry::profile {
namespace {

constexpr std::string_view k_speedscope_schema =
    "https://www.speedscope.app/file-format-schema.json";
constexpr std::string_view k_export_kernel_module = "[kernel]";
// The leaf of an on-CPU sample without a stack: the CPU was busy, nobody knows where.
constexpr std::string_view k_export_unknown_frame = "[unknown]";

void check_export_windows(const std::optional<WindowRange>& windows) {
  if (windows && windows->first > windows->last)
    throw Error(fmt::format("profile export: window range {}..{} is empty (first > last)",
                            windows->first, windows->last));
}

bool counted_in_export(const ProfileData::Count& count, const std::optional<WindowRange>& windows) {
  // A zero weight stands for no time (an off-CPU interval not yet ended): nothing to draw.
  if (count.weight_ns <= 0) return false;
  return !windows || windows->contains(count.window);
}

// The leaf pseudo-frame of a count: its wait, or for an on-CPU count without a stack
// "[unknown]"; empty when the stack's own frames end the path.
std::string export_leaf_name(std::int64_t stack, WaitClass wait) {
  std::string leaf = wait_frame_name(wait);
  if (leaf.empty() && stack == 0) leaf = k_export_unknown_frame;
  return leaf;
}

// Folded stacks: weight per (stack, wait) over the selected windows, then one text per
// distinct path. Two stacks can read alike (one function called from two call sites of the
// same caller differs only in stored addresses): their lines are merged.
std::map<std::string, std::int64_t> folded_line_weights(const ProfileData& data,
                                                        const std::optional<WindowRange>& windows) {
  std::map<std::pair<std::int64_t, WaitClass>, std::int64_t> by_stack;
  for (const ProfileData::Count& count : data.counts)
    if (counted_in_export(count, windows)) by_stack[{count.stack, count.wait}] += count.weight_ns;

  std::vector<std::string> names(data.frames.size());
  for (std::size_t i = 0; i < data.frames.size(); ++i)
    names[i] = profile_frame_name(data.frames[i], true);
  std::map<std::string, std::int64_t> by_line;
  for (const auto& [key, weight_ns] : by_stack) {
    std::string line;
    for (const std::int64_t frame : data.frame_path(key.first)) {
      if (!line.empty()) line += ';';
      line += names[static_cast<std::size_t>(frame - 1)];
    }
    if (const std::string pseudo = export_leaf_name(key.first, key.second); !pseudo.empty())
      line += (line.empty() ? "" : ";") + pseudo;
    by_line[line] += weight_ns;
  }
  return by_line;
}

// speedscope's shared frame table: stored frames that read alike (same name and module,
// other call site) share one entry, as do the pseudo-frames.
class SpeedscopeFrames {
 public:
  explicit SpeedscopeFrames(const ProfileData& data) {
    m_stored.reserve(data.frames.size());
    for (const ProfileFrameRow& frame : data.frames)
      m_stored.push_back(intern(profile_frame_name(frame, false), frame.module));
  }
  std::int64_t stored(std::int64_t id) const { return m_stored[static_cast<std::size_t>(id - 1)]; }
  std::int64_t intern(const std::string& name, const std::string& file) {
    const auto [it, added] =
        m_index.try_emplace({name, file}, static_cast<std::int64_t>(m_json.size()));
    if (added) {
      nlohmann::ordered_json frame{{"name", name}};
      if (!file.empty()) frame["file"] = file;
      m_json.push_back(std::move(frame));
    }
    return it->second;
  }
  nlohmann::ordered_json take() { return std::move(m_json); }

 private:
  std::vector<std::int64_t> m_stored;  // stored frame id - 1 -> entry
  std::map<std::pair<std::string, std::string>, std::int64_t> m_index;
  nlohmann::ordered_json m_json = nlohmann::ordered_json::array();
};

std::string no_profile_samples_message(const std::filesystem::path& db, const ProfileData& data,
                                       const std::optional<WindowRange>& windows) {
  if (!data.sampled()) {
    std::string message = fmt::format("{}: no stack samples to export (profile status: {})",
                                      db.string(), data.status);
    if (!data.enable_hint.empty()) message += "; to enable sampling: " + data.enable_hint;
    return message;
  }
  if (windows)
    return fmt::format("{}: no stack samples to export in windows {}..{} (profile status: sampled)",
                       db.string(), windows->first, windows->last);
  return fmt::format(
      "{}: no stack samples to export (profile status: sampled, but no time was counted)",
      db.string());
}

}  // namespace

std::string profile_frame_name(const ProfileFrameRow& frame, bool kernel_suffix) {
  std::string name = !frame.function.empty() ? frame.function
                     : !frame.module.empty() ? "[" + frame.module + "]"
                                             : std::string(k_export_unknown_frame);
  // A "[kernel]" module already reads as brackets: "[[kernel]]" would say nothing more.
  if (frame.function.empty() && frame.module == k_export_kernel_module)
    name = k_export_kernel_module;
  for (char& c : name) {
    if (c == ';') c = ':';
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (kernel_suffix && frame.module == k_export_kernel_module) name += "_[k]";
  return name;
}

std::string wait_frame_name(WaitClass wait) {
  if (wait == WaitClass::on_cpu) return {};
  return fmt::format("[{}]", to_string(wait));
}

std::string folded_stacks(const ProfileData& data, std::optional<WindowRange> windows) {
  check_export_windows(windows);
  std::string text;
  for (const auto& [line, weight_ns] : folded_line_weights(data, windows)) {
    // Whole microseconds: FlameGraph's tools read integer counts, and a wall-clock sample
    // is worth far more than a microsecond (10 ms at 100 Hz).
    const std::int64_t us = (weight_ns + 500) / 1000;
    if (us > 0) text += fmt::format("{} {}\n", line, us);
  }
  return text;
}

nlohmann::ordered_json speedscope_profile(const ProfileData& data, std::string_view name,
                                          std::optional<WindowRange> windows) {
  check_export_windows(windows);
  SpeedscopeFrames frames(data);
  nlohmann::ordered_json samples = nlohmann::ordered_json::array();
  nlohmann::ordered_json weights = nlohmann::ordered_json::array();
  std::int64_t total_ns = 0;
  // Counts come ordered by window: each window's paths are gathered, then written in path
  // order, so that the samples run through the run window by window.
  std::map<std::vector<std::int64_t>, std::int64_t> window_paths;
  const auto flush_window = [&] {
    for (const auto& [path, weight_ns] : window_paths) {
      samples.push_back(path);
      weights.push_back(weight_ns);
      total_ns += weight_ns;
    }
    window_paths.clear();
  };
  std::optional<std::int64_t> window;
  for (const ProfileData::Count& count : data.counts) {
    if (!counted_in_export(count, windows)) continue;
    if (window != count.window) flush_window();
    window = count.window;
    std::vector<std::int64_t> path;
    for (const std::int64_t frame : data.frame_path(count.stack))
      path.push_back(frames.stored(frame));
    if (const std::string leaf = export_leaf_name(count.stack, count.wait); !leaf.empty())
      path.push_back(frames.intern(leaf, ""));
    window_paths[path] += count.weight_ns;
  }
  flush_window();
  nlohmann::ordered_json profile{{"type", "sampled"},
                                 {"name", name},
                                 {"unit", "nanoseconds"},
                                 {"startValue", 0},
                                 {"endValue", total_ns},
                                 {"samples", std::move(samples)},
                                 {"weights", std::move(weights)}};
  return nlohmann::ordered_json{{"$schema", k_speedscope_schema},
                                {"shared", {{"frames", frames.take()}}},
                                {"profiles", nlohmann::ordered_json::array({std::move(profile)})},
                                {"name", name},
                                {"activeProfileIndex", 0},
                                {"exporter", fmt::format("nrmlab {}", build_info::k_version)}};
}

void export_profile(const std::filesystem::path& db, const std::filesystem::path& out,
                    ProfileFormat format, std::optional<WindowRange> windows) {
  check_export_windows(windows);
  export_profile(read_profile(db), db, out, format, windows);
}

void export_profile(const ProfileData& data, const std::filesystem::path& db,
                    const std::filesystem::path& out, ProfileFormat format,
                    std::optional<WindowRange> windows) {
  check_export_windows(windows);
  bool any = false;
  for (const ProfileData::Count& count : data.counts)
    any = any || counted_in_export(count, windows);
  if (!data.sampled() || !any) throw Error(no_profile_samples_message(db, data, windows));

  std::string text;
  if (format == ProfileFormat::folded) {
    text = folded_stacks(data, windows);
    // Every line under half a microsecond: nothing a flame graph could draw.
    if (text.empty()) throw Error(no_profile_samples_message(db, data, windows));
  } else {
    std::string name = std::filesystem::absolute(db).parent_path().filename().string();
    name += windows ? fmt::format(" (wall-clock, every thread, windows {}..{})", windows->first,
                                  windows->last)
                    : std::string(" (wall-clock, every thread)");
    // Symbol names are bytes, not always UTF-8: replace what JSON cannot hold.
    text = speedscope_profile(data, name, windows)
               .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
           "\n";
  }
  if (out.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(out.parent_path(), ec);
    if (ec)
      throw Error(fmt::format("cannot create {}: {}", out.parent_path().string(), ec.message()));
  }
  write_file_atomically(out, text);
}

}  // namespace nrmlab::telemetry::profile

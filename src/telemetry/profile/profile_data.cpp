#include "telemetry/profile/profile_data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>

#include "util/error.hpp"
#include "util/parse.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::telemetry::profile {
namespace {

std::int64_t meta_int(const std::map<std::string, std::string, std::less<>>& meta,
                      std::string_view key) {
  const auto it = meta.find(key);
  if (it == meta.end()) return 0;
  // A malformed figure reads as unknown, like an absent one.
  return parse_number<std::int64_t>(it->second).value_or(0);
}

void read_profile_meta(sqlite::Connection& db, ProfileData& data) {
  std::map<std::string, std::string, std::less<>> meta;
  sqlite::Statement select(db, "SELECT key, value FROM meta WHERE key LIKE 'profile.%'");
  while (select.step())
    meta[select.column_text(0)] = select.column_text(1);
  const auto text = [&](std::string_view key) {
    const auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  };
  if (const std::string status = text(meta_key::k_status); !status.empty()) data.status = status;
  data.enable_hint = text(meta_key::k_enable_hint);
  data.note = text(meta_key::k_note);
  data.off_cpu = text(meta_key::k_off_cpu);
  data.hz = static_cast<unsigned>(std::max<std::int64_t>(0, meta_int(meta, meta_key::k_hz)));
  data.period_ns = meta_int(meta, meta_key::k_period_ns);
  data.window_ns = meta_int(meta, meta_key::k_window_ns);
  data.lost = meta_int(meta, meta_key::k_lost);
  data.profiler_cpu_ns = meta_int(meta, meta_key::k_cpu_ns);
}

void read_frames_and_stacks(sqlite::Connection& db, const std::filesystem::path& path,
                            ProfileData& data) {
  sqlite::Statement frames(db,
                           "SELECT id, function, module, address FROM profile_frames ORDER BY id");
  while (frames.step()) {
    ProfileFrameRow row{frames.column_int(0), frames.column_text(1), frames.column_text(2),
                        frames.column_int(3)};
    if (row.id != static_cast<std::int64_t>(data.frames.size()) + 1)
      throw Error(
          fmt::format("{}: profile_frames: id {} where {} was expected (ids are dense "
                      "from 1)",
                      path.string(), row.id, data.frames.size() + 1));
    data.frames.push_back(std::move(row));
  }
  sqlite::Statement stacks(db, "SELECT id, parent, frame FROM profile_stacks ORDER BY id");
  while (stacks.step()) {
    const ProfileStackRow row{stacks.column_int(0), stacks.column_int(1), stacks.column_int(2)};
    // A parent is interned before its children, so it has a smaller id.
    if (row.id != static_cast<std::int64_t>(data.stacks.size()) + 1 || row.parent < 0 ||
        row.parent >= row.id || row.frame < 1 ||
        row.frame > static_cast<std::int64_t>(data.frames.size()))
      throw Error(
          fmt::format("{}: profile_stacks: row id {} (parent {}, frame {}) does not "
                      "refer to stored stacks and frames",
                      path.string(), row.id, row.parent, row.frame));
    data.stacks.push_back(row);
  }
}

void read_counts(sqlite::Connection& db, const std::filesystem::path& path, ProfileData& data) {
  sqlite::Statement counts(db,
                           "SELECT window, stack, wait, sum(samples), sum(weight_ns) FROM "
                           "profile_counts GROUP BY window, stack, wait");
  std::map<std::tuple<std::int64_t, std::int64_t, WaitClass>, ProfileData::Count> summed;
  while (counts.step()) {
    ProfileData::Count count;
    count.window = counts.column_int(0);
    count.stack = counts.column_int(1);
    count.wait = wait_class_named(counts.column_text(2)).value_or(WaitClass::other);
    count.samples = counts.column_int(3);
    count.weight_ns = counts.column_int(4);
    if (count.stack < 0 || count.stack > static_cast<std::int64_t>(data.stacks.size()))
      throw Error(
          fmt::format("{}: profile_counts: stack {} is not stored", path.string(), count.stack));
    ProfileData::Count& into = summed[{count.window, count.stack, count.wait}];
    into.window = count.window;
    into.stack = count.stack;
    into.wait = count.wait;
    into.samples += count.samples;
    into.weight_ns += count.weight_ns;
  }
  data.counts.reserve(summed.size());
  for (const auto& [key, count] : summed)
    data.counts.push_back(count);
}

}  // namespace

std::optional<WaitClass> wait_class_named(std::string_view name) {
  for (const WaitClass c : k_wait_classes)
    if (to_string(c) == name) return c;
  return std::nullopt;
}

const ProfileFrameRow& ProfileData::frame(std::int64_t id) const {
  if (id < 1 || id > static_cast<std::int64_t>(frames.size()))
    throw Error(fmt::format("profile: no frame {} (there are {})", id, frames.size()));
  return frames[static_cast<std::size_t>(id - 1)];
}

const ProfileStackRow& ProfileData::stack(std::int64_t id) const {
  if (id < 1 || id > static_cast<std::int64_t>(stacks.size()))
    throw Error(fmt::format("profile: no stack {} (there are {})", id, stacks.size()));
  return stacks[static_cast<std::size_t>(id - 1)];
}

std::vector<std::int64_t> ProfileData::frame_path(std::int64_t id) const {
  std::vector<std::int64_t> path;
  // Parents have smaller ids (read_profile checks), so the walk ends.
  for (std::int64_t at = id; at != 0; at = stack(at).parent)
    path.push_back(stack(at).frame);
  std::reverse(path.begin(), path.end());
  return path;
}

std::int64_t ProfileData::total_weight_ns() const {
  std::int64_t total = 0;
  for (const Count& count : counts)
    total += count.weight_ns;
  return total;
}

ProfileData read_profile(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path))
    throw Error(fmt::format("{}: no such telemetry database", path.string()));
  sqlite::Connection db(path);
  ProfileData data;
  if (sqlite::has_table(db, "meta")) read_profile_meta(db, data);
  if (!sqlite::has_table(db, "profile_frames") || !sqlite::has_table(db, "profile_stacks") ||
      !sqlite::has_table(db, "profile_counts")) {
    data.status = "not recorded";  // written before stack sampling existed
    return data;
  }
  read_frames_and_stacks(db, path, data);
  read_counts(db, path, data);
  return data;
}

std::pair<std::int64_t, std::int64_t> stored_profile_ids(const std::filesystem::path& path) {
  if (!std::filesystem::is_regular_file(path)) return {0, 0};
  sqlite::Connection db(path);
  if (!sqlite::has_table(db, "profile_frames") || !sqlite::has_table(db, "profile_stacks"))
    return {0, 0};
  return {sqlite::query_int(db, "SELECT coalesce(max(id), 0) FROM profile_frames"),
          sqlite::query_int(db, "SELECT coalesce(max(id), 0) FROM profile_stacks")};
}

}  // namespace nrmlab::telemetry::profile

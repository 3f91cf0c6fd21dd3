// A run's stack samples (profile_data.hpp) in the formats flame-graph tools read (issue 18):
// folded stacks (Brendan Gregg's FlameGraph, also read by speedscope, inferno, Pyroscope)
// and speedscope's JSON (https://www.speedscope.app/file-format-schema.json). `nrmlab
// export --format folded|speedscope` writes them; the functions that build the text take an
// optional window range so that two parts of one run can be compared (issue 19).
//
// Both formats show the same tree: a sample's frames outermost first, and for off-CPU time
// a last pseudo-frame naming the wait ("[sleep]", "[disk]", "[lock]", "[network]",
// "[page_fault]", "[run_queue]", "[other]"). On-CPU time has none, so a flame graph shows
// where the program computes and where it waits side by side, each as wall time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::telemetry::profile {

// How a stored frame is named in both exports: its function when known, else "[module]",
// else "[unknown]"; ';' becomes ':' and line breaks become spaces (folded stacks use both as
// separators). Kernel frames (module "[kernel]") get FlameGraph's suffix "_[k]" only when
// `kernel_suffix` (the folded format; speedscope shows the module as the frame's file).
std::string profile_frame_name(const ProfileFrameRow& frame, bool kernel_suffix);

// The pseudo-frame that ends an off-CPU stack ("[sleep]", ...); empty for on_cpu.
std::string wait_frame_name(WaitClass wait);

// Folded stacks: one line per distinct frame path and wait class, "frame;...;leaf COUNT",
// outermost first, COUNT the wall time in whole microseconds (rounded; lines that round to 0
// are left out), lines sorted bytewise, each ending in '\n'. Stack 0 (no stack recorded) is
// just its wait's pseudo-frame, "[unknown]" when on the CPU. `windows` (default: all) selects
// the counts summed; throws nrmlab::Error when first > last.
std::string folded_stacks(const ProfileData& data,
                          std::optional<WindowRange> windows = std::nullopt);

// speedscope's file: one "sampled" profile named `name`, unit nanoseconds, shared frames
// {name, file = module}, one sample per window and distinct frame path and wait class in
// window order (speedscope's "time order" view runs through the run), weights = weight_ns,
// startValue 0, endValue the sum of the weights. Throws like folded_stacks.
nlohmann::ordered_json speedscope_profile(const ProfileData& data, std::string_view name,
                                          std::optional<WindowRange> windows = std::nullopt);

enum class ProfileFormat { folded, speedscope };

// Reads `db` (a run's telemetry.db) and writes its samples to `out` in `format` (replacing
// the file in one step). A run without samples (status not "sampled", no counts, or none in
// `windows`) writes nothing: throws nrmlab::Error naming the database, its profile status
// and, when recorded, the setting that would enable sampling. The speedscope profile is
// named after the run directory (the database's directory).
void export_profile(const std::filesystem::path& db, const std::filesystem::path& out,
                    ProfileFormat format, std::optional<WindowRange> windows = std::nullopt);
// The same from `data` already read from `db` (named in messages and the speedscope
// profile), for several exports of one database.
void export_profile(const ProfileData& data, const std::filesystem::path& db,
                    const std::filesystem::path& out, ProfileFormat format,
                    std::optional<WindowRange> windows = std::nullopt);

}  // namespace nrmlab::telemetry::profile

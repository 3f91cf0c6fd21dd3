// Where the time goes in the code (issue 18): the run's stack samples (telemetry/profile)
// summed by the function the time was spent in (on the CPU, or blocked in it), its wait
// class and the call site in the program's own code -- analysis.json's `code`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/analysis_result.hpp"
#include "telemetry/profile/profile_data.hpp"

namespace nrmlab::analysis {

// True for the files every program's stacks pass through on the way to the system: the C
// library, the dynamic loader, the C++ and GCC runtimes, the kernel. A call site is looked
// for outside them. An unknown module (empty) counts as the system's too: it names nothing.
bool is_system_module(std::string_view module);

// Where one stack's time is put: the frame it was spent in and the call site.
struct CodePlace {
  const telemetry::ProfileFrameRow* function = nullptr;
  const telemetry::ProfileFrameRow* caller = nullptr;
  const telemetry::ProfileFrameRow* site = nullptr;
};

// `path` outermost first (ProfileData::frame_path). The function: the innermost named user
// frame (a blocked thread's libc call rather than the kernel's schedule()), else the
// innermost frame. The caller: the innermost frame outside the system's files, above the
// function. The site: the innermost frame of the program's executable above the function,
// when it is not the caller. Null members when the stack has no such frame.
CodePlace place_of(const telemetry::profile::ProfileData& data,
                   const std::vector<std::int64_t>& path);

// The name every view gives a frame (the exports', the flame graph's); "[no stack]" for null.
std::string frame_name(const telemetry::ProfileFrameRow* frame);

// The code profile of samples over `steps` steps and `wall_seconds` of the run. Shares are
// of all the sampled time: every thread's, on and off the CPU.
CodeProfile analyse_code(const telemetry::profile::ProfileData& data, std::size_t steps,
                         double wall_seconds);

// The same from a run's telemetry.db. Never throws: a profile that cannot be read has the
// status "unreadable: <why>" (the rest of the analysis does not depend on it).
CodeProfile analyse_code(const std::filesystem::path& db, std::size_t steps, double wall_seconds);

// "93% sleep in clock_nanosleep (libc.so.6) from pysleep (libpython3.11.so.1.0)": the
// largest entries, for the summary; empty when nothing was sampled.
std::string code_line(const CodeProfile& code);

// A function's name without its parameters and anonymous namespaces, for a line of text.
std::string short_function(std::string name);

}  // namespace nrmlab::analysis

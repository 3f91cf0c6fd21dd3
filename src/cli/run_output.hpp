// What `nrmlab run` leaves behind and prints: the output directory and the synergy table
// (result.json is model::write_result's).
#pragma once

#include <cstdio>
#include <filesystem>

#include "model/result.hpp"

namespace nrmlab::cli {

// Creates the directory and proves it writable now, rather than after hours of running.
void prepare_output_dir(const std::filesystem::path& dir);

// The synergy table a person reads at the end of a run.
void print_summary(std::FILE* out, const model::ExperimentResult& result);

}  // namespace nrmlab::cli

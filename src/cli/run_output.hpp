// What `nrmlab run` leaves behind and prints: the output directory, result.json (written
// atomically) and the synergy table.
#pragma once

#include <cstdio>
#include <filesystem>

#include "model/result.hpp"

namespace nrmlab::cli {

// Creates the directory and proves it writable now, rather than after hours of running.
void prepare_output_dir(const std::filesystem::path& dir);

// Writes DIR/result.json through a temporary file and a rename, so a reader (or a crash)
// never sees half a document.
void write_result(const std::filesystem::path& dir, const model::ExperimentResult& result);

// The synergy table a person reads at the end of a run.
void print_summary(std::FILE* out, const model::ExperimentResult& result);

}  // namespace nrmlab::cli

// Process recycling for `nrmlab run --recycle condition`: each condition runs in a fresh
// process forked from this one before any simulation work, so every condition starts with
// a clean heap, as if the run had been restarted between conditions. The conditions of a
// run are independent simulations whose inputs are a pure function of (seed, condition,
// step, call) for synthetic and replayed sources, so recycling changes cost, never results.
// Each child sends its condition's result back through a pipe; this process assembles
// result.json. The children append to one telemetry.db.
#pragma once

#include <atomic>
#include <functional>

#include "model/result.hpp"

namespace nrmlab::cli {

// `run_part` runs in the child with a configuration of one condition (`first`: the run's
// first process) and returns its result. Throws nrmlab::Error when a child fails; result.json
// then already holds the conditions that completed.
model::ExperimentResult run_recycled(
    const model::RunConfig& config, const std::atomic<bool>& stop,
    const std::function<model::ExperimentResult(const model::RunConfig& part, bool first)>&
        run_part);

}  // namespace nrmlab::cli

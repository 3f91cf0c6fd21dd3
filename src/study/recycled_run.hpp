// Process recycling for `nrmlab run --recycle condition|every:N`: each condition (and, with
// every:N, each stretch of N steps of it) runs in a fresh process forked from this one,
// which does no simulation work itself, so every stretch starts with a clean heap, as if
// the run had been restarted there. A stretch that ends before its condition does sends
// the engine's state (model::Snapshot) back with its result; the next process continues
// from it bit for bit. The inputs of synthetic and replayed sources are a pure function of
// (seed, condition, step, call), so recycling changes cost, never results. This process
// assembles result.json; the children append to one telemetry.db. The children are forked
// by util/process's fork_child: they inherit only stdio and their report pipe, and keep the
// interrupt handlers of `nrmlab run` (a forwarded SIGTERM ends a stretch cleanly). The CLI
// only calls run_recycled.
#pragma once

#include <atomic>
#include <functional>

#include "model/experiment_runner.hpp"
#include "model/result.hpp"

namespace nrmlab::study {

// Runs in the child: `part` names one condition, `segment` the stretch of it; `first` is
// true in the run's first process.
using RunPart = std::function<model::ExperimentResult(const model::RunConfig& part,
                                                      const model::Segment& segment, bool first)>;

// Throws nrmlab::Error when a child fails; result.json then already holds the conditions
// that completed.
model::ExperimentResult run_recycled(const model::RunConfig& config,
                                     const model::Recycling& recycling,
                                     const std::atomic<bool>& stop, const RunPart& run_part);

}  // namespace nrmlab::study

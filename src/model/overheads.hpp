// The overhead knobs: how often the metric source is consulted, how long each sample
// blocks, and how the two faithful databases are written. They change what a run costs,
// never what it computes when the inputs are fixed by a step-granularity replay trace.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nrmlab::model {

struct SamplingPolicy {
  enum class Kind {
    per_call,      // the original: a fresh sample on every request
    spawn_shared,  // the optimized script as run: per call, plus one shared sample per step
                   // that only spawns use
    per_step,      // the intended optimization: one sample per step shared by every use
    every_k,       // one sample every k steps, held in between
  };
  Kind kind = Kind::per_call;
  std::int64_t k = 1;  // only for every_k
};

enum class Persistence {
  connection_per_write,  // the original: open, insert, commit, close for every row
  commit_per_write,      // one connection per database, every row its own transaction
  transaction_per_step,  // one connection per database, one transaction per step
  off,                   // no databases
};

enum class Preset { as_run, optimized_as_run, optimized_as_intended, clean };

struct Overheads {
  SamplingPolicy sampling;
  std::int64_t window_ms = 100;  // blocking sample window (the original slept 100 ms)
  Persistence persistence = Persistence::connection_per_write;
  // The optimized-as-run preset reproduces that the optimized C257-C260 scripts were clones
  // of C256; it acts only with the experiment variant as-run.
  bool runs_as_c256 = false;
};

Overheads overheads_for(Preset preset);

std::string sampling_policy_name(const SamplingPolicy& policy);  // "every:10"
// Accepts per-call, spawn-shared, per-step and every:K (K >= 1).
std::optional<SamplingPolicy> parse_sampling_policy(std::string_view text);
std::string_view persistence_name(Persistence persistence);
std::optional<Persistence> parse_persistence(std::string_view text);
std::string_view preset_name(Preset preset);
std::optional<Preset> parse_preset(std::string_view text);

}  // namespace nrmlab::model

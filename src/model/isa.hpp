// The instruction sets the pair kernels come in, which of them this CPU runs, and the choice
// `--isa` makes. Every variant computes bit-identical results (element-wise IEEE operations,
// no fused multiply-add under -ffp-contract=off); they differ only in speed.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace nrmlab::model {

enum class Isa { automatic, scalar, sse2, avx2, avx512 };

// "auto", "scalar", "sse2", "avx2", "avx512".
std::string_view isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view text);
// Whether this CPU runs the variant (automatic and scalar: always).
bool isa_supported(Isa isa);
// The variant `requested` selects here: automatic -> the widest this CPU runs. Throws
// nrmlab::Error naming --isa when the CPU lacks the requested one.
Isa resolve_isa(Isa requested);
// Why a variant cannot run here ("this CPU lacks AVX-512F"), or nothing.
std::optional<std::string_view> isa_problem(Isa isa);

// How the engine computes, never what: every choice gives bit-identical results.
struct ComputeOptions {
  Isa isa = Isa::automatic;
  std::size_t threads = 1;  // threads scoring the pairs of a step (>= 1)
  // Populations smaller than this decide on one thread: waking the workers would cost more
  // than the step's pairs (tests lower it to run the parallel path on small populations).
  std::size_t parallel_from = 512;
  // Score every pair exactly even where only the decision is needed: the reference the
  // division-free decisions are tested and benchmarked against.
  bool exact_decisions = false;
};

}  // namespace nrmlab::model

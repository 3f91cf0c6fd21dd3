// The row kernels behind PairScores, one variant per instruction set (model/isa.hpp), chosen
// at run time. Each scores agent i against every j > i from phase columns (structure of
// arrays). All variants compute bit-identical results: the same element-wise IEEE operations in
// resonance()'s order, only more lanes at a time.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/isa.hpp"

namespace nrmlab::model {

// A population's phase columns, in list order.
struct PhaseColumns {
  const double* p = nullptr;
  const double* q = nullptr;
  const double* r = nullptr;
  const double* magnitude = nullptr;
  std::size_t n = 0;
};

// resonance()'s three scores for every j > i. A zero magnitude yields NaN or infinities
// here (no selects, so the loop stays vector code); the caller patches those entries.
using ScoreRowKernel = void (*)(const PhaseColumns& columns, std::size_t i, double* alignment,
                                double* ratio, double* similarity);

// The resonance decision for every j > i without dividing, as bits (bit j % 64 of word j / 64):
// `resonant` set where the similarity is certainly >= threshold, `unsure` where the bound of
// pair_kernels.cpp cannot tell and the exact quotients must decide. The words holding bits
// i+1 .. n-1 are overwritten (bits <= i in them cleared). Returns the resonant bits' count. Valid
// only when both magnitudes lie in [k_decidable_low, k_decidable_high]; other pairs are the
// caller's.
using DecideRowKernel = std::size_t (*)(const PhaseColumns& columns, std::size_t i,
                                        double threshold, std::uint64_t* resonant,
                                        std::uint64_t* unsure);

// Magnitudes the division-free bound holds for (pair_kernels.cpp says why).
inline constexpr double k_decidable_low = 0x1p-100;
inline constexpr double k_decidable_high = 0x1p100;

struct PairKernels {
  ScoreRowKernel score = nullptr;
  DecideRowKernel decide = nullptr;
};

// The kernels of a resolved variant (not Isa::automatic; see resolve_isa).
PairKernels pair_kernels(Isa isa);

}  // namespace nrmlab::model

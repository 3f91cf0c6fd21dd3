// The pair kernels, one variant per instruction set: pair_kernel_body.hpp included once in
// each namespace below, under that instruction set's `#pragma GCC target`. Explicit vector
// types (rather than hoping the auto-vectorizer picks a width) make each variant's width
// certain; -ffp-contract=off applies to all of them, so none fuses a multiply-add.
//
// Why the division-free decision is exact (decide_pair, decide_row).
//
// resonance() decides sim >= T with sim = fl(fl(c7 * fl(d / P)) + fl(c3 * fl(s / l))), where
// d = the dot product as computed, P = fl(mi * mj), s and l the smaller and larger magnitude,
// c7 and c3 the doubles nearest 0.7 and 0.3 and T the threshold. d and P are computed the same
// way on both paths, so they are inputs here, as are s, l, c7, c3 and T. Let u = 2^-53 (unit
// roundoff), gamma_k = k u / (1 - k u), and X = c7 d / P + c3 s / l (exact real arithmetic).
//
// (1) The exact path. Every operation rounds once: fl(x) = x (1 + e), |e| <= u, or, when the
//     result is subnormal, fl(x) = x + eta, |eta| <= 2^-1075. With A = c7 d / P, B = c3 s / l
//     (B > 0), sim = (A (1 + t1) + B (1 + t2)) (1 + e) with |t1|, |t2| <= gamma_2, so
//       |sim - X| <= gamma_3 (|A| + B) + 2^-1073
//     (the second term covers underflow of d / P and of c7 * a; c3 * rho cannot underflow as
//     s / l >= 2^-200 below, and a subnormal sum is exact). Hence if X - T > that bound, sim
//     >= T; if T - X > it, sim < T: the decision follows the sign of X - T.
//
// (2) Scaling by P l > 0 (normal: magnitudes lie in [2^-100, 2^100], so P is in
//     [2^-200, 2^200] and P l <= 2^300) turns X - T into
//       D = c7 d l + c3 s P - T P l,
//     and the condition of (1) into |D| > gamma_3 (|c7 d| l + c3 s P) + 2^-773.
//
// (3) The multiplication path computes y1 = fl(fl(c7 d) l), y2 = fl(fl(c3 s) P),
//     z = fl(fl(T P) l), D~ = fl(fl(y1 + y2) - z) and E~ = fl(fl(|y1| + y2) + |z|). With
//     E = |c7 d l| + c3 s P + |T P l|: each product is within gamma_2 of its exact value, the
//     sum adds u (1 + gamma_2) (|c7 d l| + c3 s P) and the difference u |D~| / (1 - u), so
//       |D~ - D| <= gamma_3 E + u / (1 - u) |D~| + 2^-971,
//     the last term for underflow of c7 d or T P (2^-1075 each, times l <= 2^100, plus the
//     products' own). E~ >= (1 - 5u) E (y2 >= 0.3 2^-100 2^-200 is normal, so is E~).
//
// (4) The test: the pair is decided without dividing when |D~| > M~, M~ = fl(2^-50 E~ +
//     2^-700) >= (1 - u)(8u (1 - 5u) E + 2^-700). Then
//       |D| >= (1 - 2u) |D~| - gamma_3 E - 2^-971 > 4.9 u E + 2^-701,
//     which exceeds gamma_3 E + 2^-773 >= the bound of (2), and |D~ - D| < |D~|, so D has D~'s
//     sign: D~ > M~ means resonant and -D~ > M~ not resonant, exactly as resonance() decides.
//     Otherwise (about one pair in 10^15 that is not an exact tie, and every NaN or infinity:
//     their comparisons are false) the pair is unsure and the caller divides.
//
// Pairs with a magnitude outside [2^-100, 2^100] (zero among them) are never decided here.
#include "model/pair_kernels.hpp"

#include <immintrin.h>

#include <algorithm>

namespace nrmlab::model {
namespace {

constexpr double k_relative_margin = 0x1p-50;
constexpr double k_absolute_margin = 0x1p-700;

}  // namespace

namespace scalar_kernels {
// Scalar on purpose: the baseline the vector variants are measured against.
#pragma GCC push_options
#pragma GCC optimize("no-tree-vectorize")
constexpr std::size_t k_width = 1;
using Vec = double;
inline Vec splat(double x) {
  return x;
}
inline Vec load(const double* from) {
  return *from;
}
inline void store(double* to, Vec value) {
  *to = value;
}
inline std::uint64_t gt_bits(Vec a, Vec b) {
  return a > b ? 1 : 0;
}
#include "model/pair_kernel_body.hpp"
#pragma GCC pop_options
}  // namespace scalar_kernels

namespace sse2_kernels {
// SSE2 is x86-64's baseline: no target pragma needed.
constexpr std::size_t k_width = 2;
using Vec = __m128d;
inline Vec splat(double x) {
  return _mm_set1_pd(x);
}
inline Vec load(const double* from) {
  return _mm_loadu_pd(from);
}
inline void store(double* to, Vec value) {
  _mm_storeu_pd(to, value);
}
inline std::uint64_t gt_bits(Vec a, Vec b) {
  return static_cast<std::uint64_t>(_mm_movemask_pd(_mm_cmpgt_pd(a, b)));
}
#include "model/pair_kernel_body.hpp"
}  // namespace sse2_kernels

namespace avx2_kernels {
#pragma GCC push_options
#pragma GCC target("avx2")
constexpr std::size_t k_width = 4;
using Vec = __m256d;
inline Vec splat(double x) {
  return _mm256_set1_pd(x);
}
inline Vec load(const double* from) {
  return _mm256_loadu_pd(from);
}
inline void store(double* to, Vec value) {
  _mm256_storeu_pd(to, value);
}
inline std::uint64_t gt_bits(Vec a, Vec b) {
  return static_cast<std::uint64_t>(_mm256_movemask_pd(_mm256_cmp_pd(a, b, _CMP_GT_OQ)));
}
#include "model/pair_kernel_body.hpp"
#pragma GCC pop_options
}  // namespace avx2_kernels

namespace avx512_kernels {
#pragma GCC push_options
#pragma GCC target("avx512f")
constexpr std::size_t k_width = 8;
using Vec = __m512d;
inline Vec splat(double x) {
  return _mm512_set1_pd(x);
}
inline Vec load(const double* from) {
  return _mm512_loadu_pd(from);
}
inline void store(double* to, Vec value) {
  _mm512_storeu_pd(to, value);
}
inline std::uint64_t gt_bits(Vec a, Vec b) {
  return static_cast<std::uint64_t>(_mm512_cmp_pd_mask(a, b, _CMP_GT_OQ));
}
#include "model/pair_kernel_body.hpp"
#pragma GCC pop_options
}  // namespace avx512_kernels

PairKernels pair_kernels(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return {avx512_kernels::score_row, avx512_kernels::decide_row};
    case Isa::avx2:
      return {avx2_kernels::score_row, avx2_kernels::decide_row};
    case Isa::sse2:
      return {sse2_kernels::score_row, sse2_kernels::decide_row};
    case Isa::automatic:
    case Isa::scalar:
      break;
  }
  return {scalar_kernels::score_row, scalar_kernels::decide_row};
}

}  // namespace nrmlab::model

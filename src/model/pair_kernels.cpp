// The pair kernels, one variant per instruction set: pair_kernel_body.hpp included once in
// each namespace below, under that instruction set's `#pragma GCC target`. Explicit vector
// types (rather than hoping the auto-vectorizer picks a width) make each variant's width
// certain; -ffp-contract=off applies to all of them, so none fuses a multiply-add.
//
// Why the division-free decision is exact (decide_lanes in pair_kernel_body.hpp).
//
// resonance() decides sim >= T with sim = fl(fl(c7 * fl(d / P)) + fl(c3 * fl(s / l))), where
// d = the dot product as computed, P = fl(mi * mj), s and l the smaller and larger magnitude,
// c7 and c3 the doubles nearest 0.7 and 0.3 and T the threshold. d and P are computed the same
// way on both paths, so they are inputs here, as are s, l, c7, c3 and T. Let u = 2^-53 (unit
// roundoff), gamma_k = k u / (1 - k u), X = c7 d / P + c3 s / l in exact arithmetic, and let
// both magnitudes lie in [2^-100, 2^100] (other pairs are decided by dividing), so that P is
// normal in [2^-200, 2^200] and s / l >= 2^-200.
//
// (1) The exact path. Every operation rounds once: fl(x) = x (1 + e), |e| <= u, or, when the
//     result is subnormal, fl(x) = x + eta, |eta| <= 2^-1075. With A = c7 d / P, B = c3 s / l
//     (B > 0, normal), sim = (A (1 + t1) + B (1 + t2)) (1 + e), |t1|, |t2| <= gamma_2, so
//       |sim - X| <= gamma_3 (|A| + B) + 2^-1073
//     (the last term for underflow of d / P and c7 * a; a subnormal sum is exact). Hence if
//     X - T exceeds that bound, sim >= T; if T - X does, sim < T: the sign of X - T decides.
//
// (2) Scaled by P > 0: D = (X - T) P = c7 d + c3 s (P / l) - T P, and P / l = s (1 + delta),
//     |delta| <= u, since P = mi mj (1 + delta) and mi mj / l = s. (1)'s condition becomes
//       |D| > gamma_3 (|c7 d| + c3 s P / l) + 2^-873        (2^-1073 P <= 2^-873).
//
// (3) The multiplication path computes w1 = fl(c7 d), w2 = fl(fl(c3 s) s), w3 = fl(T P),
//     D~ = fl(fl(w1 + w2) - w3) and E~ = fl(fl(|w1| + w2) + |w3|). With E = |c7 d| + c3 s^2 +
//     |T P|: |w2 - c3 s P / l| = c3 s^2 |theta_2 - delta| <= gamma_3 c3 s^2, w1 and w3 are
//     within u of theirs (plus 2^-1075 each if they underflow; w2 >= 0.3 2^-200 is normal),
//     the sum adds u (1 + gamma_3) (|c7 d| + c3 s^2) and the difference u |D~| / (1 - u), so
//       |D~ - D| <= gamma_4 E + u / (1 - u) |D~| + 2^-1074,
//     and E~ >= (1 - 5u) E - 2^-1074 (E~ >= w2 is normal).
//
// (4) The test: the pair is decided without dividing when |D~| > M~, M~ = fl(2^-49 E~ +
//     2^-700) >= (1 - u)(16u (1 - 5u) E + 2^-700) (2^-49 E~ is normal: an exact scaling). Then
//       |D| >= (1 - 2u) |D~| - gamma_4 E - 2^-1074 > 11.9 u E + 2^-702,
//     which exceeds (2)'s bound (c3 s P / l <= (1 + u) c3 s^2, so it is below 3.01 u E +
//     2^-873), and |D~ - D| < |D~|, so D has D~'s sign: D~ > M~ means resonant and -D~ > M~ not
//     resonant, exactly as resonance() decides. Otherwise (a band of relative width about
//     10^-15 around the threshold: in practice only ties, and every NaN or infinity, whose
//     comparisons are false) the pair is unsure and the caller divides.
#include "model/pair_kernels.hpp"

#include <immintrin.h>

#include <algorithm>
#include <bit>
#include <cmath>

namespace nrmlab::model {
namespace {

constexpr double k_relative_margin = 0x1p-49;
constexpr double k_absolute_margin = 0x1p-700;

}  // namespace

// One lane: the double forms of the helpers every variant's body uses.
namespace lane_helpers {
inline double abs_of(double x) {
  return std::fabs(x);
}
inline double min_of(double a, double b) {
  return a < b ? a : b;
}
inline std::uint64_t gt_bits(double a, double b) {
  return a > b ? 1 : 0;
}
}  // namespace lane_helpers

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
// Defined again under this region's options so they inline (lane_helpers' would not).
inline std::uint64_t gt_bits(Vec a, Vec b) {
  return a > b ? 1 : 0;
}
inline Vec abs_of(Vec x) {
  return std::fabs(x);
}
inline Vec min_of(Vec a, Vec b) {
  return a < b ? a : b;
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
inline Vec abs_of(Vec x) {
  return _mm_andnot_pd(_mm_set1_pd(-0.0), x);
}
inline Vec min_of(Vec a, Vec b) {
  return _mm_min_pd(a, b);
}  // a < b ? a : b, as MINPD
using lane_helpers::abs_of;
using lane_helpers::gt_bits;
using lane_helpers::min_of;
#include "model/pair_kernel_body.hpp"
}  // namespace sse2_kernels

namespace avx2_kernels {
#pragma GCC push_options
// POPCNT comes with every AVX2 CPU (isa_supported checks it too).
#pragma GCC target("avx2,popcnt")
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
inline Vec abs_of(Vec x) {
  return _mm256_andnot_pd(_mm256_set1_pd(-0.0), x);
}
inline Vec min_of(Vec a, Vec b) {
  return _mm256_min_pd(a, b);
}
using lane_helpers::abs_of;
using lane_helpers::gt_bits;
using lane_helpers::min_of;
#include "model/pair_kernel_body.hpp"
#pragma GCC pop_options
}  // namespace avx2_kernels

namespace avx512_kernels {
#pragma GCC push_options
#pragma GCC target("avx512f,popcnt")
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
inline Vec abs_of(Vec x) {
  return _mm512_abs_pd(x);
}
// The zero-masked form: GCC 12 warns that _mm512_min_pd's undefined source may be used.
inline Vec min_of(Vec a, Vec b) {
  return _mm512_maskz_min_pd(0xFF, a, b);
}
using lane_helpers::abs_of;
using lane_helpers::gt_bits;
using lane_helpers::min_of;
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

// The body of one pair-kernel variant. pair_kernels.cpp includes it once per instruction set,
// each time inside its own namespace and `#pragma GCC target` region, after defining there:
//   k_width             lanes per vector (1: scalar only)
//   Vec                 a GCC vector of k_width doubles (element-wise operators)
//   splat(double)       every lane that value
//   load(const double*) an unaligned load; store(double*, Vec) an unaligned store
//   gt_bits(Vec a, Vec b) lane k of (a > b, ordered: false on NaN) as bit k
//   abs_of, min_of      |x| (sign bit cleared) and (a < b ? a : b), lane by lane
// and the same three for double (one lane).
// So, deliberately, no #pragma once. The arithmetic is written once here, so every variant and
// the scalar head and tail of each perform the same operations in the same order.

// resonance() without its zero test, operation for operation.
inline void score_pair(double pi, double qi, double ri, double mi, double pj, double qj, double rj,
                       double mj, double& alignment, double& ratio, double& similarity) {
  const double dot = pi * pj + qi * qj + ri * rj;
  alignment = dot / (mi * mj);
  const double smaller = mi < mj ? mi : mj;
  const double larger = mi < mj ? mj : mi;
  ratio = smaller / larger;
  similarity = 0.7 * alignment + 0.3 * ratio;
}

// The scaled difference D~ and its margin (pair_kernels.cpp's bound) for one lane (V = double)
// or a vector of them: bit set in `resonant` where D~ > margin (resonant for certain), in
// `sure` where |D~| > margin (decided; otherwise the caller divides). One template, so the
// scalar head and tail perform exactly the lanes' operations.
template <class V>
[[gnu::always_inline]] inline void decide_lanes(V pi, V qi, V ri, V mi, V pj, V qj, V rj, V mj,
                                                V threshold, std::uint64_t& resonant,
                                                std::uint64_t& sure) {
  const V dot = pi * pj + qi * qj + ri * rj;
  const V product = mi * mj;
  const V smaller = min_of(mi, mj);
  const V w1 = 0.7 * dot;
  const V w2 = (0.3 * smaller) * smaller;
  const V w3 = threshold * product;
  const V difference = (w1 + w2) - w3;
  const V scale = (abs_of(w1) + w2) + abs_of(w3);
  const V margin = k_relative_margin * scale + k_absolute_margin;
  resonant = gt_bits(difference, margin);
  sure = gt_bits(abs_of(difference), margin);
}

void score_row(const PhaseColumns& c, std::size_t i, double* __restrict alignment,
               double* __restrict ratio, double* __restrict similarity) {
  const double pi = c.p[i], qi = c.q[i], ri = c.r[i], mi = c.magnitude[i];
  std::size_t j = i + 1;
  if constexpr (k_width > 1) {
    const Vec mi_lanes = splat(mi);
    for (; j + k_width <= c.n; j += k_width) {
      const Vec mj = load(c.magnitude + j);
      const Vec dot = pi * load(c.p + j) + qi * load(c.q + j) + ri * load(c.r + j);
      const Vec a = dot / (mi * mj);
      const Vec smaller = mi_lanes < mj ? mi_lanes : mj;
      const Vec larger = mi_lanes < mj ? mj : mi_lanes;
      const Vec rho = smaller / larger;
      store(alignment + j, a);
      store(ratio + j, rho);
      store(similarity + j, 0.7 * a + 0.3 * rho);
    }
  }
  for (; j < c.n; ++j)
    score_pair(pi, qi, ri, mi, c.p[j], c.q[j], c.r[j], c.magnitude[j], alignment[j], ratio[j],
               similarity[j]);
}

// Decisions for j in [begin, end), all inside word begin / 64, gathered in registers and
// stored once (a read-modify-write per vector would chain the stores).
inline std::size_t decide_span(const PhaseColumns& c, std::size_t i, double threshold,
                               std::size_t begin, std::size_t end, std::uint64_t* resonant_bits,
                               std::uint64_t* unsure_bits) {
  const double pi = c.p[i], qi = c.q[i], ri = c.r[i], mi = c.magnitude[i];
  std::uint64_t resonant = 0, unsure = 0;
  const auto one = [&](std::size_t j) {
    std::uint64_t yes = 0, sure = 0;
    decide_lanes<double>(pi, qi, ri, mi, c.p[j], c.q[j], c.r[j], c.magnitude[j], threshold, yes,
                         sure);
    resonant |= yes << (j % 64);
    unsure |= (sure ^ 1) << (j % 64);
  };
  std::size_t j = begin;
  if constexpr (k_width > 1) {
    // Up to a multiple of the width, so a vector's bits never straddle two words.
    for (; j % k_width != 0 && j < end; ++j)
      one(j);
    constexpr std::uint64_t k_lanes = (std::uint64_t{1} << k_width) - 1;
    for (; j + k_width <= end; j += k_width) {
      std::uint64_t yes = 0, sure = 0;
      decide_lanes<Vec>(splat(pi), splat(qi), splat(ri), splat(mi), load(c.p + j), load(c.q + j),
                        load(c.r + j), load(c.magnitude + j), splat(threshold), yes, sure);
      resonant |= yes << (j % 64);
      unsure |= (~sure & k_lanes) << (j % 64);
    }
  }
  for (; j < end; ++j)
    one(j);
  resonant_bits[begin / 64] = resonant;
  unsure_bits[begin / 64] = unsure;
  return static_cast<std::size_t>(std::popcount(resonant));
}

// A whole word (begin a multiple of 64): a fixed number of vectors, unrolled.
inline std::size_t decide_word(const PhaseColumns& c, std::size_t begin, const Vec (&row)[5],
                               std::uint64_t* resonant_bits, std::uint64_t* unsure_bits) {
  std::uint64_t resonant = 0, sure = 0;
  for (std::size_t k = 0; k < 64 / k_width; ++k) {
    const std::size_t j = begin + k * k_width;
    std::uint64_t yes = 0, decided = 0;
    decide_lanes<Vec>(row[0], row[1], row[2], row[3], load(c.p + j), load(c.q + j), load(c.r + j),
                      load(c.magnitude + j), row[4], yes, decided);
    resonant |= yes << (k * k_width);
    sure |= decided << (k * k_width);
  }
  resonant_bits[begin / 64] = resonant;
  unsure_bits[begin / 64] = ~sure;
  return static_cast<std::size_t>(std::popcount(resonant));
}

std::size_t decide_row(const PhaseColumns& c, std::size_t i, double threshold,
                       std::uint64_t* __restrict resonant_bits,
                       std::uint64_t* __restrict unsure_bits) {
  const std::size_t n = c.n;
  std::size_t begin = i + 1;
  std::size_t count = 0;
  if (begin >= n) return count;
  if (begin % 64 != 0) {
    const std::size_t end = std::min(n, (begin / 64 + 1) * 64);
    count += decide_span(c, i, threshold, begin, end, resonant_bits, unsure_bits);
    begin = end;
  }
  const Vec row[5] = {splat(c.p[i]), splat(c.q[i]), splat(c.r[i]), splat(c.magnitude[i]),
                      splat(threshold)};
  for (; begin + 64 <= n; begin += 64)
    count += decide_word(c, begin, row, resonant_bits, unsure_bits);
  if (begin < n) count += decide_span(c, i, threshold, begin, n, resonant_bits, unsure_bits);
  return count;
}

// The body of one pair-kernel variant. pair_kernels.cpp includes it once per instruction set,
// each time inside its own namespace and `#pragma GCC target` region, after defining there:
//   k_width             lanes per vector (1: scalar only)
//   Vec                 a GCC vector of k_width doubles (element-wise operators)
//   splat(double)       every lane that value
//   load(const double*) an unaligned load; store(double*, Vec) an unaligned store
//   gt_bits(Vec a, Vec b) lane k of (a > b, ordered: false on NaN) as bit k
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

// The scaled difference D~ and its margin (pair_kernels.cpp's bound): resonant when D~ >
// margin, not resonant when -D~ > margin, else unsure. Operation for operation as the lanes.
inline void decide_pair(double pi, double qi, double ri, double mi, double pj, double qj, double rj,
                        double mj, double threshold, bool& resonant, bool& unsure) {
  const double dot = pi * pj + qi * qj + ri * rj;
  const double product = mi * mj;
  const double smaller = mi < mj ? mi : mj;
  const double larger = mi < mj ? mj : mi;
  const double y1 = (0.7 * dot) * larger;
  const double y2 = (0.3 * smaller) * product;
  const double z = (threshold * product) * larger;
  const double difference = (y1 + y2) - z;
  const double scale = ((y1 < 0.0 ? -y1 : y1) + y2) + (z < 0.0 ? -z : z);
  const double margin = k_relative_margin * scale + k_absolute_margin;
  resonant = difference > margin;
  unsure = !((difference < 0.0 ? -difference : difference) > margin);
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

// One word of decisions: bits for j in [begin, end), all inside word begin / 64, gathered in
// registers and stored once (a read-modify-write per vector would chain the stores).
inline void decide_word(const PhaseColumns& c, std::size_t i, double threshold, std::size_t begin,
                        std::size_t end, std::uint64_t& resonant_word, std::uint64_t& unsure_word) {
  const double pi = c.p[i], qi = c.q[i], ri = c.r[i], mi = c.magnitude[i];
  std::uint64_t resonant_bits = 0, unsure_bits = 0;
  const auto scalar_one = [&](std::size_t j) {
    bool resonant = false;
    bool unsure = false;
    decide_pair(pi, qi, ri, mi, c.p[j], c.q[j], c.r[j], c.magnitude[j], threshold, resonant,
                unsure);
    resonant_bits |= std::uint64_t{resonant} << (j % 64);
    unsure_bits |= std::uint64_t{unsure} << (j % 64);
  };
  std::size_t j = begin;
  if constexpr (k_width > 1) {
    // Up to a multiple of the width, so a vector's bits never straddle two words.
    for (; j % k_width != 0 && j < end; ++j)
      scalar_one(j);
    const Vec mi_lanes = splat(mi);
    constexpr std::uint64_t k_lanes = (std::uint64_t{1} << k_width) - 1;
    for (; j + k_width <= end; j += k_width) {
      const Vec mj = load(c.magnitude + j);
      const Vec dot = pi * load(c.p + j) + qi * load(c.q + j) + ri * load(c.r + j);
      const Vec product = mi * mj;
      const Vec smaller = mi_lanes < mj ? mi_lanes : mj;
      const Vec larger = mi_lanes < mj ? mj : mi_lanes;
      const Vec y1 = (0.7 * dot) * larger;
      const Vec y2 = (0.3 * smaller) * product;
      const Vec z = (threshold * product) * larger;
      const Vec difference = (y1 + y2) - z;
      const Vec scale = ((y1 < 0.0 ? -y1 : y1) + y2) + (z < 0.0 ? -z : z);
      const Vec margin = k_relative_margin * scale + k_absolute_margin;
      const Vec magnitude = difference < 0.0 ? -difference : difference;
      resonant_bits |= gt_bits(difference, margin) << (j % 64);
      unsure_bits |= (~gt_bits(magnitude, margin) & k_lanes) << (j % 64);
    }
  }
  for (; j < end; ++j)
    scalar_one(j);
  resonant_word = resonant_bits;
  unsure_word = unsure_bits;
}

void decide_row(const PhaseColumns& c, std::size_t i, double threshold,
                std::uint64_t* __restrict resonant_bits, std::uint64_t* __restrict unsure_bits) {
  const std::size_t n = c.n;
  for (std::size_t begin = i + 1; begin < n; begin = (begin / 64 + 1) * 64)
    decide_word(c, i, threshold, begin, std::min(n, (begin / 64 + 1) * 64),
                resonant_bits[begin / 64], unsure_bits[begin / 64]);
}

// The "transcendental bridge" (model.md section 2): maps samples to phase states, moves
// three global offsets once per evolve call, and scores pairs of states for resonance.
// One instance per condition. Pure arithmetic: persistence of its rows is the caller's.
#pragma once

#include <array>
#include <cmath>
#include <numbers>

#include "model/metric_sample.hpp"

namespace nrmlab::model {

struct PhaseState {
  double p = 0.0;
  double q = 0.0;
  double r = 0.0;
  double magnitude = 0.0;
};

struct Resonance {
  double alignment = 0.0;
  double ratio = 0.0;
  double similarity = 0.0;
};

inline constexpr double k_two_pi = 2.0 * std::numbers::pi;

// std::fmod(x, 2π), bit for bit, without the library call for the values the bridge
// produces (evolve calls it three times per agent per step). fmod's result is always exact:
// x - n·2π for the n that truncates x / 2π. For 0 <= x < 2π that is x; for 2π <= x < 2·2π it
// is x - 2π, which a double subtraction gives exactly there (Sterbenz's lemma: y/2 <= x <= 2y
// makes x - y representable). Anything else (negative, larger, NaN) goes to fmod.
inline double wrap_two_pi(double x) {
  if (x >= 0.0 && x < k_two_pi) return x;
  if (x >= k_two_pi && x < 2.0 * k_two_pi) return x - k_two_pi;
  return std::fmod(x, k_two_pi);
}

inline PhaseState make_phase(double p, double q, double r) {
  return {p, q, r, std::sqrt(p * p + q * q + r * r)};
}

// Alignment of the two vectors weighted 0.7, ratio of their lengths 0.3. The operation
// order follows model.md literally, so results are reproducible bit for bit.
inline Resonance resonance(const PhaseState& a, const PhaseState& b) {
  if (a.magnitude == 0.0 || b.magnitude == 0.0) return {};
  Resonance result;
  const double dot = a.p * b.p + a.q * b.q + a.r * b.r;
  result.alignment = dot / (a.magnitude * b.magnitude);
  // Plain comparisons rather than fmin/fmax: magnitudes are finite and non-negative, and
  // this form compiles to min/max instructions (no library call, vectorizable).
  const double smaller = a.magnitude < b.magnitude ? a.magnitude : b.magnitude;
  const double larger = a.magnitude < b.magnitude ? b.magnitude : a.magnitude;
  result.ratio = smaller / larger;
  result.similarity = 0.7 * result.alignment + 0.3 * result.ratio;
  return result;
}

class PhaseSpace {
 public:
  // Sample -> phase. Does not move the offsets.
  PhaseState to_phase(const MetricSample& sample) const {
    const double c = sample.cpu_percent / 100.0;
    const double m = sample.memory_percent / 100.0;
    const double d = sample.disk_percent / 100.0;
    const double p = wrap_two_pi(wrap_two_pi(c * std::numbers::pi * 2.0) + m_pi_off);
    const double q = wrap_two_pi(wrap_two_pi(m * std::numbers::e * 2.0) + m_e_off);
    const double r = wrap_two_pi(wrap_two_pi(d * k_phi * 2.0) + m_phi_off);
    return make_phase(p, q, r);
  }

  // The three offsets (pi, e, phi), to continue the bridge in another process.
  std::array<double, 3> offsets() const { return {m_pi_off, m_e_off, m_phi_off}; }
  void set_offsets(const std::array<double, 3>& offsets) {
    m_pi_off = offsets[0];
    m_e_off = offsets[1];
    m_phi_off = offsets[2];
  }

  // Advances the offsets (incremental add-then-fmod, as the original) and returns them.
  PhaseState oscillate() {
    m_pi_off = wrap_two_pi(m_pi_off + 0.1 * std::numbers::pi);
    m_e_off = wrap_two_pi(m_e_off + 0.1 * std::numbers::e / std::numbers::pi);
    m_phi_off = wrap_two_pi(m_phi_off + 0.1 * k_phi / std::numbers::e);
    return make_phase(m_pi_off, m_e_off, m_phi_off);
  }

 private:
  static constexpr double k_phi = std::numbers::phi;
  double m_pi_off = 0.0;
  double m_e_off = 0.0;
  double m_phi_off = 0.0;
};

}  // namespace nrmlab::model

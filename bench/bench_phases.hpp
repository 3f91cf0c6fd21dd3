// Phase states the pair benchmarks score: uniform angles, a fixed seed, so every benchmark
// (and every run of one) scores the same population.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

#include "model/phase_space.hpp"

namespace nrmlab::bench {

inline std::vector<model::PhaseState> random_phases(std::size_t n) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> angle(0.0, model::k_two_pi);
  std::vector<model::PhaseState> phases;
  for (std::size_t i = 0; i < n; ++i)
    phases.push_back(model::make_phase(angle(rng), angle(rng), angle(rng)));
  return phases;
}

}  // namespace nrmlab::bench

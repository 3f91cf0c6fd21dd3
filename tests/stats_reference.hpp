// Shared access to tests/data/stats_reference.json, the reference values that
// tests/data/make_stats_reference.py computed once with scipy/numpy/statsmodels.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace nrmlab::analysis::stats::testing {

inline const nlohmann::json& reference() {
  static const nlohmann::json data = [] {
    std::ifstream in(NRMLAB_TEST_DATA "/stats_reference.json");
    return nlohmann::json::parse(in);
  }();
  return data;
}

inline std::vector<double> numbers(const nlohmann::json& array) {
  return array.get<std::vector<double>>();
}

// A JSON list of rows as a matrix.
inline Eigen::MatrixXd matrix(const nlohmann::json& rows) {
  const auto r = static_cast<Eigen::Index>(rows.size());
  const auto c = r == 0 ? Eigen::Index{0} : static_cast<Eigen::Index>(rows[0].size());
  Eigen::MatrixXd m(r, c);
  for (Eigen::Index i = 0; i < r; ++i)
    for (Eigen::Index j = 0; j < c; ++j)
      m(i, j) = rows[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)].get<double>();
  return m;
}

// Relative agreement for values that may be tiny (p-values far below 1e-100).
inline void expect_close(double actual, double expected, double relative, const std::string& what) {
  EXPECT_NEAR(actual, expected, relative * std::max(std::fabs(expected), 1e-300)) << what;
}

}  // namespace nrmlab::analysis::stats::testing

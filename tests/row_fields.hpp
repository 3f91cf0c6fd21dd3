// Every field of the telemetry row structs, for the column registry's tests: each struct's
// fields named by structured bindings (a field added to a struct without being named here
// does not compile: "only N names provided"), values that differ in every field, and the
// batch the round-trip tests write. Self-contained on rows.hpp alone, so the same batch can
// be written by older sources (tests/data/telemetry_v1_every_column.json was made so).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "telemetry/rows.hpp"

namespace nrmlab::testing {

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
inline constexpr bool k_leaf = std::is_arithmetic_v<T> || std::is_same_v<T, std::string>;
template <class T>
inline constexpr bool k_leaf<std::optional<T>> = true;

template <class G, class... Fields>
void each(G& g, Fields&... fields) {
  (g(fields), ...);
}

// A field added after the frozen fixtures (tests/data/telemetry_v1_*) were made: a visitor
// that fills values (Filler) gives it one from its own range, so every field before it keeps
// the value the fixtures hold.
template <class G, class Field>
void later(G& g, Field& field) {
  if constexpr (requires { g.later(field); })
    g.later(field);
  else
    g(field);
}

// clang-format off
template <class G> void fields(model::SectionTimes& s, G& g) {
  auto& [a, b, c, d] = s; each(g, a, b, c, d); }
template <class G> void fields(model::StepCounters& s, G& g) {
  auto& [a, b, c, d, e, f, h, i, j, k, l] = s; each(g, a, b, c, d, e, f, h, i, j, k, l); }
template <class G> void fields(telemetry::AllocatorStats& s, G& g) {
  auto& [a, b, c, d, e, f, h, i, j] = s; each(g, a, b, c, d, e, f, h, i, j); }
template <class G> void fields(model::SampleKey& s, G& g) {
  auto& [a, b, c] = s; each(g, a, b, c); }
template <class G> void fields(model::MetricSample& s, G& g) {
  auto& [a, b, c, d, e, f, h, i, j] = s; each(g, a, b, c, d, e, f, h, i, j); }
template <class G> void fields(telemetry::SystemSample& s, G& g) {
  auto& [a, b, c, d, e, f, h, i, j, k, l, m, n] = s; each(g, a, b, c, d, e, f, h, i, j, k, l, m, n); }
template <class G> void fields(telemetry::SensorReading& s, G& g) {
  auto& [a, b, c] = s; each(g, a, b, c); }
template <class G> void fields(telemetry::FileSize& s, G& g) {
  auto& [a, b] = s; each(g, a, b); }
template <class G> void fields(telemetry::ProcessSample& s, G& g) {
  auto& [a, b, c, d, e, f, h, i, j, k, l, m, n, o, p, q, r, t, runq] = s;
  each(g, a, b, c, d, e, f, h, i, j, k, l, m, n, o, p, q, r, t); later(g, runq); }
template <class G> void fields(telemetry::StepRow& s, G& g) {
  auto& [a, b, c, d, e, f, h, i, j, k, l, m, n, o, p, runq, rb, wb, rc, wc, sr, sw] = s;
  each(g, a, b, c, d, e, f, h, i, j, k, l, m, n, o, p); later(g, runq); later(g, rb); later(g, wb);
  later(g, rc); later(g, wc); later(g, sr); later(g, sw); }
template <class G> void fields(telemetry::MemoryRow& s, G& g) {
  auto& [a, b, c, d, e, f] = s; each(g, a, b, c, d, e, f); }
template <class G> void fields(telemetry::SampleRow& s, G& g) {
  auto& [a, b] = s; each(g, a, b); }
template <class G> void fields(telemetry::SystemRow& s, G& g) {
  auto& [a, b, c, d, e, f] = s; each(g, a, b, c, d, e, f); }
template <class G> void fields(telemetry::SensorRow& s, G& g) {
  auto& [a, b, c, d] = s; each(g, a, b, c, d); }
template <class G> void fields(telemetry::FileRow& s, G& g) {
  auto& [a, b, c, d] = s; each(g, a, b, c, d); }
template <class G> void fields(telemetry::WorkRow& s, G& g) {
  auto& [a, b, c, d] = s; each(g, a, b, c, d); }
template <class G> void fields(telemetry::ProcessRow& s, G& g) {
  auto& [a, b, c, d] = s; each(g, a, b, c, d); }
template <class G, class A, class B> void fields(std::pair<A, B>& s, G& g) {
  each(g, s.first, s.second); }
// clang-format on

template <class T, class F>
void for_each_leaf(T& value, F& f);

// The visitor for_each_leaf hands to fields(): passes a later field on as one.
template <class F>
struct Recurse {
  F& f;
  template <class T>
  void operator()(T& field) {
    for_each_leaf(field, f);
  }
  template <class T>
  void later(T& field) {
    static_assert(k_leaf<T>, "a later field is a leaf");
    nrmlab::testing::later(f, field);
  }
};

// Calls f on every leaf (number, string or optional) of `value`, depth first.
template <class T, class F>
void for_each_leaf(T& value, F& f) {
  if constexpr (k_leaf<T>) {
    f(value);
  } else {
    Recurse<F> recurse{f};
    fields(value, recurse);
  }
}

// Gives every leaf a value no other leaf has (or, with `absent`, leaves optionals empty).
struct Filler {
  std::int64_t next = 1000;
  std::int64_t later_next = 900'000;  // for later fields (see later())
  bool absent = false;

  template <class T>
  void later(T& leaf) {
    std::swap(next, later_next);
    (*this)(leaf);
    std::swap(next, later_next);
  }

  template <class T>
  void operator()(T& leaf) {
    if constexpr (IsOptional<T>::value) {
      typename T::value_type value{};
      (*this)(value);
      leaf = absent ? std::nullopt : std::optional(value);
    } else if constexpr (std::is_same_v<T, std::string>) {
      leaf = "text " + std::to_string(next++);
    } else if constexpr (std::is_floating_point_v<T>) {
      leaf = static_cast<double>(next++) + 0.25;
    } else {
      leaf = static_cast<T>(next++);
    }
  }
};

// Changes a leaf's value (an absent optional gets one).
struct Perturb {
  template <class T>
  void operator()(T& leaf) const {
    if constexpr (IsOptional<T>::value) {
      typename T::value_type value = leaf.value_or(typename T::value_type{});
      (*this)(value);
      leaf = value;
    } else if constexpr (std::is_same_v<T, std::string>) {
      leaf += " changed";
    } else {
      leaf += static_cast<T>(1'000'003);
    }
  }
};

// Two rows of a table: every field distinct, then the same with every optional absent.
template <class Row>
void add_rows(std::vector<Row>& rows, Filler& filler, void (*key)(Row&, int)) {
  for (const bool absent : {false, true}) {
    Row row;
    filler.absent = absent;
    for_each_leaf(row, filler);
    key(row, static_cast<int>(rows.size()));
    rows.push_back(row);
  }
}

// One condition (2) and steps 7 and 8, so every table's rows meet in the analysis.
inline constexpr int k_condition = 2;
inline telemetry::Batch every_column_batch() {
  telemetry::Batch b;
  Filler f;
  add_rows<std::pair<int, std::string>>(b.conditions, f, [](auto& r, int i) { r.first = 2 + i; });
  add_rows<telemetry::StepRow>(b.steps, f, [](auto& r, int i) {
    r.condition = k_condition;
    r.step = 7 + i;
    r.wall_ns = 1'000'000'000;  // so compute_ns is positive and unlike any other value
  });
  add_rows<telemetry::MemoryRow>(b.memory, f, [](auto& r, int i) {
    r.condition = k_condition;
    r.step = 7 + i;
  });
  add_rows<telemetry::SampleRow>(b.samples, f, [](auto& r, int i) {
    r.key.condition = k_condition;
    r.key.step = 7 + i;
  });
  add_rows<telemetry::SystemRow>(b.system, f, [](auto& r, int i) {
    r.condition = k_condition;
    r.step = 7 + i;
  });
  add_rows<telemetry::SensorRow>(b.sensors, f, [](auto& r, int i) {
    r.condition = k_condition;
    r.step = 7 + i;
  });
  add_rows<telemetry::FileRow>(b.files, f, [](auto& r, int i) {
    r.condition = k_condition;
    r.step = 7 + i;
  });
  add_rows<telemetry::WorkRow>(b.work, f, [](auto& r, int i) {
    r.condition = k_condition;
    r.step = 7 + i;
  });
  add_rows<telemetry::ProcessRow>(b.process, f, [](auto& r, int i) { r.step = 7 + i; });
  add_rows<std::pair<std::string, std::string>>(b.meta, f, [](auto&, int) {});
  b.meta.emplace_back("schema", "nrmlab.telemetry/1");
  return b;
}

}  // namespace nrmlab::testing

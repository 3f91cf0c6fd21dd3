// Reading analysis.json and manifest.json without trusting their shape: a const
// nlohmann::json's operator[] is undefined behaviour for a missing key and throws for a
// null, and a report must still draw what it can from an older or partial document.
#pragma once

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace nrmlab::report {

// object[key], or null when object is not an object or has no such key.
inline const nlohmann::json& field(const nlohmann::json& object, std::string_view key) {
  static const nlohmann::json k_missing;
  if (!object.is_object()) return k_missing;
  const auto found = object.find(key);
  return found == object.end() ? k_missing : *found;
}

// A JSON number as a double; `fallback` (NaN unless given) for null or anything else.
inline double number(const nlohmann::json& value, double fallback = std::nan("")) {
  return value.is_number() ? value.get<double>() : fallback;
}

// object[key] as T, or `fallback` when it is missing or null. Throws nlohmann's type_error
// when it holds another type.
template <typename T>
T value_or(const nlohmann::json& object, std::string_view key, T fallback) {
  const nlohmann::json& value = field(object, key);
  return value.is_null() ? fallback : value.get<T>();
}
inline std::string value_or(const nlohmann::json& object, std::string_view key,
                            const char* fallback) {
  return value_or<std::string>(object, key, fallback);
}

}  // namespace nrmlab::report

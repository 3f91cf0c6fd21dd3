// Strict text-to-number conversion: the whole string must be the number, nothing more.
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>

namespace nrmlab {

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  const char* first = text.data();
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, value);
  if (ec != std::errc{} || end != last || text.empty()) return std::nullopt;
  return value;
}

}  // namespace nrmlab

// FNV-1a, 64 bit: a cheap, stable digest for "are these two states bit-identical?" checks.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace nrmlab {

class Fnv1a {
 public:
  void add_bytes(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      m_state ^= bytes[i];
      m_state *= k_prime;
    }
  }
  void add(double value) { add_bytes(&value, sizeof value); }
  void add(std::uint64_t value) { add_bytes(&value, sizeof value); }
  void add(std::string_view text) { add_bytes(text.data(), text.size()); }
  std::uint64_t value() const { return m_state; }

 private:
  static constexpr std::uint64_t k_prime = 0x100000001b3ULL;
  std::uint64_t m_state = 0xcbf29ce484222325ULL;
};

}  // namespace nrmlab

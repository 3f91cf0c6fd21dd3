#include "model/isa.hpp"

#include <fmt/format.h>

#include <array>

#include "util/error.hpp"

namespace nrmlab::model {
namespace {

constexpr std::array<std::string_view, 5> k_isa_names = {"auto", "scalar", "sse2", "avx2",
                                                         "avx512"};

}  // namespace

std::string_view isa_name(Isa isa) {
  return k_isa_names[static_cast<std::size_t>(isa)];
}

std::optional<Isa> parse_isa(std::string_view text) {
  for (std::size_t k = 0; k < k_isa_names.size(); ++k)
    if (k_isa_names[k] == text) return static_cast<Isa>(k);
  return std::nullopt;
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::automatic:
    case Isa::scalar:
      return true;
    case Isa::sse2:
      return __builtin_cpu_supports("sse2");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("popcnt");
  }
  return false;
}

std::optional<std::string_view> isa_problem(Isa isa) {
  if (isa_supported(isa)) return std::nullopt;
  switch (isa) {
    case Isa::sse2:
      return "this CPU lacks SSE2";
    case Isa::avx2:
      return "this CPU lacks AVX2";
    case Isa::avx512:
      return "this CPU lacks AVX-512F";
    default:
      return std::nullopt;
  }
}

Isa resolve_isa(Isa requested) {
  if (requested == Isa::automatic) {
    for (const Isa isa : {Isa::avx512, Isa::avx2, Isa::sse2})
      if (isa_supported(isa)) return isa;
    return Isa::scalar;
  }
  if (const auto problem = isa_problem(requested))
    throw Error(fmt::format("--isa {}: {}", isa_name(requested), *problem));
  return requested;
}

}  // namespace nrmlab::model

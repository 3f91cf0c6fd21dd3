// Helpers over the registered subcommands, for messages that name what exists, and the
// path of nrmlab itself.
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace nrmlab::cli {

inline bool is_command(const CLI::App& app, std::string_view name) {
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
    if (command->get_name() == name) return true;
  return false;
}

inline std::string command_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
    if (!command->get_group().empty())  // internal commands (an empty group) stay unlisted
      names += (names.empty() ? "" : ", ") + command->get_name();
  return names;
}

// This nrmlab's own executable, which the study runner and the validator start per run.
inline std::filesystem::path own_binary() {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error(fmt::format("cannot find the nrmlab binary: {}", ec.message()));
  return path;
}

}  // namespace nrmlab::cli

// Helpers over the registered subcommands, for messages that name what exists.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace nrmlab::cli {

inline bool is_command(const CLI::App& app, std::string_view name) {
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
    if (command->get_name() == name) return true;
  return false;
}

inline std::string command_names(const CLI::App& app) {
  std::string names;
  for (const CLI::App* command : app.get_subcommands([](const CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + command->get_name();
  return names;
}

}  // namespace nrmlab::cli

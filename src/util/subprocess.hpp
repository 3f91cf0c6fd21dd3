// Runs a program to completion and captures what it prints: for short helper commands
// (sbatch, scontrol, squeue) whose output is the answer. The program is executed directly
// from argv, never through a shell, so nothing in an argument is interpreted.
#pragma once

#include <string>
#include <vector>

namespace nrmlab {

struct CommandOutput {
  int exit_code = -1;  // -1: it did not start or a signal ended it
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH. Never throws for the program's failure: a program that is
// missing yields exit_code 127 and a message in `err`.
CommandOutput run_command(const std::vector<std::string>& argv);

}  // namespace nrmlab

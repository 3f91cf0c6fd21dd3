// Runs a program to completion and captures what it prints: for short helper commands
// (sbatch, scontrol, squeue, gnuplot) whose output is the answer. Started by the launcher
// (util/process.hpp): from argv, never through a shell, so nothing in an argument is
// interpreted, and with nothing of ours but stdin inherited.
#pragma once

#include <string>
#include <vector>

namespace nrmlab {

struct CommandOutput {
  int exit_code = -1;  // 128 + the signal when a signal ended it
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH. A program that cannot be executed is not an exception here
// but an answer: exit_code 127 (not found) or 126, and `err` says "cannot run PROGRAM:
// REASON". Throws nrmlab::Error when no process can be started at all (pipe, fork).
CommandOutput run_command(const std::vector<std::string>& argv);

}  // namespace nrmlab

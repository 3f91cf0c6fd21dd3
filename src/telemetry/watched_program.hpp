// The program `nrmlab watch` runs: executed directly from argv (no shell, so nothing in an
// argument is interpreted), in its own process group (a terminal's Ctrl-C reaches nrmlab,
// which forwards it, so the program gets each signal exactly once), told to die with
// nrmlab (PR_SET_PDEATHSIG: nrmlab never leaves it orphaned), with its stdout and stderr on
// pipes that nrmlab reads, passes on and scans for step markers, and a step channel: the
// write end of a pipe whose number is in NRMLAB_STEP_FD, and the path of a datagram socket
// in NRMLAB_STEP_SOCKET.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace nrmlab::telemetry {

// The program could not be started; exit_code follows the shell's convention (127: not
// found, 126: found but not executable).
class ProgramNotStarted : public Error {
 public:
  ProgramNotStarted(const std::string& what, int exit_code) : Error(what), m_exit_code(exit_code) {}
  int exit_code() const { return m_exit_code; }

 private:
  int m_exit_code;
};

// A file that is removed (unlinked) when its owner goes: the step socket leaves no stale
// file behind on any path out of a watch (the program not started, an exception, the end).
class RemovedPath {
 public:
  RemovedPath() = default;
  explicit RemovedPath(std::filesystem::path path) : m_path(std::move(path)) {}
  ~RemovedPath() { remove(); }
  RemovedPath(RemovedPath&& other) noexcept : m_path(std::exchange(other.m_path, {})) {}
  RemovedPath& operator=(RemovedPath&& other) noexcept {
    if (this != &other) {
      remove();
      m_path = std::exchange(other.m_path, {});
    }
    return *this;
  }
  RemovedPath(const RemovedPath&) = delete;
  RemovedPath& operator=(const RemovedPath&) = delete;

  void remove() noexcept {
    if (!m_path.empty()) ::unlink(m_path.c_str());
    m_path.clear();
  }

 private:
  std::filesystem::path m_path;
};

struct StartedProgram {
  pid_t pid = -1;
  UniqueFd stdout_fd;  // read ends, non-blocking
  UniqueFd stderr_fd;
  UniqueFd step_fd;
  RemovedPath step_socket_file;  // the socket's path, removed with the program's descriptors
  UniqueFd step_socket;          // bound datagram socket (invalid when no path was given)
};

// Starts argv[0] (looked up in PATH) with the environment plus NRMLAB_STEP_FD and, when
// `step_socket` is not empty, NRMLAB_STEP_SOCKET (the socket is created there first).
// `own_group`: the program gets its own process group. Not when nrmlab reads a terminal:
// a program in a background group that reads the terminal is stopped (SIGTTIN), so there
// it stays in nrmlab's group and the terminal's signals reach it directly.
// `cgroup_procs_fd`: the program joins that cgroup before it runs (LaunchOptions).
// Throws ProgramNotStarted when the program cannot be executed (reported by the child
// through a close-on-exec pipe, so the reason is exact), nrmlab::Error for anything else.
StartedProgram start_program(const std::vector<std::string>& argv,
                             const std::filesystem::path& step_socket, bool own_group,
                             int cgroup_procs_fd = -1);

}  // namespace nrmlab::telemetry

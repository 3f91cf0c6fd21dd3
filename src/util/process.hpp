// The one way nrmlab starts a child process. Programs are executed directly from argv (looked
// up in PATH when argv[0] has no slash), never through a shell, so nothing in an argument is
// interpreted. Every child starts clean whatever its parent inherited or set up:
//  * only stdin, stdout, stderr and the descriptors named in `pass_fds` are open in it (a
//    descriptor the parent got without close-on-exec is not the child's business, and a
//    pipe's write end held by a stray child would keep its reader from ever seeing EOF);
//  * every signal has its default disposition and none is blocked, except `blocked_signals`
//    (an ignored SIGPIPE or a blocked SIGCHLD survives exec and breaks ordinary programs);
//  * a failure in the child before the program runs (a missing program, a working directory
//    that cannot be entered) comes back to the parent through a close-on-exec pipe, so the
//    caller gets an nrmlab::Error naming the program and the reason instead of a bare 127.
// fork_child applies the same hygiene to a forked copy of this process that runs a function
// instead of a program (a CPU spinner, a recycled run's stretch).
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace nrmlab {

// Where one of the child's standard streams goes.
class StreamTarget {
 public:
  enum class Kind { inherit, null, file, pipe, descriptor };

  static StreamTarget inherit() { return StreamTarget(Kind::inherit); }
  // /dev/null.
  static StreamTarget null() { return StreamTarget(Kind::null); }
  // A file, created (0644) or truncated; opened by the parent, so an error names the file.
  static StreamTarget file(std::filesystem::path path) {
    StreamTarget target(Kind::file);
    target.m_path = std::move(path);
    return target;
  }
  // A pipe whose other end the parent gets in Spawned.
  static StreamTarget pipe() { return StreamTarget(Kind::pipe); }
  // A descriptor of the parent's (it stays the parent's; the child gets a copy).
  static StreamTarget descriptor(int fd) {
    StreamTarget target(Kind::descriptor);
    target.m_fd = fd;
    return target;
  }

  Kind kind() const { return m_kind; }
  const std::filesystem::path& path() const { return m_path; }
  int fd() const { return m_fd; }

 private:
  explicit StreamTarget(Kind kind) : m_kind(kind) {}
  Kind m_kind;
  std::filesystem::path m_path;
  int m_fd = -1;
};

struct LaunchOptions {
  StreamTarget stdin_from = StreamTarget::inherit();
  StreamTarget stdout_to = StreamTarget::inherit();
  StreamTarget stderr_to = StreamTarget::inherit();
  // Descriptors the child keeps, at the same numbers (their close-on-exec flag is cleared).
  std::vector<int> pass_fds;
  // Changes to this process's environment: a value sets the variable, nullopt removes it.
  std::vector<std::pair<std::string, std::optional<std::string>>> environment;
  std::filesystem::path working_dir;  // empty: this process's
  // Sent to the child when this thread's process dies (PR_SET_PDEATHSIG); a parent that is
  // already gone by the time the child has set it ends the child at once.
  std::optional<int> parent_death_signal;
  bool own_process_group = false;  // setpgid(0, 0), done on both sides of the fork
  // Stay blocked in the child (it unblocks them itself once it can handle them).
  std::vector<int> blocked_signals;
  // fork_child only: keep this process's signal handlers (the function relies on them).
  bool keep_signal_handlers = false;
  // An open cgroup.procs (cgroup v2): the child writes itself there first thing, so it and
  // everything it starts run in that cgroup. A failure leaves it where it was; the caller
  // checks (/proc/PID/cgroup). -1: none.
  int join_cgroup_fd = -1;
};

// A started child. The pipes are the parent's ends of StreamTarget::pipe() streams (stdin's
// write end, stdout's and stderr's read ends), invalid for other targets. The caller reaps
// the child (wait_for_exit or its own waitpid).
struct Spawned {
  pid_t pid = -1;
  UniqueFd stdin_pipe;
  UniqueFd stdout_pipe;
  UniqueFd stderr_pipe;
};

// A program that could not be started. exit_code follows the shell's convention: 127 when
// it was not found, 126 otherwise.
class LaunchError : public Error {
 public:
  LaunchError(const std::string& what, int error_number)
      : Error(what), m_error_number(error_number) {}
  int error_number() const { return m_error_number; }
  int exit_code() const { return m_error_number == ENOENT ? 127 : 126; }

 private:
  int m_error_number;
};

// Starts argv. Throws LaunchError ("cannot run PROGRAM: REASON") when the program cannot be
// executed, nrmlab::Error naming the culprit for anything else (a pipe, a file, fork).
Spawned spawn(const std::vector<std::string>& argv, const LaunchOptions& options = {});

// Forks a copy of this process that runs `body` and exits with what it returns (1, after
// printing it to stderr, when it throws). stdio is flushed first, so nothing buffered is
// written twice. In a process with other threads, `body` may only make async-signal-safe
// calls. `environment` and `working_dir` are applied; `name` names the child in errors.
Spawned fork_child(const std::string& name, const std::function<int()>& body,
                   const LaunchOptions& options = {});

// How a child ended. `code` is the exit status, or 128 + the signal that ended it.
struct ExitStatus {
  int code = -1;
  int signal = 0;  // 0: it exited
  bool exited() const { return signal == 0; }
};
ExitStatus decode_wait_status(int wait_status);

// Waits for the child (retrying on EINTR). Throws nrmlab::Error naming `name` if it cannot.
ExitStatus wait_for_exit(pid_t pid, const std::string& name);

}  // namespace nrmlab

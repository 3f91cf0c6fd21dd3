#include "util/process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string_view>

extern char** environ;

namespace nrmlab {
namespace {

// What the child reports when it cannot get as far as the program (or the function).
enum class Stage : int { exec, chdir, redirect };

struct ChildFailure {
  Stage stage = Stage::exec;
  int error = 0;
};

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe make_pipe(const std::string& name) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw Error(fmt::format("cannot start {}: pipe: {}", name, std::strerror(errno)));
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

UniqueFd open_target(const std::filesystem::path& path, int flags) {
  UniqueFd fd(::open(path.c_str(), flags | O_CLOEXEC, 0644));
  if (!fd.valid())
    throw Error(fmt::format("cannot {} {}: {}", (flags & O_CREAT) != 0 ? "create" : "open",
                            path.string(), std::strerror(errno)));
  return fd;
}

// Everything the child needs, built before fork: between fork and exec only
// async-signal-safe calls are allowed, so nothing may allocate there.
struct ChildPlan {
  std::vector<std::string> arguments;
  std::vector<char*> argv;
  std::vector<std::string> environment;
  std::vector<char*> envp;             // empty: this process's environment
  std::array<UniqueFd, 3> child_ends;  // what becomes stdin, stdout, stderr (invalid: inherit)
  std::vector<int> keep;               // sorted pass_fds
  int max_fd = 1024;                   // for the close-on-exec fallback
};

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (std::string& text : strings)
    result.push_back(text.data());
  result.push_back(nullptr);
  return result;
}

void plan_environment(ChildPlan& plan, const LaunchOptions& options) {
  if (options.environment.empty()) return;
  const auto overridden = [&](std::string_view entry) {
    const std::string_view name = entry.substr(0, entry.find('='));
    return std::any_of(options.environment.begin(), options.environment.end(),
                       [&](const auto& change) { return change.first == name; });
  };
  for (char** entry = environ; *entry != nullptr; ++entry)
    if (!overridden(*entry)) plan.environment.emplace_back(*entry);
  for (const auto& [name, value] : options.environment)
    if (value) plan.environment.push_back(name + "=" + *value);
  plan.envp = pointers(plan.environment);
}

// Opens what the child's stream `index` becomes; returns the parent's end of a pipe.
UniqueFd plan_stream(ChildPlan& plan, int index, const StreamTarget& target,
                     const std::string& name) {
  UniqueFd& child_end = plan.child_ends[static_cast<std::size_t>(index)];
  switch (target.kind()) {
    case StreamTarget::Kind::inherit:
      return {};
    case StreamTarget::Kind::null:
      child_end = open_target("/dev/null", index == STDIN_FILENO ? O_RDONLY : O_WRONLY);
      return {};
    case StreamTarget::Kind::file:
      child_end = open_target(target.path(), O_WRONLY | O_CREAT | O_TRUNC);
      return {};
    case StreamTarget::Kind::descriptor:
      child_end.reset(::fcntl(target.fd(), F_DUPFD_CLOEXEC, 3));
      if (!child_end.valid())
        throw Error(fmt::format("cannot start {}: descriptor {}: {}", name, target.fd(),
                                std::strerror(errno)));
      return {};
    case StreamTarget::Kind::pipe: {
      Pipe pipe = make_pipe(name);
      if (index == STDIN_FILENO) {
        child_end = std::move(pipe.read);
        return std::move(pipe.write);
      }
      child_end = std::move(pipe.write);
      return std::move(pipe.read);
    }
  }
  return {};
}

ChildPlan make_plan(const LaunchOptions& options, const std::string& name, Spawned& spawned) {
  ChildPlan plan;
  plan_environment(plan, options);
  spawned.stdin_pipe = plan_stream(plan, STDIN_FILENO, options.stdin_from, name);
  spawned.stdout_pipe = plan_stream(plan, STDOUT_FILENO, options.stdout_to, name);
  spawned.stderr_pipe = plan_stream(plan, STDERR_FILENO, options.stderr_to, name);
  plan.keep = options.pass_fds;
  std::sort(plan.keep.begin(), plan.keep.end());
  for (const int fd : plan.keep)
    if (fd <= STDERR_FILENO || ::fcntl(fd, F_GETFD) < 0)
      throw Error(fmt::format("cannot start {}: {} is not a descriptor to pass", name, fd));
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    plan.max_fd = static_cast<int>(std::min<rlim_t>(limit.rlim_cur, 1 << 20));
  return plan;
}

// ---- In the child: async-signal-safe calls only. ----

[[noreturn]] void fail(int report, Stage stage) {
  const ChildFailure failure{stage, errno};
  (void)!::write(report, &failure, sizeof failure);
  ::_exit(failure.error == ENOENT ? 127 : 126);
}

void reset_signals(const LaunchOptions& options) {
  if (!options.keep_signal_handlers) {
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    for (int signal = 1; signal < NSIG; ++signal)
      ::sigaction(signal, &default_action, nullptr);  // EINVAL for SIGKILL/SIGSTOP: fine
  }
  sigset_t blocked;
  sigemptyset(&blocked);
  for (const int signal : options.blocked_signals)
    sigaddset(&blocked, signal);
  ::sigprocmask(SIG_SETMASK, &blocked, nullptr);
}

void redirect_streams(ChildPlan& plan, int report) {
  // A child end that happens to be 0-2 (this process was started with one closed) must not
  // be overwritten by an earlier dup2: move it out of the way first.
  for (UniqueFd& end : plan.child_ends)
    if (end.valid() && end.get() <= STDERR_FILENO) {
      const int moved = ::fcntl(end.get(), F_DUPFD_CLOEXEC, 3);
      if (moved < 0) fail(report, Stage::redirect);
      (void)end.release();  // the original number is one of 0-2: the dup2 below replaces it
      end = UniqueFd(moved);
    }
  for (int target = 0; target <= STDERR_FILENO; ++target) {
    const UniqueFd& end = plan.child_ends[static_cast<std::size_t>(target)];
    if (end.valid() && ::dup2(end.get(), target) < 0) fail(report, Stage::redirect);
  }
}

// Marks everything above stderr close-on-exec, then lets the passed descriptors through.
void close_on_exec_all_but(const ChildPlan& plan) {
  if (::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    for (int fd = 3; fd < plan.max_fd; ++fd)  // kernels before 5.11
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  for (const int fd : plan.keep)
    ::fcntl(fd, F_SETFD, 0);
}

// Closes everything above stderr but the passed descriptors and `report` (no exec follows).
void close_all_but(const ChildPlan& plan, int report) {
  std::array<int, 64> keep{};
  std::size_t count = 0;
  for (const int fd : plan.keep)
    if (count < keep.size()) keep[count++] = fd;
  if (count < keep.size()) keep[count++] = report;
  std::sort(keep.begin(), keep.begin() + static_cast<std::ptrdiff_t>(count));
  unsigned from = 3;
  for (std::size_t i = 0; i <= count; ++i) {
    const unsigned to = i < count ? static_cast<unsigned>(keep[i]) : ~0U;  // exclusive
    if (to > from && ::syscall(SYS_close_range, from, to - 1, 0U) != 0) {
      const int end = i < count ? std::min(plan.max_fd, keep[i]) : plan.max_fd;
      for (int fd = static_cast<int>(from); fd < end; ++fd)  // kernels before 5.9
        ::close(fd);
    }
    if (i < count) from = std::max(from, to + 1);
  }
}

void prepare_child(ChildPlan& plan, const LaunchOptions& options, pid_t parent, int report) {
  if (options.join_cgroup_fd >= 0) (void)!::write(options.join_cgroup_fd, "0", 1);
  if (options.own_process_group) ::setpgid(0, 0);
  if (options.parent_death_signal) {
    ::prctl(PR_SET_PDEATHSIG, *options.parent_death_signal);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  }
  reset_signals(options);
  redirect_streams(plan, report);
  if (!options.working_dir.empty() && ::chdir(options.working_dir.c_str()) != 0)
    fail(report, Stage::chdir);
}

// ---- In the parent again. ----

// Waits until the child has exec'd (or started its function: the report pipe closes) or
// reported why it could not; then throws, having reaped it.
void await_start(UniqueFd report, pid_t pid, const std::string& name,
                 const LaunchOptions& options) {
  ChildFailure failure;
  ssize_t got;
  while ((got = ::read(report.get(), &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  if (got != static_cast<ssize_t>(sizeof failure)) return;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const std::string reason = std::strerror(failure.error);
  switch (failure.stage) {
    case Stage::exec:
      throw LaunchError(fmt::format("cannot run {}: {}", name, reason), failure.error);
    case Stage::chdir:
      throw LaunchError(fmt::format("cannot run {}: cannot enter {}: {}", name,
                                    options.working_dir.string(), reason),
                        failure.error);
    case Stage::redirect:
      break;
  }
  throw LaunchError(fmt::format("cannot run {}: redirecting its output: {}", name, reason),
                    failure.error);
}

template <typename InChild>
Spawned start(const std::string& name, const LaunchOptions& options, InChild&& in_child) {
  Spawned spawned;
  ChildPlan plan = make_plan(options, name, spawned);
  Pipe report = make_pipe(name);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    prepare_child(plan, options, parent, report.write.get());
    in_child(plan, report.write.get());  // does not return
  }
  if (pid < 0) throw Error(fmt::format("cannot start {}: fork: {}", name, std::strerror(errno)));
  // Also here, so that a signal sent to the group right after we return finds it.
  if (options.own_process_group) ::setpgid(pid, pid);
  plan.child_ends = {};
  report.write.reset();
  await_start(std::move(report.read), pid, name, options);
  spawned.pid = pid;
  return spawned;
}

}  // namespace

Spawned spawn(const std::vector<std::string>& argv, const LaunchOptions& options) {
  if (argv.empty() || argv.front().empty()) throw Error("cannot start a process: no program");
  std::vector<std::string> arguments = argv;
  std::vector<char*> args = pointers(arguments);
  return start(argv.front(), options, [&](ChildPlan& plan, int report) {
    close_on_exec_all_but(plan);
    char** envp = plan.envp.empty() ? environ : plan.envp.data();
    ::execvpe(args[0], args.data(), envp);
    fail(report, Stage::exec);
  });
}

Spawned fork_child(const std::string& name, const std::function<int()>& body,
                   const LaunchOptions& options) {
  std::fflush(nullptr);  // else what stdio holds now would be written by both processes
  return start(name, options, [&](ChildPlan& plan, int report) {
    close_all_but(plan, report);
    if (!plan.envp.empty()) environ = plan.envp.data();
    ::close(report);  // the parent now knows the child is running
    int code = 1;
    try {
      code = body();
    } catch (const std::exception& error) {
      std::fprintf(stderr, "nrmlab: error: %s\n", error.what());
    }
    std::fflush(nullptr);
    ::_exit(code);  // the parent owns everything else this process inherited
  });
}

ExitStatus decode_wait_status(int wait_status) {
  ExitStatus status;
  if (WIFEXITED(wait_status)) {
    status.code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
    status.code = 128 + status.signal;
  }
  return status;
}

ExitStatus wait_for_exit(pid_t pid, const std::string& name) {
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0)
    if (errno != EINTR)
      throw Error(fmt::format("lost {} (pid {}): {}", name, pid, std::strerror(errno)));
  return decode_wait_status(wait_status);
}

}  // namespace nrmlab

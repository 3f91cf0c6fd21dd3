#include "telemetry/watched_program.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace nrmlab::telemetry {
namespace {

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw Error(fmt::format("cannot watch: pipe: {}", std::strerror(errno)));
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

UniqueFd bind_step_socket(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string text = path.string();
  if (text.size() >= sizeof(address.sun_path))
    throw Error(fmt::format("step socket path {} is too long for a Unix socket ({} bytes at most)",
                            text, sizeof(address.sun_path) - 1));
  std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
  UniqueFd socket(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket.valid())
    throw Error(fmt::format("cannot create the step socket: {}", std::strerror(errno)));
  ::unlink(text.c_str());
  if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0)
    throw Error(fmt::format("cannot create the step socket {}: {}", text, std::strerror(errno)));
  return socket;
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, int out, int err, int step,
                             int report, bool own_group, pid_t parent) {
  if (own_group) ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // nrmlab died before the line above
  // Descriptors nrmlab inherited without close-on-exec are not the program's business.
  ::syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  // The watcher may have blocked or ignored signals; the program starts with the defaults.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  // The step channel keeps its number; only it loses close-on-exec.
  ::fcntl(step, F_SETFD, 0);
  ::execvpe(argv[0], argv, envp);
  const int error = errno;
  (void)!::write(report, &error, sizeof error);
  ::_exit(error == ENOENT ? 127 : 126);
}

}  // namespace

StartedProgram start_program(const std::vector<std::string>& argv,
                             const std::filesystem::path& step_socket, bool own_group) {
  if (argv.empty() || argv.front().empty()) throw Error("watch: no program to run");
  Pipe out = make_pipe();
  Pipe err = make_pipe();
  Pipe step = make_pipe();
  Pipe report = make_pipe();
  StartedProgram program;
  if (!step_socket.empty()) program.step_socket = bind_step_socket(step_socket);

  // Everything the child needs is built before fork: it may only exec after it.
  std::vector<std::string> environment;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    if (!text.starts_with("NRMLAB_STEP_FD=") && !text.starts_with("NRMLAB_STEP_SOCKET="))
      environment.emplace_back(text);
  }
  environment.push_back(fmt::format("NRMLAB_STEP_FD={}", step.write.get()));
  if (!step_socket.empty()) environment.push_back("NRMLAB_STEP_SOCKET=" + step_socket.string());
  // Python buffers a pipe in 8 KiB blocks: its step markers would arrive in bursts.
  environment.push_back("PYTHONUNBUFFERED=1");
  std::vector<char*> envp;
  for (std::string& entry : environment)
    envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> arguments = argv;
  std::vector<char*> args;
  for (std::string& argument : arguments)
    args.push_back(argument.data());
  args.push_back(nullptr);

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(fmt::format("cannot watch: fork: {}", std::strerror(errno)));
  if (pid == 0)
    exec_child(args.data(), envp.data(), out.write.get(), err.write.get(), step.write.get(),
               report.write.get(), own_group, parent);
  if (own_group) ::setpgid(pid, pid);  // also here: no race with a signal sent before exec
  out.write.reset();
  err.write.reset();
  step.write.reset();
  report.write.reset();

  int error = 0;
  ssize_t got;
  while ((got = ::read(report.read.get(), &error, sizeof error)) < 0 && errno == EINTR) {
  }
  if (got == sizeof error) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    const int code = error == ENOENT ? 127 : 126;
    throw ProgramNotStarted(fmt::format("cannot run {}: {}", argv.front(), std::strerror(error)),
                            code);
  }
  for (const UniqueFd* fd : {&out.read, &err.read, &step.read})
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  program.pid = pid;
  program.stdout_fd = std::move(out.read);
  program.stderr_fd = std::move(err.read);
  program.step_fd = std::move(step.read);
  return program;
}

}  // namespace nrmlab::telemetry

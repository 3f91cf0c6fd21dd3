#include "telemetry/watched_program.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "util/process.hpp"

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

}  // namespace

StartedProgram start_program(const std::vector<std::string>& argv,
                             const std::filesystem::path& step_socket, bool own_group,
                             int cgroup_procs_fd) {
  if (argv.empty() || argv.front().empty()) throw Error("watch: no program to run");
  Pipe step = make_pipe();
  StartedProgram program;
  if (!step_socket.empty()) {
    program.step_socket = bind_step_socket(step_socket);
    program.step_socket_file = RemovedPath(step_socket);  // from here on, removed on every path
  }

  LaunchOptions options;
  options.stdout_to = StreamTarget::pipe();
  options.stderr_to = StreamTarget::pipe();
  options.pass_fds = {step.write.get()};  // the step channel keeps its number
  options.environment = {
      {"NRMLAB_STEP_FD", std::to_string(step.write.get())},
      {"NRMLAB_STEP_SOCKET",
       step_socket.empty() ? std::nullopt : std::optional(step_socket.string())},
      // Python buffers a pipe in 8 KiB blocks: its step markers would arrive in bursts.
      {"PYTHONUNBUFFERED", "1"}};
  options.parent_death_signal = SIGKILL;
  options.own_process_group = own_group;
  options.join_cgroup_fd = cgroup_procs_fd;
  Spawned spawned;
  try {
    spawned = spawn(argv, options);
  } catch (const LaunchError& error) {
    throw ProgramNotStarted(error.what(), error.exit_code());
  }
  step.write.reset();
  program.pid = spawned.pid;
  program.stdout_fd = std::move(spawned.stdout_pipe);
  program.stderr_fd = std::move(spawned.stderr_pipe);
  program.step_fd = std::move(step.read);
  for (const UniqueFd* fd : {&program.stdout_fd, &program.stderr_fd, &program.step_fd})
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  return program;
}

}  // namespace nrmlab::telemetry

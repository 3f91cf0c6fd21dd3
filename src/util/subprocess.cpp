#include "util/subprocess.hpp"

#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "util/process.hpp"

namespace nrmlab {
namespace {

// Both pipes are drained together: a child that fills one while we block on the other
// would otherwise deadlock.
void drain(std::array<UniqueFd*, 2> pipes, std::array<std::string*, 2> sinks) {
  std::array<pollfd, 2> fds = {pollfd{pipes[0]->get(), POLLIN, 0},
                               pollfd{pipes[1]->get(), POLLIN, 0}};
  int open_pipes = 2;
  char buffer[4096];
  while (open_pipes > 0) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        pipes[i]->reset();
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
}

}  // namespace

CommandOutput run_command(const std::vector<std::string>& argv) {
  CommandOutput result;
  LaunchOptions options;
  options.stdout_to = StreamTarget::pipe();
  options.stderr_to = StreamTarget::pipe();
  Spawned child;
  try {
    child = spawn(argv, options);
  } catch (const LaunchError& error) {
    result.exit_code = error.exit_code();
    result.err = error.what();
    return result;
  }
  drain({&child.stdout_pipe, &child.stderr_pipe}, {&result.out, &result.err});
  result.exit_code = wait_for_exit(child.pid, argv.front()).code;
  return result;
}

}  // namespace nrmlab

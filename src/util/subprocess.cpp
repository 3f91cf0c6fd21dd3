#include "util/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace nrmlab {

CommandOutput run_command(const std::vector<std::string>& argv) {
  CommandOutput result;
  if (argv.empty()) return result;
  std::vector<std::string> copies = argv;
  std::vector<char*> pointers;
  for (std::string& argument : copies)
    pointers.push_back(argument.data());
  pointers.push_back(nullptr);

  int out[2];
  int err[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return result;
  if (::pipe2(err, O_CLOEXEC) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return result;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execvp(pointers[0], pointers.data());
    const int code = errno == ENOENT ? 127 : 126;
    const char* reason = std::strerror(errno);
    [[maybe_unused]] auto a = ::write(STDERR_FILENO, pointers[0], std::strlen(pointers[0]));
    [[maybe_unused]] auto b = ::write(STDERR_FILENO, ": ", 2);
    [[maybe_unused]] auto c = ::write(STDERR_FILENO, reason, std::strlen(reason));
    ::_exit(code);
  }
  ::close(out[1]);
  ::close(err[1]);
  if (pid < 0) {
    result.err = std::strerror(errno);
    ::close(out[0]);
    ::close(err[0]);
    return result;
  }
  // Both pipes are drained together: a child that fills one while we block on the other
  // would otherwise deadlock.
  std::array<pollfd, 2> fds = {pollfd{out[0], POLLIN, 0}, pollfd{err[0], POLLIN, 0}};
  std::array<std::string*, 2> sinks = {&result.out, &result.err};
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
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  for (const pollfd& fd : fds)
    if (fd.fd >= 0) ::close(fd.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace nrmlab

#include "study/launcher.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "study/manifest.hpp"
#include "util/error.hpp"
#include "util/process.hpp"

namespace nrmlab::study {
namespace {

namespace fs = std::filesystem;

std::string host_name() {
  std::array<char, 256> name{};
  if (gethostname(name.data(), name.size() - 1) != 0) return "unknown";
  return name.data();
}

}  // namespace

std::optional<fs::path> allocator_library(std::string_view allocator) {
  if (allocator == "system") return std::nullopt;
  const bool jemalloc = allocator == "jemalloc";
  if (!jemalloc && allocator != "mimalloc")
    throw Error(
        fmt::format("unknown allocator '{}' (expected system, jemalloc or mimalloc)", allocator));
  const char* variable = jemalloc ? "NRMLAB_JEMALLOC_LIBRARY" : "NRMLAB_MIMALLOC_LIBRARY";
  if (const char* path = std::getenv(variable); path != nullptr && *path != '\0') {
    if (!fs::is_regular_file(path))
      throw Error(fmt::format("{}={}: no such library", variable, path));
    return fs::path(path);
  }
  const std::string file = jemalloc ? "libjemalloc.so.2" : "libmimalloc.so.2";
  std::vector<fs::path> directories;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib", ec))
    if (entry.path().filename().string().ends_with("-linux-gnu")) directories.push_back(entry);
  for (const char* directory : {"/usr/lib64", "/usr/lib", "/usr/local/lib"})
    directories.emplace_back(directory);
  for (const fs::path& directory : directories)
    if (fs::is_regular_file(directory / file, ec)) return directory / file;
  throw Error(fmt::format("allocator {} needs {} (Debian package {}; or set {})", allocator, file,
                          jemalloc ? "libjemalloc2" : "libmimalloc2.0", variable));
}

std::string file_tail(const fs::path& file, std::size_t max_lines) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff keep = std::min<std::streamoff>(size, 4096);
  in.seekg(size - keep);
  std::string text(static_cast<std::size_t>(keep), '\0');
  in.read(text.data(), keep);
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  std::size_t start = text.size();
  for (std::size_t lines = 0; start > 0 && lines < max_lines; --start)
    if (text[start - 1] == '\n' && ++lines == max_lines) break;
  return text.substr(start);
}

Launcher::Launcher(fs::path nrmlab_binary, fs::path study_dir, std::string backend,
                   std::vector<int> pass_fds)
    : m_binary(std::move(nrmlab_binary)),
      m_study_dir(std::move(study_dir)),
      m_backend(std::move(backend)),
      m_host(host_name()),
      m_pass_fds(std::move(pass_fds)) {}

ChildRun Launcher::start(const PlannedRun& run) const {
  const std::optional<fs::path> library = allocator_library(run.allocator);
  const fs::path dir = run_dir(m_study_dir, run);
  std::error_code ec;
  fs::remove_all(dir, ec);  // an earlier attempt that did not complete
  if (ec) throw Error(fmt::format("cannot clear {}: {}", dir.string(), ec.message()));
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));

  std::vector<std::string> arguments = {m_binary.string(), run.command};
  arguments.insert(arguments.end(), run.arguments.begin(), run.arguments.end());
  for (const char* extra : {"--out", dir.c_str(), "--quiet"})
    arguments.emplace_back(extra);
  if (!run.program.empty()) {
    arguments.emplace_back("--");
    arguments.insert(arguments.end(), run.program.begin(), run.program.end());
  }
  LaunchOptions options;
  options.stdin_from = StreamTarget::null();
  options.stdout_to = StreamTarget::file(dir / "stdout.log");
  options.stderr_to = StreamTarget::file(dir / "stderr.log");
  options.pass_fds = m_pass_fds;
  // LD_PRELOAD is exactly the run's allocator: a preload inherited from the runner would
  // silently change the allocator under test.
  options.environment = {{"LD_PRELOAD", library ? std::optional(library->string()) : std::nullopt}};
  options.own_process_group = true;
  options.parent_death_signal = SIGTERM;
  // A stop sent while the run is still starting stays pending until `nrmlab run` has
  // installed its handlers (and unblocks these), so it ends the run cleanly with 130.
  options.blocked_signals = {SIGINT, SIGTERM};
  try {
    const Spawned child = spawn(arguments, options);
    return {child.pid, run.index, unix_now()};
  } catch (const Error& error) {
    throw Error(fmt::format("cannot start run {}: {}", run.id, error.what()));
  }
}

RunStatus Launcher::finish(const PlannedRun& run, const ChildRun& child, int wait_status,
                           bool interrupted) const {
  RunStatus status;
  status.hash = run.hash;
  status.started = child.started;
  status.finished = unix_now();
  status.host = m_host;
  status.backend = m_backend;
  if (WIFEXITED(wait_status)) {
    status.exit_code = WEXITSTATUS(wait_status);
  } else if (WIFSIGNALED(wait_status)) {
    status.signal = WTERMSIG(wait_status);
  }
  const fs::path dir = run_dir(m_study_dir, run);
  if (status.exit_code == 0) {
    status.state = RunState::complete;
  } else {
    status.state = interrupted ? RunState::interrupted : RunState::failed;
    status.stderr_tail = file_tail(dir / "stderr.log", 20);
  }
  write_status(dir, status);
  return status;
}

ChildExitWaiter::ChildExitWaiter() {
  sigemptyset(&m_signals);
  sigaddset(&m_signals, SIGCHLD);
  ::pthread_sigmask(SIG_BLOCK, &m_signals, &m_previous);
}

ChildExitWaiter::~ChildExitWaiter() {
  ::pthread_sigmask(SIG_SETMASK, &m_previous, nullptr);
}

void ChildExitWaiter::wait(double max_seconds) const {
  const auto nanoseconds = static_cast<long>(max_seconds * 1e9);
  const timespec timeout{nanoseconds / 1'000'000'000L, nanoseconds % 1'000'000'000L};
  ::sigtimedwait(&m_signals, nullptr, &timeout);  // EAGAIN (time-out) and EINTR are fine
}

RunStatus Launcher::run_to_end(const PlannedRun& run, const std::atomic<bool>* stop) const {
  const ChildExitWaiter waiter;
  const ChildRun child = start(run);
  bool forwarded = false;
  for (;;) {
    int wait_status = 0;
    const pid_t done = ::waitpid(child.pid, &wait_status, WNOHANG);
    if (done == child.pid) return finish(run, child, wait_status, forwarded);
    if (done < 0 && errno != EINTR)
      throw Error(fmt::format("lost run {}: {}", run.id, std::strerror(errno)));
    if (!forwarded && stop != nullptr && stop->load()) {
      ::kill(child.pid, SIGTERM);
      forwarded = true;
    }
    waiter.wait(0.1);
  }
}

}  // namespace nrmlab::study

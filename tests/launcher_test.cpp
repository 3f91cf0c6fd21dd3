// The process launcher (util/process): what a child inherits and what comes back when it
// cannot start; and the study launcher and recycled runs built on it.
#include "study/launcher.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/result.hpp"
#include "study/manifest.hpp"
#include "study/recycled_run.hpp"
#include "test_support.hpp"
#include "util/process.hpp"
#include "util/subprocess.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::read_text;
using testing::ScratchDir;

// A descriptor opened the careless way (no O_CLOEXEC), at a number no shell uses.
class InheritableFd {
 public:
  InheritableFd() {
    const int fd = ::open("/dev/null", O_RDONLY);
    m_fd = ::dup2(fd, 57);
    ::close(fd);
  }
  ~InheritableFd() { ::close(m_fd); }
  InheritableFd(const InheritableFd&) = delete;
  InheritableFd& operator=(const InheritableFd&) = delete;
  int get() const { return m_fd; }

 private:
  int m_fd;
};

std::string run_to_output(const std::vector<std::string>& argv, LaunchOptions options = {}) {
  options.stdout_to = StreamTarget::pipe();
  Spawned child = spawn(argv, options);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(child.stdout_pipe.get(), buffer, sizeof buffer)) > 0)
    out.append(buffer, static_cast<std::size_t>(n));
  EXPECT_EQ(wait_for_exit(child.pid, argv.front()).code, 0);
  return out;
}

std::size_t open_descriptors() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd"))
    ++count;
  return count;
}

TEST(ProcessLauncher, AnInheritedDescriptorIsOpenInTheChildOnlyWhenPassed) {
  const InheritableFd fd;
  ASSERT_EQ(fd.get(), 57);
  ASSERT_EQ(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, 0);
  const std::vector<std::string> probe = {"sh", "-c",
                                          "[ -e /proc/self/fd/57 ] && echo open || echo closed"};
  EXPECT_EQ(run_to_output(probe), "closed\n");
  LaunchOptions passing;
  passing.pass_fds = {fd.get()};
  EXPECT_EQ(run_to_output(probe, passing), "open\n");
  // The whole list: the shell's own three and, while ls reads it, the directory itself.
  const std::string listed = run_to_output({"ls", "/proc/self/fd"});
  EXPECT_EQ(listed, "0\n1\n2\n3\n") << listed;
}

TEST(ProcessLauncher, AForkedChildKeepsOnlyTheStandardStreamsAndPassedDescriptors) {
  const InheritableFd fd;
  const auto open_in_child = [&](const LaunchOptions& options) {
    const Spawned child = fork_child(
        "probe", [&] { return ::fcntl(fd.get(), F_GETFD) >= 0 ? 1 : 0; }, options);
    return wait_for_exit(child.pid, "probe").code == 1;
  };
  EXPECT_FALSE(open_in_child({}));
  LaunchOptions passing;
  passing.pass_fds = {fd.get()};
  EXPECT_TRUE(open_in_child(passing));
}

TEST(ProcessLauncher, AProgramThatCannotRunIsALaunchErrorNamingItAndTheReason) {
  try {
    spawn({"/no/such/program", "x"});
    FAIL() << "no error";
  } catch (const LaunchError& error) {
    EXPECT_STREQ(error.what(), "cannot run /no/such/program: No such file or directory");
    EXPECT_EQ(error.exit_code(), 127);
  }
  ScratchDir scratch;
  const fs::path script = scratch / "not-executable.sh";
  std::ofstream(script) << "echo hi\n";
  ::chmod(script.c_str(), 0644);
  try {
    spawn({script.string()});
    FAIL() << "no error";
  } catch (const LaunchError& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot run " + script.string() + ": Permission denied"));
    EXPECT_EQ(error.exit_code(), 126);
  }
  LaunchOptions elsewhere;
  elsewhere.working_dir = scratch / "missing";
  EXPECT_THROW(
      {
        try {
          spawn({"true"}, elsewhere);
        } catch (const LaunchError& error) {
          EXPECT_THAT(error.what(),
                      HasSubstr("cannot run true: cannot enter " + (scratch / "missing").string()));
          throw;
        }
      },
      LaunchError);
  // run_command answers instead of throwing, as its callers expect.
  const CommandOutput missing = run_command({"/no/such/program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_EQ(missing.err, "cannot run /no/such/program: No such file or directory");
}

TEST(ProcessLauncher, ExitStatusAndSignalsAreReported) {
  const Spawned seven = spawn({"sh", "-c", "exit 7"});
  const ExitStatus status = wait_for_exit(seven.pid, "sh");
  EXPECT_TRUE(status.exited());
  EXPECT_EQ(status.code, 7);
  const Spawned killed = spawn({"sh", "-c", "kill -TERM $$"});
  const ExitStatus ended = wait_for_exit(killed.pid, "sh");
  EXPECT_FALSE(ended.exited());
  EXPECT_EQ(ended.signal, SIGTERM);
  EXPECT_EQ(ended.code, 128 + SIGTERM);
  const Spawned forked = fork_child("child", [] { return 5; });
  EXPECT_EQ(wait_for_exit(forked.pid, "child").code, 5);
}

TEST(ProcessLauncher, OutputIsCapturedThroughPipesOrFiles) {
  const CommandOutput both = run_command({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(both.exit_code, 3);
  EXPECT_EQ(both.out, "out\n");
  EXPECT_EQ(both.err, "err\n");

  ScratchDir scratch;
  LaunchOptions to_files;
  to_files.stdout_to = StreamTarget::file(scratch / "out.log");
  to_files.stderr_to = StreamTarget::file(scratch / "err.log");
  to_files.stdin_from = StreamTarget::null();
  const Spawned child = spawn({"sh", "-c", "cat; echo printed; echo complained >&2"}, to_files);
  EXPECT_EQ(wait_for_exit(child.pid, "sh").code, 0);
  EXPECT_EQ(read_text(scratch / "out.log"), "printed\n");
  EXPECT_EQ(read_text(scratch / "err.log"), "complained\n");

  LaunchOptions unwritable;
  unwritable.stdout_to = StreamTarget::file(scratch / "no-such-dir" / "out.log");
  try {
    spawn({"true"}, unwritable);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot create " + (scratch / "no-such-dir").string()));
  }
}

TEST(ProcessLauncher, EnvironmentOverridesAndTheWorkingDirectoryApply) {
  ASSERT_EQ(::setenv("NRMLAB_LAUNCHER_TEST_GONE", "still here", 1), 0);
  LaunchOptions options;
  options.environment = {{"NRMLAB_LAUNCHER_TEST_SET", "hello"},
                         {"NRMLAB_LAUNCHER_TEST_GONE", std::nullopt}};
  ScratchDir scratch;
  options.working_dir = scratch.path();
  const std::string out = run_to_output(
      {"sh", "-c", "echo \"$NRMLAB_LAUNCHER_TEST_SET ${NRMLAB_LAUNCHER_TEST_GONE-unset} $(pwd)\""},
      options);
  ::unsetenv("NRMLAB_LAUNCHER_TEST_GONE");
  EXPECT_EQ(out, "hello unset " + fs::canonical(scratch.path()).string() + "\n");
}

// "SigBlk 4000 SigIgn 0" from /proc/<pid>/status lines, without signals 32 and 33: glibc
// reserves them for its threads, so no program can change their disposition, and a child
// keeps whatever its environment gave them (some CI runners start with them ignored).
std::string signal_masks(const std::string& status) {
  constexpr std::uint64_t k_glibc_reserved = (std::uint64_t{1} << 31) | (std::uint64_t{1} << 32);
  std::istringstream lines(status);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::uint64_t mask = std::stoull(line.substr(colon + 1), nullptr, 16) & ~k_glibc_reserved;
    out += fmt::format("{}{} {:x}", out.empty() ? "" : " ", line.substr(0, colon), mask);
  }
  return out;
}

TEST(ProcessLauncher, SignalsAreDefaultAndUnblockedInTheChild) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction previous {};
  ::sigaction(SIGUSR1, &ignore, &previous);
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  ::pthread_sigmask(SIG_BLOCK, &usr2, nullptr);
  const std::vector<std::string> status = {"grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"};
  const std::string clean = run_to_output(status);
  LaunchOptions blocking;
  blocking.blocked_signals = {SIGTERM};
  const std::string blocked = run_to_output(status, blocking);
  ::pthread_sigmask(SIG_UNBLOCK, &usr2, nullptr);
  ::sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_EQ(signal_masks(clean), "SigBlk 0 SigIgn 0") << clean;
  EXPECT_EQ(signal_masks(blocked), "SigBlk 4000 SigIgn 0") << blocked;
}

// True once `pid` is gone or a zombie (a container's init may never reap it).
bool ended(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return true;
  const std::size_t paren = text.rfind(')');
  return paren == std::string::npos || text.substr(paren + 2, 1) == "Z";
}

pid_t grandchild_of_a_dying_parent(std::optional<int> parent_death_signal) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  LaunchOptions middle_options;
  middle_options.pass_fds = {fds[1]};
  const Spawned middle = fork_child(
      "middle",
      [&] {
        LaunchOptions spinner_options;
        spinner_options.parent_death_signal = parent_death_signal;
        const Spawned spinner = fork_child(
            "spinner",
            [] {
              for (;;)
                ::pause();
              return 0;
            },
            spinner_options);
        return ::write(fds[1], &spinner.pid, sizeof spinner.pid) == sizeof spinner.pid ? 0 : 1;
      },
      middle_options);
  ::close(fds[1]);
  pid_t spinner = -1;
  EXPECT_EQ(::read(fds[0], &spinner, sizeof spinner), static_cast<ssize_t>(sizeof spinner));
  ::close(fds[0]);
  EXPECT_EQ(wait_for_exit(middle.pid, "middle").code, 0);
  return spinner;
}

bool ends_within(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ended(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return ended(pid);
}

TEST(ProcessLauncher, AChildWithAParentDeathSignalDiesWithItsParent) {
  const pid_t told = grandchild_of_a_dying_parent(SIGKILL);
  ASSERT_GT(told, 0);
  EXPECT_TRUE(ends_within(told, std::chrono::seconds(5)));
  // Without the signal the orphan lives on: what the assertion above relies on.
  const pid_t orphan = grandchild_of_a_dying_parent(std::nullopt);
  ASSERT_GT(orphan, 0);
  EXPECT_FALSE(ends_within(orphan, std::chrono::milliseconds(300)));
  ::kill(orphan, SIGKILL);
  ::kill(told, SIGKILL);
}

study::PlannedRun planned_run() {
  study::PlannedRun run;
  run.id = "r001";
  run.hash = "0123456789abcdef";  // (a one-letter literal trips GCC 12's -Wrestrict bug 105329)
  return run;
}

TEST(StudyLauncher, StartingRunsLeavesNoDescriptorBehind) {
  ScratchDir scratch;
  const study::PlannedRun run = planned_run();
  const std::size_t before = open_descriptors();
  const study::Launcher finishing("/bin/true", scratch.path(), "local");
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(finishing.run_to_end(run, nullptr).state, study::RunState::complete);
  EXPECT_EQ(open_descriptors(), before);

  const study::Launcher missing("/no/such/nrmlab", scratch.path(), "local");
  for (int i = 0; i < 20; ++i)
    EXPECT_THROW(missing.start(run), Error);
  EXPECT_EQ(open_descriptors(), before);
}

// The descriptor leak this replaces: stdout.log stayed open when stderr.log could not be
// created. A descriptor limit that leaves room for exactly one more file provokes it.
// The study launcher's old leak: stdout.log stayed open when stderr.log could not be
// created. The logs are now opened by spawn (in the parent, stdout first), so the property
// is tested there: a directory that does not exist stands in for an uncreatable log (a
// tight RLIMIT_NOFILE would starve the sanitizers' runtime, which needs descriptors too).
TEST(ProcessLauncher, AnOutputFileThatCannotBeCreatedLeavesNoDescriptorBehind) {
  ScratchDir scratch;
  LaunchOptions logs;
  logs.stdin_from = StreamTarget::null();
  logs.stdout_to = StreamTarget::file(scratch / "stdout.log");
  logs.stderr_to = StreamTarget::file(scratch / "no-such-dir" / "stderr.log");
  const std::size_t before = open_descriptors();
  std::string message;
  for (int i = 0; i < 5; ++i) {
    try {
      spawn({"true"}, logs);
    } catch (const Error& error) {
      message = error.what();
    }
  }
  EXPECT_THAT(message, HasSubstr("no-such-dir"));
  EXPECT_EQ(open_descriptors(), before);
}

TEST(StudyLauncher, ARunInheritsOnlyTheDescriptorsItIsGiven) {
  ScratchDir scratch;
  const InheritableFd fd;
  const study::PlannedRun run = planned_run();
  const fs::path script = scratch / "probe.sh";
  std::ofstream(script) << "#!/bin/sh\n[ -e /proc/self/fd/57 ] && echo open || echo closed\n";
  ::chmod(script.c_str(), 0755);
  const study::Launcher plain(script, scratch.path(), "local");
  plain.run_to_end(run, nullptr);
  EXPECT_EQ(read_text(study::run_dir(scratch.path(), run) / "stdout.log"), "closed\n");
  const study::Launcher passing(script, scratch.path(), "local", {fd.get()});
  passing.run_to_end(run, nullptr);
  EXPECT_EQ(read_text(study::run_dir(scratch.path(), run) / "stdout.log"), "open\n");
}

// Recycling is a library function now: its stretches run in forked processes that inherit
// nothing but the report pipe.
TEST(RecycledRun, EachStretchRunsInAnotherProcessWithoutInheritedDescriptors) {
  ScratchDir scratch;
  model::RunConfig config = testing::quick_config(scratch.path(), 10);
  config.conditions = {0, 1};
  const InheritableFd fd;
  const pid_t parent = ::getpid();
  std::atomic<bool> stop{false};
  const auto check = [&](const model::RunConfig&, const model::Segment&, bool) {
    if (::getpid() == parent) throw Error("ran in the parent");
    if (::fcntl(fd.get(), F_GETFD) >= 0) throw Error("inherited descriptor 57");
    return model::ExperimentResult{};
  };
  const model::ExperimentResult result =
      study::run_recycled(config, *model::parse_recycling("condition"), stop, check);
  EXPECT_TRUE(result.conditions.empty());

  const auto failing = [](const model::RunConfig&, const model::Segment&,
                          bool) -> model::ExperimentResult { throw Error("planted"); };
  try {
    study::run_recycled(config, *model::parse_recycling("condition"), stop, failing);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("failed in its process (exit status 1)"));
  }
}

}  // namespace
}  // namespace nrmlab

// The /proc syscall poller (src/telemetry/profile/syscall_poller.hpp): the parsing and the
// wait classes as tables, then real children blocked in known system calls
// (tests/profile_targets): a nanosleep deep in a call chain (unwound end to end by the
// Unwinder from the poller's ip, sp and stack copy), fdatasync, an empty pipe, a mutex and
// a condition variable, a spinning thread (no samples), threads and child processes that
// start later, and a process that is gone. Every wait for a child's state is a bounded
// number of looks, not a timing: a loaded machine only makes the looks more numerous.
#include <fcntl.h>
#include <grp.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "telemetry/profile/syscall_poller.hpp"
#include "telemetry/profile/unwinder.hpp"
#include "util/error.hpp"

namespace nrmlab::telemetry::profile {
namespace {

namespace fs = std::filesystem;

// ---- tables ---------------------------------------------------------------------------

TEST(ProfileSyscallPoller, ParsesTheSyscallFile) {
  const SyscallLine blocked =
      parse_syscall_line("230 0x1 0x0 0x7ffd5f0 0x7ffd600 0x0 0x0 0x7ffc8a2b1c38 0x7f3e9b2e4c7a\n");
  ASSERT_TRUE(blocked.valid);
  EXPECT_EQ(blocked.nr, 230);
  EXPECT_EQ(blocked.args[0], 1U);
  EXPECT_EQ(blocked.args[2], 0x7ffd5f0U);
  EXPECT_EQ(blocked.sp, 0x7ffc8a2b1c38U);
  EXPECT_EQ(blocked.pc, 0x7f3e9b2e4c7aU);

  const SyscallLine outside = parse_syscall_line("-1 0x7ffc8a2b1c38 0x55d0c0de1234\n");
  ASSERT_TRUE(outside.valid);
  EXPECT_EQ(outside.nr, -1);
  EXPECT_EQ(outside.pc, 0x55d0c0de1234U);

  for (const char* bad : {"running\n", "", "230 0x1 0x2", "-1 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8",
                          "230 1 0 0 0 0 0 0x7ffc 0x7f3e", "x 0x1 0x2"}) {
    EXPECT_FALSE(parse_syscall_line(bad).valid) << bad;
  }
}

struct SyscallCase {
  long nr;
  std::array<std::uint64_t, 6> args;
  const char* fd_target;
  WaitClass expected;
};

TEST(ProfileSyscallPoller, ClassifiesSystemCallsByWaitClass) {
  const std::array<std::uint64_t, 6> none{};
  const std::array<std::uint64_t, 6> three_fds{3, 0x7000, 0, 0, 0, 0};   // nfds 3 (select)
  const std::array<std::uint64_t, 6> poll_two{0x7000, 2, 100, 0, 0, 0};  // poll(fds, 2, 100)
  const std::vector<SyscallCase> cases = {
      // sleep
      {SYS_nanosleep, none, "", WaitClass::sleep},
      {SYS_clock_nanosleep, none, "", WaitClass::sleep},
      {SYS_select, none, "", WaitClass::sleep},
      {SYS_pselect6, none, "", WaitClass::sleep},
      {SYS_poll, {0, 0, 1000, 0, 0, 0}, "", WaitClass::sleep},
      {SYS_ppoll, {0, 0, 0x7000, 0, 0, 0}, "", WaitClass::sleep},
      // network: descriptors watched, sockets, pipes
      {SYS_select, three_fds, "", WaitClass::network},
      {SYS_pselect6, three_fds, "", WaitClass::network},
      {SYS_poll, poll_two, "", WaitClass::network},
      {SYS_ppoll, poll_two, "", WaitClass::network},
      {SYS_epoll_wait, {4, 0x7000, 64, 1000, 0, 0}, "", WaitClass::network},
      {SYS_epoll_pwait, {4, 0x7000, 64, 1000, 0, 0}, "", WaitClass::network},
      {SYS_accept4, none, "", WaitClass::network},
      {SYS_accept, none, "", WaitClass::network},
      {SYS_connect, none, "", WaitClass::network},
      {SYS_recvfrom, none, "", WaitClass::network},
      {SYS_recvmsg, none, "", WaitClass::network},
      {SYS_sendto, none, "", WaitClass::network},
      {SYS_sendmsg, none, "", WaitClass::network},
      {SYS_read, none, "pipe:[4242]", WaitClass::network},
      {SYS_write, none, "socket:[77]", WaitClass::network},
      {SYS_readv, none, "pipe:/tmp/named-fifo", WaitClass::network},
      {SYS_pread64, none, "socket:/run/x.sock", WaitClass::network},
      // disk: synchronisation, and file I/O by the descriptor's target
      {SYS_fsync, none, "", WaitClass::disk},
      {SYS_fdatasync, none, "", WaitClass::disk},
      {SYS_sync_file_range, none, "", WaitClass::disk},
      {SYS_msync, none, "", WaitClass::disk},
      {SYS_sync, none, "", WaitClass::disk},
      {SYS_syncfs, none, "", WaitClass::disk},
      {SYS_read, none, "/data/run/telemetry.db", WaitClass::disk},
      {SYS_pwrite64, none, "/tmp/x.bin (deleted)", WaitClass::disk},
      {SYS_preadv, none, "/dev/nvme0n1", WaitClass::disk},
      {SYS_pwritev, none, "/data/y", WaitClass::disk},
      {SYS_writev, none, "/data/z", WaitClass::disk},
      // lock
      {SYS_futex, {0x7000, 0x80, 2, 0, 0, 0}, "", WaitClass::lock},
      // other: descriptors that are neither, unknown targets, and other waits
      {SYS_read, none, "anon_inode:[eventfd]", WaitClass::other},
      {SYS_read, none, "char:/dev/tty", WaitClass::other},
      {SYS_read, none, "", WaitClass::other},
      {SYS_wait4, none, "", WaitClass::other},
      {SYS_waitid, none, "", WaitClass::other},
      {SYS_pause, none, "", WaitClass::other},
      {SYS_rt_sigtimedwait, none, "", WaitClass::other},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(classify_syscall(c.nr, c.args, c.fd_target), c.expected)
        << "syscall " << c.nr << " on '" << c.fd_target << "'";
  }
  // Fewer arguments than a class needs read as 0 (no descriptors).
  EXPECT_EQ(classify_syscall(SYS_poll, {}, ""), WaitClass::sleep);
}

TEST(ProfileSyscallPoller, DescribesDescriptorsByWhatTheyHold) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  const std::string pipe_target = describe_fd(::getpid(), static_cast<std::uint64_t>(fds[0]));
  EXPECT_TRUE(pipe_target.starts_with("pipe:[")) << pipe_target;
  ::close(fds[0]);
  ::close(fds[1]);
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  EXPECT_EQ(describe_fd(::getpid(), static_cast<std::uint64_t>(null_fd)), "char:/dev/null");
  ::close(null_fd);
  const std::string self = describe_fd(::getpid(), 1'000'000);  // no such descriptor
  EXPECT_EQ(self, "");
}

// A stack copy at 0x7000'0000 (64 words) with code at 0x40'0000..0x50'0000: a decoy below
// (a saved stack pointer beside a return address, whose "record" leads nowhere), then a
// chain of frame records inner -> middle -> outer ending in 0.
TEST(ProfileSyscallPoller, ScansTheStackForTheFramePointerChain) {
  constexpr std::uint64_t base = 0x7000'0000;
  std::vector<std::uint64_t> words(64, 0x1234);
  const auto at = [&](std::size_t i) { return base + 8 * i; };
  words[3] = at(40);     // decoy: points up the stack...
  words[4] = 0x40'1000;  // ...beside a code address, but word 40 is no record
  words[40] = 7;
  words[10] = at(20);     // inner's record -> middle's
  words[11] = 0x40'2000;  // return into middle
  words[20] = at(30);     // middle's -> outer's
  words[21] = 0x40'3000;
  words[30] = 0;  // outer's: the outermost
  words[31] = 0x40'4000;
  const auto is_code = [](std::uint64_t a) { return a >= 0x40'0000 && a < 0x50'0000; };
  std::vector<std::uint8_t> stack(words.size() * 8);
  std::memcpy(stack.data(), words.data(), stack.size());
  EXPECT_EQ(scan_frame_pointer(stack, base, is_code), std::optional<std::uint64_t>(at(10)));

  // Without the return address beside the inner record, middle's is the lowest chain.
  words[11] = 0x9999;
  std::memcpy(stack.data(), words.data(), stack.size());
  EXPECT_EQ(scan_frame_pointer(stack, base, is_code), std::optional<std::uint64_t>(at(20)));
  // A chain that runs off the copy is not taken; nothing at all: nullopt.
  EXPECT_EQ(scan_frame_pointer(std::span(stack).first(8 * 25), base, is_code), std::nullopt);
  EXPECT_EQ(scan_frame_pointer({}, base, is_code), std::nullopt);
}

// ---- children -------------------------------------------------------------------------

// A target program with stdin and stdout on pipes, started and waited for until it has
// announced (one byte) that its threads are set up; killed and reaped on every path out.
class BlockingTarget {
 public:
  explicit BlockingTarget(std::vector<std::string> argv) {
    int in[2];
    int out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) throw Error("pipe failed");
    m_pid = ::fork();
    if (m_pid == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      std::vector<char*> args;
      for (auto& a : argv)
        args.push_back(a.data());
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    m_stdin = in[1];
    pollfd ready{out[0], POLLIN, 0};
    char byte = 0;
    const bool announced = ::poll(&ready, 1, 20000) == 1 && ::read(out[0], &byte, 1) == 1;
    ::close(out[0]);
    if (!announced) {
      kill_and_reap();
      throw Error("target " + argv[0] + " did not announce itself");
    }
  }
  ~BlockingTarget() { kill_and_reap(); }
  BlockingTarget(const BlockingTarget&) = delete;
  BlockingTarget& operator=(const BlockingTarget&) = delete;

  pid_t pid() const { return m_pid; }
  void send_byte() const { ASSERT_EQ(::write(m_stdin, "x", 1), 1); }
  void kill_and_reap() {
    if (m_stdin >= 0) ::close(m_stdin);
    m_stdin = -1;
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
  }

 private:
  pid_t m_pid = -1;
  int m_stdin = -1;
};

constexpr std::uint64_t k_poll_weight_ns = 10'000'000;

// Polls until `wanted` holds for one poll's samples (at most `tries` looks, 2 ms apart);
// returns those samples, or the last look's when none matched.
std::vector<RawSample> poll_until(SyscallPoller& poller,
                                  const std::function<bool(const std::vector<RawSample>&)>& wanted,
                                  int tries = 1000) {
  std::vector<RawSample> samples;
  for (int attempt = 0; attempt < tries; ++attempt) {
    samples.clear();
    poller.poll(k_poll_weight_ns, samples);
    if (wanted(samples)) return samples;
    ::usleep(2000);
  }
  return samples;
}

bool has_sample(const std::vector<RawSample>& samples, WaitClass wait,
                const std::function<bool(const RawSample&)>& also = {}) {
  return std::any_of(samples.begin(), samples.end(),
                     [&](const RawSample& s) { return s.wait == wait && (!also || also(s)); });
}

std::string describe_poller_frames(const std::vector<Frame>& frames) {
  std::string text;
  for (const auto& f : frames)
    text += "  " + f.function + " (" + f.module + ")\n";
  return text;
}

void expect_nanosleep_chain_unwinds(const char* path) {
  SCOPED_TRACE(path);
  BlockingTarget target({path, "sleep"});
  SyscallPoller poller(target.pid(), false, {});
  ASSERT_TRUE(poller.status().available) << poller.status().reason;
  // The announcing write may not have returned yet at the first look.
  const auto samples = poll_until(poller, [](const std::vector<RawSample>& s) {
    return s.size() == 1 && s[0].wait == WaitClass::sleep;
  });
  ASSERT_EQ(samples.size(), 1U);
  const RawSample& sample = samples[0];
  EXPECT_EQ(sample.pid, target.pid());
  EXPECT_EQ(sample.tid, target.pid());
  EXPECT_EQ(sample.wait, WaitClass::sleep);
  EXPECT_EQ(sample.weight_ns, k_poll_weight_ns);
  EXPECT_EQ(sample.stack_address, sample.regs.sp());
  EXPECT_FALSE(sample.stack.empty());
  EXPECT_GT(sample.time_ns, 0U);

  Unwinder unwinder(target.pid());
  const auto frames = unwinder.unwind(sample);
  const std::vector<std::string> chain = {"inner", "middle", "outer", "main"};
  auto first = std::find_if(frames.begin(), frames.end(),
                            [](const Frame& f) { return f.function == "inner"; });
  ASSERT_NE(first, frames.end()) << describe_poller_frames(frames);
  ASSERT_GE(static_cast<std::size_t>(frames.end() - first), chain.size())
      << describe_poller_frames(frames);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    EXPECT_EQ(first[static_cast<std::ptrdiff_t>(i)].function, chain[i])
        << describe_poller_frames(frames);
  }
  EXPECT_EQ(frames.front().module, "libc.so.6") << describe_poller_frames(frames);
}

TEST(ProfileSyscallPoller, NanosleepUnwindsToTheCallChainWithoutFramePointers) {
  expect_nanosleep_chain_unwinds(NRMLAB_PROFILE_TARGET_NOFP);
}

TEST(ProfileSyscallPoller, NanosleepUnwindsToTheCallChainWithFramePointers) {
  expect_nanosleep_chain_unwinds(NRMLAB_PROFILE_TARGET_FP);
}

// Reports the cost of one look at one blocked thread (syscall and stat files, descriptor
// target, 16 KiB stack copy) without asserting on it: a loaded machine decides the time.
TEST(ProfileSyscallPoller, RecordsTheCostOfALook) {
  BlockingTarget target({NRMLAB_PROFILE_TARGET_NOFP, "sleep"});
  SyscallPoller poller(target.pid(), false, {});
  ASSERT_FALSE(poll_until(poller, [](const auto& s) { return s.size() == 1; }).empty());
  std::vector<double> micros;
  std::vector<RawSample> samples;
  for (int i = 0; i < 200; ++i) {
    samples.clear();
    const auto start = std::chrono::steady_clock::now();
    poller.poll(k_poll_weight_ns, samples);
    const auto stop = std::chrono::steady_clock::now();
    if (samples.size() == 1) {
      micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
    }
  }
  ASSERT_FALSE(micros.empty());
  std::sort(micros.begin(), micros.end());
  const double median = micros[micros.size() / 2];
  RecordProperty("poll_one_blocked_thread_median_us", std::to_string(median));
  std::printf("one poll of one blocked thread: median %.1f us (%zu looks)\n", median,
              micros.size());
}

// A directory on storage that syncs (a tmpfs's fdatasync returns at once, never blocking).
class SyncingDir {
 public:
  SyncingDir() {
    fs::path base = fs::temp_directory_path();
    struct statfs info {};
    if (::statfs(base.c_str(), &info) == 0 && info.f_type == TMPFS_MAGIC) base = fs::current_path();
    std::string name = (base / "nrmlab-poller-XXXXXX").string();
    if (::mkdtemp(name.data()) == nullptr)
      throw Error("cannot create a directory in " + base.string());
    m_path = name;
  }
  ~SyncingDir() {
    std::error_code ec;
    fs::remove_all(m_path, ec);
  }
  SyncingDir(const SyncingDir&) = delete;
  SyncingDir& operator=(const SyncingDir&) = delete;
  const fs::path& path() const { return m_path; }

 private:
  fs::path m_path;
};

TEST(ProfileSyscallPoller, FdatasyncIsDisk) {
  SyncingDir dir;
  BlockingTarget target({NRMLAB_PROFILE_BLOCKING, "fsync", dir.path().string()});
  SyscallPoller poller(target.pid(), false, {});
  // The writer is blocked in fdatasync only part of the time: look until it is caught.
  const auto samples = poll_until(
      poller, [&](const auto& s) { return has_sample(s, WaitClass::disk); }, 5000);
  const auto disk = std::find_if(samples.begin(), samples.end(), [&](const RawSample& s) {
    return s.wait == WaitClass::disk && s.pid == target.pid() && s.tid != target.pid();
  });
  ASSERT_NE(disk, samples.end());
  // In fdatasync (or the pwrite before it, a file's: disk too), called from the loop.
  Unwinder unwinder(target.pid());
  const auto frames = unwinder.unwind(*disk);
  EXPECT_TRUE(std::any_of(frames.begin(), frames.end(), [](const Frame& f) {
    return f.function == "blocking_sync_loop";
  })) << describe_poller_frames(frames);
}

TEST(ProfileSyscallPoller, LocksAndAnEmptyPipe) {
  BlockingTarget target({NRMLAB_PROFILE_BLOCKING, "lock"});
  SyscallPoller poller(target.pid(), false, {});
  // Three threads, all blocked: main reading its stdin pipe, one on a mutex, one on a
  // condition variable.
  const auto samples = poll_until(poller, [](const auto& s) {
    return s.size() == 3 && std::count_if(s.begin(), s.end(), [](const RawSample& x) {
                              return x.wait == WaitClass::lock;
                            }) == 2;
  });
  ASSERT_EQ(samples.size(), 3U);
  // Each unwinds through libc's locking or reading to the target's own function.
  Unwinder unwinder(target.pid());
  std::set<std::string> own_functions;
  for (const auto& s : samples) {
    EXPECT_EQ(s.pid, target.pid());
    EXPECT_EQ(s.wait, s.tid == target.pid() ? WaitClass::network : WaitClass::lock)
        << "thread " << s.tid << ": " << to_string(s.wait);
    const auto frames = unwinder.unwind(s);
    const auto own = std::find_if(frames.begin(), frames.end(), [](const Frame& f) {
      return f.function == "main" || f.function.starts_with("blocking_");
    });
    ASSERT_NE(own, frames.end()) << describe_poller_frames(frames);
    own_functions.insert(own->function);
  }
  EXPECT_EQ(own_functions,
            (std::set<std::string>{"main", "blocking_lock_mutex", "blocking_wait_cond"}));
}

// Looks at the spinning child until it has used 50 ms of CPU since its announcement, so
// that many looks happened while it ran (and perhaps while it waited for a CPU).
TEST(ProfileSyscallPoller, ARunningThreadGivesNoSample) {
  BlockingTarget target({NRMLAB_PROFILE_BLOCKING, "spin"});
  SyscallPoller poller(target.pid(), false, {});
  ASSERT_TRUE(poller.status().available) << poller.status().reason;
  clockid_t child_clock{};
  ASSERT_EQ(::clock_getcpuclockid(target.pid(), &child_clock), 0);
  const auto cpu_ns = [&] {
    timespec t{};
    ::clock_gettime(child_clock, &t);
    return t.tv_sec * 1'000'000'000LL + t.tv_nsec;
  };
  const long long start = cpu_ns();
  std::vector<RawSample> samples;
  int looks = 0;
  while (cpu_ns() - start < 50'000'000 && looks < 20'000) {
    poller.poll(k_poll_weight_ns, samples);
    ++looks;
  }
  EXPECT_GT(looks, 10);
  EXPECT_TRUE(samples.empty()) << samples.size() << " samples, first "
                               << to_string(samples[0].wait);
}

TEST(ProfileSyscallPoller, FindsThreadsStartedLater) {
  BlockingTarget target({NRMLAB_PROFILE_BLOCKING, "late"});
  SyscallPoller poller(target.pid(), false, {});
  auto samples = poll_until(poller, [](const auto& s) { return s.size() == 1; });
  ASSERT_EQ(samples.size(), 1U);
  EXPECT_EQ(samples[0].wait, WaitClass::network);  // main, reading its stdin pipe
  target.send_byte();                              // one more thread, in nanosleep
  samples = poll_until(poller, [](const auto& s) { return s.size() == 2; });
  ASSERT_EQ(samples.size(), 2U);
  EXPECT_TRUE(has_sample(samples, WaitClass::sleep,
                         [&](const RawSample& s) { return s.tid != target.pid(); }));
}

TEST(ProfileSyscallPoller, FollowsChildProcessesOnlyWhenAsked) {
  BlockingTarget target({NRMLAB_PROFILE_BLOCKING, "child"});
  const auto from_child = [&](const RawSample& s) { return s.pid != target.pid(); };
  SyscallPoller with(target.pid(), true, {});
  const auto samples = poll_until(with, [&](const auto& s) {
    return s.size() == 2 && has_sample(s, WaitClass::sleep, from_child);
  });
  ASSERT_EQ(samples.size(), 2U);
  EXPECT_TRUE(has_sample(samples, WaitClass::sleep, from_child));
  SyscallPoller without(target.pid(), false, {});
  std::vector<RawSample> own;
  without.poll(k_poll_weight_ns, own);
  EXPECT_TRUE(std::none_of(own.begin(), own.end(), from_child));
}

TEST(ProfileSyscallPoller, IgnoresTheThreadsItIsTold) {
  BlockingTarget target({NRMLAB_PROFILE_BLOCKING, "lock"});
  SyscallPoller poller(target.pid(), false, {target.pid()});
  const auto samples = poll_until(poller, [](const auto& s) { return s.size() == 2; });
  ASSERT_EQ(samples.size(), 2U);
  for (const auto& s : samples)
    EXPECT_NE(s.tid, target.pid());
}

TEST(ProfileSyscallPoller, AProcessThatIsGoneIsUnavailableNotAnError) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  std::vector<RawSample> samples;
  std::optional<SyscallPoller> poller;
  ASSERT_NO_THROW(poller.emplace(child, true, std::set<pid_t>{}));
  EXPECT_FALSE(poller->status().available);
  EXPECT_NE(poller->status().reason.find(std::to_string(child)), std::string::npos)
      << poller->status().reason;
  EXPECT_FALSE(poller->status().enable_hint.empty());
  EXPECT_EQ(poller->poll(k_poll_weight_ns, samples), 0U);
  EXPECT_TRUE(samples.empty());

  // One that exits while polled: nothing more, and status() says why.
  BlockingTarget target({NRMLAB_PROFILE_BLOCKING, "late"});
  SyscallPoller live(target.pid(), false, {});
  ASSERT_TRUE(live.status().available) << live.status().reason;
  const pid_t gone = target.pid();
  target.kill_and_reap();
  samples.clear();
  EXPECT_EQ(live.poll(k_poll_weight_ns, samples), 0U);
  EXPECT_FALSE(live.status().available);
  EXPECT_NE(live.status().reason.find(std::to_string(gone)), std::string::npos);
}

// As root, a child that drops to another user (nobody) polls this (root's) process: the
// kernel refuses it the syscall file, and status() says so and how to allow it.
TEST(ProfileSyscallPoller, AnotherUsersProcessIsUnavailableWithAHint) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another user";
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child == 0) {
    constexpr uid_t k_nobody = 65534;
    if (::setgroups(0, nullptr) != 0 || ::setresgid(k_nobody, k_nobody, k_nobody) != 0 ||
        ::setresuid(k_nobody, k_nobody, k_nobody) != 0) {
      ::_exit(10);
    }
    SyscallPoller poller(parent, false, {});
    std::vector<RawSample> samples;
    if (poller.status().available || poller.poll(k_poll_weight_ns, samples) != 0) ::_exit(11);
    const auto& status = poller.status();
    const bool explained = status.reason.find("cannot read") != std::string::npos &&
                           status.reason.find(std::to_string(parent)) != std::string::npos &&
                           status.enable_hint.find("ptrace") != std::string::npos;
    ::_exit(explained ? 0 : 12);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: could not become nobody, 11: polled anyway, "
                                       "12: the reason or hint does not explain it";
}

TEST(ProfileSyscallPoller, RejectsAStackSizeThatIsNotWhole) {
  EXPECT_THROW(SyscallPoller(::getpid(), false, {}, 1001), Error);
  EXPECT_NO_THROW(SyscallPoller(::getpid(), false, {}, 0));
}

}  // namespace
}  // namespace nrmlab::telemetry::profile

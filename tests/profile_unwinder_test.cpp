// The unwinder (src/telemetry/profile/unwinder.hpp) on programs built by the test build
// (tests/profile_targets): each is stopped with ptrace in a known call chain, its registers
// and 16 KiB of its stack are copied into a RawSample as the sampler would, and the frames
// must name that chain. Also symbols (libc, C++ names, dlopen, kernel) and the wait classes.
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "telemetry/profile/unwinder.hpp"
#include "telemetry/profile/wait_class.hpp"
#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab::telemetry::profile {
namespace {

// A target program, started with its stdout on a pipe, stopped under ptrace once it has
// announced that its call chain is in place; killed and reaped on every path out.
class PtraceStoppedTarget {
 public:
  PtraceStoppedTarget(const std::string& path, const std::string& mode) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw Error("pipe failed");
    m_pid = ::fork();
    if (m_pid == 0) {
      ::dup2(fds[1], 1);
      ::execl(path.c_str(), path.c_str(), mode.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    pollfd ready{fds[0], POLLIN, 0};
    char byte = 0;
    const bool announced = ::poll(&ready, 1, 20000) == 1 && ::read(fds[0], &byte, 1) == 1;
    ::close(fds[0]);
    if (!announced) throw Error("target " + path + " did not announce its call chain");
    if (::ptrace(PTRACE_ATTACH, m_pid, nullptr, nullptr) != 0) throw Error("ptrace attach failed");
    int status = 0;
    if (::waitpid(m_pid, &status, 0) != m_pid || !WIFSTOPPED(status)) {
      throw Error("target did not stop");
    }
  }
  ~PtraceStoppedTarget() { kill_and_reap(); }
  PtraceStoppedTarget(const PtraceStoppedTarget&) = delete;
  PtraceStoppedTarget& operator=(const PtraceStoppedTarget&) = delete;

  pid_t pid() const { return m_pid; }

  // Lets the target run a moment and stops it again (SIGSTOP, held back at the next
  // resume): for when it was stopped before reaching the point a test wants.
  void resume_and_stop_again() {
    if (::ptrace(PTRACE_CONT, m_pid, nullptr, nullptr) != 0) throw Error("PTRACE_CONT failed");
    ::usleep(2000);
    ::kill(m_pid, SIGSTOP);
    int status = 0;
    if (::waitpid(m_pid, &status, 0) != m_pid || !WIFSTOPPED(status)) {
      throw Error("target did not stop again");
    }
  }

  void kill_and_reap() {
    if (m_pid <= 0) return;
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
  }

  // What the sampler would hand over: perf's register order, the stack from sp.
  RawSample sample() const {
    user_regs_struct r{};
    if (::ptrace(PTRACE_GETREGS, m_pid, nullptr, &r) != 0) throw Error("PTRACE_GETREGS failed");
    RawSample s;
    s.pid = s.tid = m_pid;
    s.wait = WaitClass::other;
    s.regs.abi = 2;  // PERF_SAMPLE_REGS_ABI_64
    const std::array<std::uint64_t, k_user_regs> values = {
        r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi, r.rbp, r.rsp, r.rip, r.eflags, r.cs,  r.ss,
        r.ds,  r.es,  r.fs,  r.gs,  r.r8,  r.r9,  r.r10, r.r11, r.r12, r.r13,    r.r14, r.r15};
    s.regs.values = values;
    s.stack_address = r.rsp;
    s.stack = copy_stack(r.rsp, 16 * 1024);
    return s;
  }

 private:
  // Page by page, so a copy that reaches the end of the stack's mapping keeps what it got.
  std::vector<std::uint8_t> copy_stack(std::uint64_t from, std::size_t size) const {
    std::vector<std::uint8_t> bytes(size);
    std::vector<iovec> remote;
    for (std::uint64_t at = from; at < from + size;) {
      const std::uint64_t page_end = (at | 4095) + 1;
      const std::uint64_t end = std::min<std::uint64_t>(page_end, from + size);
      remote.push_back({reinterpret_cast<void*>(at), static_cast<std::size_t>(end - at)});
      at = end;
    }
    iovec local{bytes.data(), bytes.size()};
    const ssize_t got = ::process_vm_readv(m_pid, &local, 1, remote.data(), remote.size(), 0);
    bytes.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
    return bytes;
  }

  pid_t m_pid = -1;
};

std::string describe_profile_frames(const std::vector<Frame>& frames) {
  std::string text;
  for (const auto& f : frames)
    text += "  " + f.function + " (" + f.module + ")\n";
  return text;
}

// inner, middle, outer, main, consecutively, in the target's own module.
void expect_call_chain(const std::vector<Frame>& frames, const std::string& module) {
  auto first = std::find_if(frames.begin(), frames.end(),
                            [](const Frame& f) { return f.function == "inner"; });
  ASSERT_NE(first, frames.end()) << describe_profile_frames(frames);
  const std::vector<std::string> chain = {"inner", "middle", "outer", "main"};
  ASSERT_GE(static_cast<std::size_t>(frames.end() - first), chain.size())
      << describe_profile_frames(frames);
  for (std::size_t i = 0; i < chain.size(); ++i) {
    EXPECT_EQ(first[static_cast<std::ptrdiff_t>(i)].function, chain[i])
        << describe_profile_frames(frames);
    EXPECT_EQ(first[static_cast<std::ptrdiff_t>(i)].module, module)
        << describe_profile_frames(frames);
  }
}

std::string profile_module_name_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

bool in_nanosleep(const Frame& frame) {
  const auto core = wait_function_core(frame.function);
  return core == "clock_nanosleep" || core == "nanosleep";
}

// Stops the target until its innermost frame is where `mode` puts it (the announcing
// write may not have returned yet at the first stop) and returns the frames there.
std::vector<Frame> unwind_in_place(PtraceStoppedTarget& target, Unwinder& unwinder,
                                   const std::string& mode) {
  std::vector<Frame> frames;
  for (int attempt = 0; attempt < 500; ++attempt) {
    frames = unwinder.unwind(target.sample());
    if (!frames.empty() &&
        (mode == "spin" ? frames.front().function == "inner" : in_nanosleep(frames.front()))) {
      break;
    }
    target.resume_and_stop_again();
  }
  return frames;
}

void check_profile_target(const std::string& path) {
  for (const std::string mode : {"spin", "sleep"}) {
    SCOPED_TRACE(path + " " + mode);
    PtraceStoppedTarget target(path, mode);
    Unwinder unwinder(target.pid());
    const auto frames = unwind_in_place(target, unwinder, mode);
    expect_call_chain(frames, profile_module_name_of(path));
    ASSERT_FALSE(frames.empty());
    if (mode == "spin") {
      // Stopped in inner itself: the walk starts in the target's own code.
      EXPECT_EQ(frames.front().function, "inner") << describe_profile_frames(frames);
    } else {
      // Stopped in the nanosleep system call: libc's frames first, unwound by libc's CFI,
      // and the sample is a sleep.
      EXPECT_TRUE(in_nanosleep(frames.front())) << describe_profile_frames(frames);
      EXPECT_EQ(frames.front().module, "libc.so.6") << describe_profile_frames(frames);
      EXPECT_EQ(classify_wait(frames, {}, WaitClass::other), WaitClass::sleep);
    }
  }
}

TEST(ProfileUnwinder, UnwindsWithoutFramePointersFromEhFrame) {
  check_profile_target(NRMLAB_PROFILE_TARGET_NOFP);
}

TEST(ProfileUnwinder, UnwindsWithFramePointers) {
  check_profile_target(NRMLAB_PROFILE_TARGET_FP);
}

// -fno-asynchronous-unwind-tables: the program's own functions have no CFI, so the walk
// goes on along their frame pointers (from the rbp libc's CFI recovered, in "sleep").
TEST(ProfileUnwinder, FallsBackToFramePointersWithoutUnwindTables) {
  check_profile_target(NRMLAB_PROFILE_TARGET_NOCFI);
}

// Memory comes from the sample only, code and CFI from the files: a sample unwinds the
// same after its process has gone.
TEST(ProfileUnwinder, UnwindsAfterTheProcessExited) {
  PtraceStoppedTarget target(NRMLAB_PROFILE_TARGET_NOFP, "sleep");
  Unwinder unwinder(target.pid());
  ASSERT_TRUE(in_nanosleep(unwind_in_place(target, unwinder, "sleep").front()));
  const RawSample sample = target.sample();
  target.kill_and_reap();
  expect_call_chain(unwinder.unwind(sample), profile_module_name_of(NRMLAB_PROFILE_TARGET_NOFP));
}

// Without the stack copy DWARF cannot go past the first frame; the sampler's
// frame-pointer chain is then what the frames are.
TEST(ProfileUnwinder, UsesTheSamplersChainWhenTheStackIsMissing) {
  PtraceStoppedTarget target(NRMLAB_PROFILE_TARGET_FP, "spin");
  Unwinder unwinder(target.pid());
  RawSample sample = target.sample();
  const auto full = unwinder.unwind(sample);
  ASSERT_GE(full.size(), 4U) << describe_profile_frames(full);
  sample.stack.clear();
  EXPECT_EQ(unwinder.unwind(sample).size(), 1U);
  for (std::size_t i = 0; i < full.size(); ++i)
    sample.user_chain.push_back(full[i].address);
  const auto from_chain = unwinder.unwind(sample);
  ASSERT_EQ(from_chain.size(), full.size());
  for (std::size_t i = 0; i < full.size(); ++i)
    EXPECT_EQ(from_chain[i].function, full[i].function);
  // Without user registers (regs.abi 0) the chain alone; without either, nothing.
  sample.regs.abi = 0;
  const auto chain_only = unwinder.unwind(sample);
  ASSERT_EQ(chain_only.size(), full.size());
  EXPECT_EQ(chain_only.front().function, full.front().function);
  EXPECT_TRUE(unwinder.unwind(RawSample{}).empty());
}

TEST(ProfileUnwinder, RepeatedUnwindsAgree) {
  PtraceStoppedTarget target(NRMLAB_PROFILE_TARGET_NOFP, "sleep");
  {
    Unwinder placing(target.pid());
    ASSERT_TRUE(in_nanosleep(unwind_in_place(target, placing, "sleep").front()));
  }
  const RawSample sample = target.sample();
  using Clock = std::chrono::steady_clock;
  const auto cold_start = Clock::now();
  Unwinder unwinder(target.pid());
  const auto first = unwinder.unwind(sample);
  const auto cold = std::chrono::duration<double, std::micro>(Clock::now() - cold_start);
  std::vector<double> micros;
  for (int i = 0; i < 200; ++i) {
    const auto start = Clock::now();
    const auto again = unwinder.unwind(sample);
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    ASSERT_EQ(again.size(), first.size());
    for (std::size_t f = 0; f < first.size(); ++f) {
      ASSERT_EQ(again[f].address, first[f].address);
      ASSERT_EQ(again[f].function, first[f].function);
    }
  }
  std::nth_element(micros.begin(), micros.begin() + 100, micros.end());
  // Informative only (no timed assertions): the cost of an Unwinder's first sample (maps,
  // files, symbol tables, CFI) and of one warm unwind.
  ::testing::Test::RecordProperty("first_unwind_us", std::to_string(cold.count()));
  ::testing::Test::RecordProperty("median_unwind_us", std::to_string(micros[100]));
  ::testing::Test::RecordProperty("frames", std::to_string(first.size()));
}

TEST(ProfileUnwinder, SymbolizesALibcFunction) {
  // dlsym into libc itself: under ASan the plain name would be the sanitizer's interceptor.
  void* libc = ::dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(libc, nullptr);
  void* address = ::dlsym(libc, "fdatasync");
  ::dlclose(libc);
  ASSERT_NE(address, nullptr);
  Unwinder unwinder(::getpid());
  const Frame frame = unwinder.symbolize(reinterpret_cast<std::uint64_t>(address));
  EXPECT_EQ(frame.module, "libc.so.6");
  EXPECT_EQ(wait_function_core(frame.function), "fdatasync") << frame.function;
}

}  // namespace

// Outside the anonymous namespace so that its symbol has a plain mangled name.
__attribute__((noinline)) int profile_unwinder_named_function(int x) {
  return x + 1;
}

namespace {

TEST(ProfileUnwinder, DemanglesCxxNames) {
  Unwinder unwinder(::getpid());
  const auto address = reinterpret_cast<std::uint64_t>(&profile_unwinder_named_function);
  const Frame frame = unwinder.symbolize(address + 1);
  EXPECT_EQ(frame.function, "nrmlab::telemetry::profile::profile_unwinder_named_function(int)");
  EXPECT_EQ(frame.module, "nrmlab_tests");
}

// A library loaded after the Unwinder was made: its address is in no reported module, so
// the maps are read again.
TEST(ProfileUnwinder, FindsLibrariesLoadedLater) {
  Unwinder unwinder(::getpid());
  void* plugin = ::dlopen(NRMLAB_PROFILE_PLUGIN, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(plugin, nullptr) << ::dlerror();
  void* function = ::dlsym(plugin, "profile_plugin_function");
  ASSERT_NE(function, nullptr);
  const Frame frame = unwinder.symbolize(reinterpret_cast<std::uint64_t>(function));
  ::dlclose(plugin);
  EXPECT_EQ(frame.function, "profile_plugin_function");
  EXPECT_EQ(frame.module, profile_module_name_of(NRMLAB_PROFILE_PLUGIN));
}

TEST(ProfileUnwinder, NoSuchProcessIsAnErrorNamingIt) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  try {
    Unwinder unwinder(child);
    FAIL() << "no error for a reaped pid";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(child)), std::string::npos) << e.what();
  }
}

TEST(ProfileUnwinder, KernelSymbolsFromKallsyms) {
  testing::ScratchDir scratch;
  {
    std::ofstream out(scratch / "kallsyms");
    out << "ffffffff81000000 T _stext\n"
           "ffffffff81001000 t do_nanosleep\n"
           "ffffffff81002000 D some_data\n"
           "ffffffff81003000 T futex_wait\t[somemodule]\n";
  }
  auto kernel = std::make_shared<const KernelSymbols>((scratch / "kallsyms").string());
  ASSERT_TRUE(kernel->available()) << kernel->why();
  EXPECT_EQ(kernel->function_at(0xffffffff81001010ULL), "do_nanosleep");
  EXPECT_EQ(kernel->function_at(0xffffffff81002010ULL), "do_nanosleep");  // data skipped
  EXPECT_EQ(kernel->function_at(0xffffffff81003004ULL), "futex_wait");
  EXPECT_EQ(kernel->function_at(0xffffffff80000000ULL), "");
  Unwinder unwinder(::getpid(), kernel);
  const std::vector<std::uint64_t> chain = {0xffffffffffffff80ULL,  // PERF_CONTEXT_KERNEL
                                            0xffffffff81003004ULL, 0xffffffff81001001ULL};
  const auto frames = unwinder.symbolize_kernel(chain);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(frames[0].function, "futex_wait");
  EXPECT_EQ(frames[0].module, "[kernel]");
  EXPECT_EQ(frames[1].function, "do_nanosleep");
  EXPECT_EQ(frames[1].address, 0xffffffff81001001ULL);
}

TEST(ProfileUnwinder, HiddenKernelAddressesSayWhy) {
  testing::ScratchDir scratch;
  {
    std::ofstream out(scratch / "kallsyms");
    out << "0000000000000000 T _stext\n0000000000000000 t do_nanosleep\n";
  }
  const KernelSymbols kernel((scratch / "kallsyms").string());
  EXPECT_FALSE(kernel.available());
  EXPECT_NE(kernel.why().find("kptr_restrict"), std::string::npos) << kernel.why();
  const KernelSymbols missing((scratch / "absent").string());
  EXPECT_FALSE(missing.available());
  EXPECT_NE(missing.why().find("absent"), std::string::npos) << missing.why();
}

// ---- wait classes ---------------------------------------------------------------------

std::vector<Frame> frames_named(std::initializer_list<const char*> names) {
  std::vector<Frame> frames;
  for (const char* name : names)
    frames.push_back(Frame{0, name, ""});
  return frames;
}

struct WaitCase {
  std::vector<Frame> user;
  std::vector<Frame> kernel;
  WaitClass expected;
};

void expect_wait_cases(const std::vector<WaitCase>& cases) {
  for (const auto& c : cases) {
    const auto got = classify_wait(c.user, c.kernel, WaitClass::other);
    EXPECT_EQ(to_string(got), to_string(c.expected))
        << "user: " << describe_profile_frames(c.user)
        << "kernel: " << describe_profile_frames(c.kernel);
  }
}

TEST(ProfileUnwinder, WaitClassSleep) {
  expect_wait_cases({
      {frames_named({"__GI___clock_nanosleep", "__GI___nanosleep", "inner"}), {}, WaitClass::sleep},
      {frames_named({"__select", "time_sleep"}), {}, WaitClass::sleep},
      {frames_named({"__poll", "main"}), {}, WaitClass::sleep},
      {frames_named({"epoll_wait", "loop"}), {}, WaitClass::sleep},
      {frames_named({"__pselect", "main"}), {}, WaitClass::sleep},
      {frames_named({"ppoll"}), {}, WaitClass::sleep},
      {{}, frames_named({"schedule", "do_nanosleep", "hrtimer_nanosleep"}), WaitClass::sleep},
      {{}, frames_named({"schedule", "schedule_hrtimeout_range", "do_sys_poll"}), WaitClass::sleep},
  });
}

TEST(ProfileUnwinder, WaitClassDisk) {
  expect_wait_cases({
      {frames_named({"fdatasync", "unixSync", "sqlite3PagerSync"}), {}, WaitClass::disk},
      {frames_named({"__libc_fsync"}), {}, WaitClass::disk},
      {frames_named({"sync_file_range"}), {}, WaitClass::disk},
      {frames_named({"__msync"}), {}, WaitClass::disk},
      {frames_named({"__libc_pread64", "read_block"}), {}, WaitClass::disk},
      {frames_named({"__GI___libc_write", "_IO_new_file_write"}), {}, WaitClass::disk},
      {frames_named({"__read_nocancel"}), {}, WaitClass::disk},
      {frames_named({"read"}), frames_named({"schedule", "io_schedule", "ext4_file_read_iter"}),
       WaitClass::disk},
      {{},
       frames_named({"schedule", "jbd2_log_wait_commit", "ext4_sync_file", "vfs_fsync_range"}),
       WaitClass::disk},
  });
}

TEST(ProfileUnwinder, WaitClassLock) {
  expect_wait_cases({
      {frames_named({"__futex_abstimed_wait_common64", "___pthread_cond_wait"}),
       {},
       WaitClass::lock},
      {frames_named({"__lll_lock_wait", "___pthread_mutex_lock"}), {}, WaitClass::lock},
      {frames_named({"pthread_cond_wait@@GLIBC_2.3.2", "worker"}), {}, WaitClass::lock},
      {frames_named({"__pthread_clockjoin_ex", "main"}), {}, WaitClass::lock},
      {frames_named({"syscall"}), frames_named({"schedule", "futex_wait_queue", "futex_wait"}),
       WaitClass::lock},
  });
}

TEST(ProfileUnwinder, WaitClassNetwork) {
  expect_wait_cases({
      {frames_named({"__libc_recv", "client"}), {}, WaitClass::network},
      {frames_named({"__send"}), {}, WaitClass::network},
      {frames_named({"accept4"}), {}, WaitClass::network},
      {frames_named({"__libc_connect"}), {}, WaitClass::network},
      {frames_named({"__libc_recvmsg"}), {}, WaitClass::network},
      {frames_named({"sendmsg"}), {}, WaitClass::network},
      // read() of a pipe or socket: the kernel frames tell it from a file.
      {frames_named({"__GI___libc_read"}), frames_named({"schedule", "pipe_read", "vfs_read"}),
       WaitClass::network},
      {frames_named({"read"}),
       frames_named({"schedule", "unix_stream_read_generic", "sock_read_iter"}),
       WaitClass::network},
  });
}

TEST(ProfileUnwinder, WaitClassPageFault) {
  expect_wait_cases({
      {frames_named({"compute"}),
       frames_named({"schedule", "io_schedule", "folio_wait_bit", "filemap_fault", "__do_fault",
                     "handle_mm_fault", "do_user_addr_fault", "exc_page_fault"}),
       WaitClass::page_fault},
      {{}, frames_named({"schedule", "asm_exc_page_fault.cold"}), WaitClass::page_fault},
  });
}

TEST(ProfileUnwinder, WaitClassKeepsTheSamplersDecisionAndUnknowns) {
  const auto sleeping = frames_named({"nanosleep"});
  EXPECT_EQ(classify_wait(sleeping, {}, WaitClass::run_queue), WaitClass::run_queue);
  EXPECT_EQ(classify_wait(sleeping, {}, WaitClass::on_cpu), WaitClass::on_cpu);
  expect_wait_cases({
      {frames_named({"compute", "main"}), {}, WaitClass::other},
      {{}, {}, WaitClass::other},
      // A wait-like name far from the innermost frame says nothing about this wait.
      {frames_named({"a", "b", "c", "d", "e", "f", "g", "read"}), {}, WaitClass::other},
  });
}

}  // namespace
}  // namespace nrmlab::telemetry::profile

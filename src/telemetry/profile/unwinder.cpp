#include "telemetry/profile/unwinder.hpp"

#include <cxxabi.h>
#include <dwarf.h>
#include <elfutils/libdwfl.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <unordered_map>

#include "util/error.hpp"

namespace nrmlab::telemetry::profile {

// ---- kernel symbols -------------------------------------------------------------------

bool KernelSymbols::available() const {
  std::call_once(m_loaded, [this] { load(); });
  return !m_symbols.empty();
}

const std::string& KernelSymbols::why() const {
  std::call_once(m_loaded, [this] { load(); });
  return m_why;
}

void KernelSymbols::load() const {
  const std::string& path = m_path;
  std::ifstream in(path);
  if (!in) {
    m_why = "cannot read " + path + ": " + std::strerror(errno);
    return;
  }
  std::string line;
  bool any_nonzero = false;
  while (std::getline(in, line)) {
    // "ffffffff81000000 T _stext" or "... t name\t[module]"
    std::uint64_t address = 0;
    const char* begin = line.data();
    const char* end = begin + line.size();
    auto [after, ec] = std::from_chars(begin, end, address, 16);
    if (ec != std::errc{} || end - after < 4 || after[0] != ' ' || after[2] != ' ') continue;
    const char type = after[1];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    const char* name = after + 3;
    const char* name_end = std::find_if(name, end, [](char c) { return c == '\t' || c == ' '; });
    any_nonzero = any_nonzero || address != 0;
    m_symbols.emplace_back(address, std::string(name, name_end));
  }
  if (!any_nonzero) {
    m_symbols.clear();
    m_why = path +
            " shows no addresses (they read 0): kernel frames are not named; as root, or "
            "with kernel.kptr_restrict=0 (sysctl -w kernel.kptr_restrict=0), they would be";
    return;
  }
  std::sort(m_symbols.begin(), m_symbols.end());
}

std::string KernelSymbols::function_at(std::uint64_t address) const {
  std::call_once(m_loaded, [this] { load(); });
  auto it = std::upper_bound(m_symbols.begin(), m_symbols.end(), address,
                             [](std::uint64_t a, const auto& s) { return a < s.first; });
  if (it == m_symbols.begin()) return {};
  return std::prev(it)->second;
}

// ---- libdwfl plumbing -----------------------------------------------------------------

namespace {

struct CxaDemangleFree {
  void operator()(char* p) const { std::free(p); }
};

// x86-64 DWARF register numbers (the psABI's) in perf's register order, for the 17
// registers DWARF unwinding uses: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip.
constexpr std::array<std::size_t, 17> k_dwarf_to_perf_reg = {0,  3,  2,  1,  4,  5,  6,  7, 16,
                                                             17, 18, 19, 20, 21, 22, 23, 8};

std::string demangle_elf_symbol(const char* name) {
  if (name == nullptr) return {};
  if (name[0] == '_' && name[1] == 'Z') {
    int status = 0;
    std::unique_ptr<char, CxaDemangleFree> out(
        abi::__cxa_demangle(name, nullptr, nullptr, &status));
    if (status == 0 && out) return out.get();
  }
  return name;
}

std::string dwfl_module_base_name(const char* name) {
  if (name == nullptr) return {};
  std::string_view view(name);
  if (auto slash = view.rfind('/'); slash != std::string_view::npos) view.remove_prefix(slash + 1);
  return std::string(view);
}

// The lines of /proc/<pid>/maps that map files executable: the modules. The other lines
// (heap, anonymous memory, data segments) change all the time in a program that allocates
// -- glibc's malloc maps and unmaps arenas -- and must not count as "the maps changed": a
// rebuilt Dwfl drops every cached symbol table and CFI, which cost milliseconds to refill.
std::string read_proc_maps_text(std::int32_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/maps");
  if (!in) return {};
  std::string modules;
  std::string line;
  while (std::getline(in, line)) {
    // "start-end perms offset dev inode path": the permissions are the second field.
    const auto perms = line.find(' ');
    if (perms == std::string::npos || line.size() < perms + 4 || line[perms + 3] != 'x') continue;
    if (line.find(" /") == std::string::npos && line.find("[vdso]") == std::string::npos) continue;
    modules.append(line).push_back('\n');
  }
  return modules.empty() ? std::string("(no modules)\n") : modules;
}

// One frame as the DWARF walk found it.
struct DwflWalkedFrame {
  std::uint64_t pc = 0;
  bool activation = false;  // the sampled ip (or a signal frame): not a return address
};

struct DwflWalkContext {
  std::vector<DwflWalkedFrame> frames;
};

int collect_walked_frame(Dwfl_Frame* state, void* arg) {
  auto& walk = *static_cast<DwflWalkContext*>(arg);
  Dwarf_Addr pc = 0;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) return DWARF_CB_ABORT;
  walk.frames.push_back({pc, activation});
  return walk.frames.size() >= Unwinder::k_max_frames ? DWARF_CB_ABORT : DWARF_CB_OK;
}

}  // namespace

// ---- the unwinder's state -------------------------------------------------------------

struct Unwinder::State {
  std::int32_t pid = 0;
  std::shared_ptr<const KernelSymbols> kernel;
  std::string maps_text;  // as last reported
  // A plain function-pointer deleter: a type from this file's anonymous namespace in a
  // struct the header declares would warn (-Wsubobject-linkage) in a unity build.
  using DwflOwner = std::unique_ptr<Dwfl, decltype(&dwfl_end)>;
  DwflOwner dwfl{nullptr, dwfl_end};
  bool attached = false;
  const RawSample* current = nullptr;  // the sample being unwound (the callbacks' memory)
  std::unordered_map<std::uint64_t, Frame> symbols;
  Dwfl_Callbacks callbacks{};
  Dwfl_Thread_Callbacks thread_callbacks{};

  bool report_modules();
  bool read_stack_word(std::uint64_t address, std::uint64_t& value) const;
  Frame lookup(std::uint64_t address);
};

namespace {

Unwinder::State& unwinder_state(void* arg) {
  return *static_cast<Unwinder::State*>(arg);
}

pid_t unwinder_next_thread(Dwfl*, void* dwfl_arg, void** thread_argp) {
  auto& state = unwinder_state(dwfl_arg);
  if (*thread_argp != nullptr || state.current == nullptr) return 0;
  *thread_argp = dwfl_arg;
  return state.current->tid;
}

bool unwinder_get_thread(Dwfl*, pid_t tid, void* dwfl_arg, void** thread_argp) {
  auto& state = unwinder_state(dwfl_arg);
  if (state.current == nullptr || state.current->tid != tid) return false;
  *thread_argp = dwfl_arg;
  return true;
}

bool unwinder_memory_read(Dwfl*, Dwarf_Addr address, Dwarf_Word* result, void* dwfl_arg) {
  std::uint64_t value = 0;
  if (!unwinder_state(dwfl_arg).read_stack_word(address, value)) return false;
  *result = value;
  return true;
}

bool unwinder_initial_registers(Dwfl_Thread* thread, void* thread_arg) {
  const auto& state = unwinder_state(thread_arg);
  if (state.current == nullptr) return false;
  const auto& values = state.current->regs.values;
  const std::uint64_t known = state.current->regs.known;
  // Only the registers the sample knows: one left unset is "undefined" to libdwfl, so a
  // frame whose CFA needs it ends the walk instead of reading from a made-up address.
  for (std::size_t i = 0; i < k_dwarf_to_perf_reg.size(); ++i) {
    const std::size_t perf_reg = k_dwarf_to_perf_reg[i];
    if ((known >> perf_reg & 1U) == 0) continue;
    const Dwarf_Word value = values[perf_reg];
    if (!dwfl_thread_state_registers(thread, static_cast<int>(i), 1, &value)) return false;
  }
  dwfl_thread_state_register_pc(thread, state.current->regs.ip());
  return true;
}

}  // namespace

bool Unwinder::State::read_stack_word(std::uint64_t address, std::uint64_t& value) const {
  if (current == nullptr || address < current->stack_address) return false;
  const std::uint64_t offset = address - current->stack_address;
  if (offset > current->stack.size() || current->stack.size() - offset < sizeof value) {
    return false;
  }
  std::memcpy(&value, current->stack.data() + offset, sizeof value);
  return true;
}

// (Re)builds the module list from /proc/<pid>/maps. libdwfl's process state is attached
// to a Dwfl once, so a changed map (dlopen) gets a fresh Dwfl: rare, and it drops only the
// per-file caches, which refill on demand.
bool Unwinder::State::report_modules() {
  std::string text = read_proc_maps_text(pid);
  if (text.empty() || text == maps_text) return false;
  DwflOwner fresh(dwfl_begin(&callbacks), dwfl_end);
  if (!fresh) return false;
  dwfl_report_begin(fresh.get());
  const int rc = dwfl_linux_proc_report(fresh.get(), pid);
  if (rc != 0 || dwfl_report_end(fresh.get(), nullptr, nullptr) != 0) return false;
  attached = dwfl_attach_state(fresh.get(), nullptr, pid, &thread_callbacks, this);
  dwfl = std::move(fresh);
  maps_text = std::move(text);
  symbols.clear();
  return true;
}

namespace {

Frame dwfl_lookup_frame(Dwfl* dwfl, std::uint64_t address) {
  Frame frame;
  frame.address = address;
  Dwfl_Module* module = dwfl != nullptr ? dwfl_addrmodule(dwfl, address) : nullptr;
  if (module == nullptr) return frame;
  frame.module = dwfl_module_base_name(
      dwfl_module_info(module, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
  GElf_Off offset = 0;
  GElf_Sym symbol{};
  GElf_Word section = 0;
  Elf* elf = nullptr;
  Dwarf_Addr bias = 0;
  frame.function = demangle_elf_symbol(
      dwfl_module_addrinfo(module, address, &offset, &symbol, &section, &elf, &bias));
  return frame;
}

}  // namespace

Frame Unwinder::State::lookup(std::uint64_t address) {
  if (auto it = symbols.find(address); it != symbols.end()) return it->second;
  Frame frame = dwfl_lookup_frame(dwfl.get(), address);
  // Not in a module, or in none of its symbols: perhaps a library loaded since (dlopen
  // can place one in what libdwfl took for part of an earlier module's range). The maps
  // are re-read, and the modules rebuilt only if they changed; the answer is cached either
  // way, so an address that stays unknown costs this once.
  if (frame.function.empty() && report_modules()) frame = dwfl_lookup_frame(dwfl.get(), address);
  // A bounded cache: a long run touches a bounded set of call sites, but a JIT need not.
  constexpr std::size_t k_symbol_cache_limit = 1 << 18;
  if (symbols.size() >= k_symbol_cache_limit) symbols.clear();
  symbols.emplace(address, frame);
  return frame;
}

// ---- Unwinder -------------------------------------------------------------------------

Unwinder::Unwinder(std::int32_t pid, std::shared_ptr<const KernelSymbols> kernel)
    : m_state(std::make_unique<State>()) {
  m_state->pid = pid;
  m_state->kernel = std::move(kernel);
  // Separate debug files only from the local build-id tree (/usr/lib/debug/.build-id):
  // the "standard" search would also ask a debuginfod server over the network.
  m_state->callbacks.find_elf = dwfl_linux_proc_find_elf;
  m_state->callbacks.find_debuginfo = dwfl_build_id_find_debuginfo;
  m_state->thread_callbacks.next_thread = unwinder_next_thread;
  m_state->thread_callbacks.get_thread = unwinder_get_thread;
  m_state->thread_callbacks.memory_read = unwinder_memory_read;
  m_state->thread_callbacks.set_initial_registers = unwinder_initial_registers;
  if (!m_state->report_modules()) {
    throw Error("profile: cannot read the modules of process " + std::to_string(pid) +
                " from /proc/" + std::to_string(pid) + "/maps (no such process, or unreadable)");
  }
}

Unwinder::~Unwinder() = default;

std::int32_t Unwinder::pid() const {
  return m_state->pid;
}

std::vector<Frame> Unwinder::unwind(const RawSample& sample) {
  auto& state = *m_state;
  // No user registers (a kernel thread, or a sample taken with none): no user frames.
  if (sample.regs.abi == 0 && sample.user_chain.empty()) return {};
  const std::uint64_t ip = sample.regs.abi != 0 ? sample.regs.ip() : sample.user_chain.front();
  // Looking the ip up first re-reports the modules if it lies in none (dlopen), before
  // the walk needs them.
  Frame innermost = state.lookup(ip);
  DwflWalkContext walk;
  if (state.attached && sample.regs.abi != 0) {
    state.current = &sample;
    // The result is not checked: an error only says where the walk stopped (libdwfl also
    // reports the end of some stacks as one), and the frames before it stand.
    dwfl_getthread_frames(state.dwfl.get(), sample.tid, collect_walked_frame, &walk);
    state.current = nullptr;
  }
  if (walk.frames.size() <= 1 && !sample.user_chain.empty()) {
    walk.frames.assign(1, DwflWalkedFrame{ip, true});
    for (std::uint64_t address : sample.user_chain) {
      if (address == ip && walk.frames.size() == 1) continue;  // perf's chain starts at ip
      if (walk.frames.size() >= k_max_frames) break;
      walk.frames.push_back({address, false});
    }
  }
  std::vector<Frame> frames;
  frames.reserve(std::max<std::size_t>(walk.frames.size(), 1));
  frames.push_back(std::move(innermost));
  for (std::size_t i = 1; i < walk.frames.size(); ++i) {
    const auto& walked = walk.frames[i];
    Frame frame = state.lookup(walked.activation ? walked.pc : walked.pc - 1);
    frame.address = walked.pc;
    frames.push_back(std::move(frame));
  }
  return frames;
}

Frame Unwinder::symbolize(std::uint64_t address) {
  if (!is_kernel_address(address)) return m_state->lookup(address);
  Frame frame;
  frame.address = address;
  frame.module = "[kernel]";
  if (m_state->kernel) frame.function = m_state->kernel->function_at(address);
  return frame;
}

std::vector<Frame> Unwinder::symbolize_kernel(std::span<const std::uint64_t> chain) {
  // perf's context markers (PERF_CONTEXT_KERNEL and the like) are the top 4095 values.
  constexpr std::uint64_t k_perf_context_max = static_cast<std::uint64_t>(-4095);
  std::vector<Frame> frames;
  frames.reserve(chain.size());
  for (std::uint64_t address : chain) {
    if (address >= k_perf_context_max) continue;
    // The first is where the thread was; the others return addresses (looked up minus one).
    Frame frame = symbolize(frames.empty() ? address : address - 1);
    frame.address = address;
    frames.push_back(std::move(frame));
  }
  return frames;
}

}  // namespace nrmlab::telemetry::profile

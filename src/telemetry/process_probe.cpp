#include "telemetry/process_probe.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <map>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>

#include "telemetry/probes.hpp"
#include "util/parse.hpp"
#include "util/proc_stat.hpp"

namespace nrmlab::telemetry {
namespace {

namespace fs = std::filesystem;

// Descriptors kept open across samples (a kept /proc file is re-read with one pread: about
// 3.5 µs cheaper per file than open+read+close here). Past the budget files are opened per
// read, so a large tree cannot exhaust the process's descriptor limit.
constexpr int k_kept_file_budget = 256;
// A forced search for new descendants every this many samples, whatever /proc/loadavg says.
constexpr int k_discovery_every = 20;
constexpr std::size_t k_max_failures = 32;
// PF_EXITING in the task flags (field 9 of stat): set as the task starts to exit, before it
// releases its memory and files, so its gauges are already meaningless.
constexpr unsigned long long k_pf_exiting = 0x4;

// The cumulative counters, in the units the files give (clock ticks for CPU).
enum Counter : std::size_t {
  k_user,
  k_system,
  k_minor,
  k_major,
  k_rchar,
  k_wchar,
  k_syscr,
  k_syscw,
  k_read_bytes,
  k_write_bytes,
  k_voluntary,
  k_involuntary,
  k_runq,
  k_counter_count
};
constexpr std::array<const char*, k_counter_count> k_counter_names = {"user time",
                                                                      "system time",
                                                                      "minor faults",
                                                                      "major faults",
                                                                      "rchar",
                                                                      "wchar",
                                                                      "syscr",
                                                                      "syscw",
                                                                      "read_bytes",
                                                                      "write_bytes",
                                                                      "voluntary switches",
                                                                      "involuntary switches",
                                                                      "run-queue delay"};
constexpr std::array<std::pair<std::string_view, Counter>, 6> k_io_keys = {
    {{"rchar", k_rchar},
     {"wchar", k_wchar},
     {"syscr", k_syscr},
     {"syscw", k_syscw},
     {"read_bytes", k_read_bytes},
     {"write_bytes", k_write_bytes}}};

using Counters = std::array<std::optional<std::int64_t>, k_counter_count>;

enum class Outcome { ok, gone, failed };

Outcome classify(int error) {
  // ESRCH: a kept descriptor of a reaped process; ENOENT: its directory is gone.
  return error == ESRCH || error == ENOENT ? Outcome::gone : Outcome::failed;
}

std::string error_text(int error) {
  std::string text = std::error_code(error, std::generic_category()).message();
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = static_cast<char>(text[0] + 32);
  return text;
}

struct FileBudget {
  int remaining = k_kept_file_budget;
  // Outside procfs (a test's fake tree) a removed file stays readable through a kept
  // descriptor; its link count of 0 then plays the part of procfs's ESRCH.
  bool check_unlinked = false;
};

// One /proc file, read whole at offset 0 each time: a seq_file regenerates its content for
// such a read, so a reading is never a mix of two generations.
class ProcFile {
 public:
  ProcFile() = default;
  ProcFile(std::string path, FileBudget* budget) : m_path(std::move(path)), m_budget(budget) {}
  ~ProcFile() { release(); }
  ProcFile(ProcFile&& other) noexcept
      : m_path(std::move(other.m_path)),
        m_fd(std::exchange(other.m_fd, -1)),
        m_budget(other.m_budget) {}
  ProcFile& operator=(ProcFile&& other) noexcept {
    if (this != &other) {
      release();
      m_path = std::move(other.m_path);
      m_fd = std::exchange(other.m_fd, -1);
      m_budget = other.m_budget;
    }
    return *this;
  }
  const std::string& path() const { return m_path; }

  // `budget` null: never kept (files read once in a while).
  Outcome read(std::string& text, int& error) {
    int fd = m_fd;
    if (fd < 0) {
      fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return fail(errno, error);
      if (m_budget != nullptr && m_budget->remaining > 0) {
        --m_budget->remaining;
        m_fd = fd;
      }
    } else if (m_budget->check_unlinked) {
      struct stat info {};
      if (fstat(fd, &info) == 0 && info.st_nlink == 0) return fail(ENOENT, error);
    }
    const Outcome outcome = read_whole(fd, text, error);
    if (fd != m_fd) ::close(fd);
    return outcome;
  }

  void release() {
    if (m_fd < 0) return;
    ::close(m_fd);
    m_fd = -1;
    ++m_budget->remaining;
  }

 private:
  static Outcome fail(int code, int& error) {
    error = code;
    return classify(code);
  }
  static Outcome read_whole(int fd, std::string& text, int& error) {
    text.resize(std::max<std::size_t>(text.capacity(), 4096));
    for (;;) {
      const ssize_t got = pread(fd, text.data(), text.size(), 0);
      if (got < 0) {
        if (errno == EINTR) continue;
        return fail(errno, error);
      }
      if (static_cast<std::size_t>(got) < text.size()) {
        text.resize(static_cast<std::size_t>(got));
        return Outcome::ok;
      }
      text.resize(text.size() * 2);  // it did not fit: read it all again, bigger
    }
  }

  std::string m_path;
  int m_fd = -1;
  FileBudget* m_budget = nullptr;
};

// A /proc directory listed now and then (rewound when kept, like ProcFile).
class ProcDir {
 public:
  ProcDir() = default;
  ProcDir(std::string path, FileBudget* budget) : m_path(std::move(path)), m_budget(budget) {}
  ~ProcDir() { release(); }
  ProcDir(ProcDir&& other) noexcept
      : m_path(std::move(other.m_path)),
        m_dir(std::exchange(other.m_dir, nullptr)),
        m_budget(other.m_budget) {}
  ProcDir& operator=(ProcDir&& other) noexcept {
    if (this != &other) {
      release();
      m_path = std::move(other.m_path);
      m_dir = std::exchange(other.m_dir, nullptr);
      m_budget = other.m_budget;
    }
    return *this;
  }
  const std::string& path() const { return m_path; }

  // Calls visit(name) for each entry but "." and "..".
  template <typename Visit>
  Outcome list(int& error, Visit&& visit) {
    DIR* dir = m_dir;
    if (dir == nullptr) {
      const int fd = ::open(m_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) {
        error = errno;
        return classify(error);
      }
      dir = fdopendir(fd);
      if (dir == nullptr) {
        error = errno;
        ::close(fd);
        return Outcome::failed;
      }
      if (m_budget != nullptr && m_budget->remaining > 0) {
        --m_budget->remaining;
        m_dir = dir;
      }
    } else {
      rewinddir(dir);
    }
    Outcome outcome = Outcome::ok;
    for (;;) {
      errno = 0;
      const dirent* entry = readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) {
          error = errno;
          outcome = classify(error);
        }
        break;
      }
      const std::string_view name(entry->d_name);
      if (name != "." && name != "..") visit(name);
    }
    if (dir != m_dir) closedir(dir);
    return outcome;
  }

  void release() {
    if (m_dir == nullptr) return;
    closedir(m_dir);
    m_dir = nullptr;
    ++m_budget->remaining;
  }

 private:
  std::string m_path;
  DIR* m_dir = nullptr;
  FileBudget* m_budget = nullptr;
};

// The fields of /proc/PID/stat this probe uses.
struct StatFields {
  char state = '?';
  pid_t ppid = 0;
  unsigned long long flags = 0;
  std::int64_t minflt = 0, cminflt = 0, majflt = 0, cmajflt = 0;
  std::int64_t utime = 0, stime = 0, cutime = 0, cstime = 0;
  std::int64_t threads = 0;
  std::int64_t start = 0;  // start time in ticks after boot: with the pid, the identity
};

std::optional<StatFields> parse_stat(std::string_view text) {
  // The command name is in parentheses and may itself hold spaces and ')': the fields
  // resume after the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string_view::npos || close + 2 >= text.size() || text[close + 1] != ' ')
    return std::nullopt;
  std::string_view rest = text.substr(close + 2);
  while (!rest.empty() && rest.back() == '\n')
    rest.remove_suffix(1);
  std::array<std::string_view, 20> field{};  // fields 3 (state) to 22 (starttime)
  std::size_t count = 0;
  while (count < field.size() && !rest.empty()) {
    const auto space = rest.find(' ');
    field[count++] = rest.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  if (count < field.size() || field[0].size() != 1) return std::nullopt;
  StatFields out;
  out.state = field[0][0];
  const auto ppid = parse_number<pid_t>(field[1]);
  const auto flags = parse_number<unsigned long long>(field[6]);
  if (!ppid || !flags) return std::nullopt;
  out.ppid = *ppid;
  out.flags = *flags;
  const std::array<std::pair<std::size_t, std::int64_t*>, 10> counters = {{{7, &out.minflt},
                                                                           {8, &out.cminflt},
                                                                           {9, &out.majflt},
                                                                           {10, &out.cmajflt},
                                                                           {11, &out.utime},
                                                                           {12, &out.stime},
                                                                           {13, &out.cutime},
                                                                           {14, &out.cstime},
                                                                           {17, &out.threads},
                                                                           {19, &out.start}}};
  for (const auto& [index, target] : counters) {
    const auto value = parse_number<std::int64_t>(field[index]);
    if (!value || *value < 0) return std::nullopt;
    *target = *value;
  }
  return out;
}

// "Key:<blanks>value<rest>" lines (status, io, smaps_rollup): calls visit(key, value) with the
// value's first word.
template <typename Visit>
void for_each_line(std::string_view text, Visit&& visit) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    value = first == std::string_view::npos ? std::string_view() : value.substr(first);
    visit(line.substr(0, colon), value.substr(0, value.find_first_of(" \t")), value);
  }
}

// A size line "   1764 kB"; nullopt unless the unit is kB.
std::optional<std::int64_t> parse_kib(std::string_view number, std::string_view whole) {
  const auto value = parse_number<std::int64_t>(number);
  if (!value || *value < 0 || whole.substr(number.size()) != " kB") return std::nullopt;
  return *value * 1024;
}

bool is_zombie(const StatFields& stat) {
  // A main thread that has exited shows Z while other threads still run: that process lives.
  return stat.state == 'Z' && stat.threads <= 1;
}

bool is_exiting(const StatFields& stat) {
  return is_zombie(stat) || ((stat.flags & k_pf_exiting) != 0 && stat.threads <= 1);
}

struct Task {
  pid_t tid = 0;
  ProcFile status;
  ProcFile schedstat;
  std::optional<std::int64_t> voluntary, involuntary, runq_ns;  // last reading
};

bool all_digits(std::string_view name) {
  return !name.empty() &&
         std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// One process of the tree: its files, this sample's reading and what the last sample took.
struct Tracked {
  pid_t pid = 0;
  std::string dir;  // PROC/PID
  ProcFile stat, io;
  ProcDir fd_dir, task_dir;
  std::vector<Task> tasks;
  // Of threads that have exited.
  std::int64_t exited_voluntary = 0, exited_involuntary = 0, exited_runq_ns = 0;

  StatFields now;
  std::optional<std::int64_t> identity;  // start time when first read
  Counters total;                        // this sample: what the process contributes
  Counters absorbed;                     // the part its reaped children brought (see below)
  std::optional<std::int64_t> rss, open_fds, pss;

  bool committed = false;  // included in the previous sample
  pid_t committed_ppid = 0;
  Counters committed_total, committed_absorbed;  // last known values
};

}  // namespace

struct ProcessProbe::State {
  State(pid_t pid, bool include_children, fs::path proc_root);

  std::optional<ProcessSample> sample(bool with_pss);
  void forget_target();
  std::vector<std::unique_ptr<Tracked>> update_membership();
  bool read_tree(bool with_pss, std::vector<std::unique_ptr<Tracked>>& left);
  // Sums over the live processes; 0 until a process cannot provide the value.
  struct Gauges {
    std::optional<std::int64_t> rss = 0, fds = 0, pss = 0;
  };
  void sum_tree(ProcessSample& out, Counters& sum, Gauges& gauges) const;
  void hold_high_water(Counters& sum);
  void fill_counters(ProcessSample& out, const Counters& sum) const;

  enum class Read { live, gone, unreadable };
  Read refresh_stat(Tracked& process);
  bool still_alive(Tracked& process);
  std::unique_ptr<Tracked> make_tracked(pid_t pid);
  std::vector<std::unique_ptr<Tracked>> settle_membership();
  bool should_discover();
  void discover_by_children();
  void discover_by_scan(std::vector<std::unique_ptr<Tracked>>& left);
  bool read_details(Tracked& process, bool with_pss);
  void take_stat_counters(Tracked& process) const;
  enum class Detail { ok, absent, gone };
  Detail check_detail(Tracked& process, Outcome outcome, int error, const std::string& path);
  Detail read_io(Tracked& process);
  Detail read_open_fds(Tracked& process, const std::string& dir);
  Detail read_pss(Tracked& process, const std::string& dir);
  bool read_tasks(Tracked& process);
  void read_task(const Tracked& process, Task& task, std::optional<std::int64_t>& rss,
                 bool& switches_ok);
  void read_task_runq(const Tracked& process, Task& task, bool& runq_ok);
  std::string live_dir(const Tracked& process) const;
  void account_left(const std::vector<std::unique_ptr<Tracked>>& left);
  void commit();
  void fail_once(const std::string& what);

  pid_t m_pid;
  bool m_include_children;
  bool m_final = false;  // final_sample(): a zombie target is read once more
  fs::path m_proc;
  std::int64_t m_tick_ns = 10'000'000;
  FileBudget m_budget;
  bool m_gone = false;
  std::map<pid_t, std::unique_ptr<Tracked>> m_tree;  // the target and its descendants
  Counters m_carried;     // totals of processes that left without their parent absorbing them
  Counters m_high_water;  // last value returned, for the monotonicity guarantee
  std::string m_buffer;   // reused for every read
  std::vector<std::string> m_failures;
  // Run-queue delay: whether any schedstat reading showed a task that has run (all zeros
  // everywhere is a kernel without scheduler statistics), and the first problem met.
  bool m_schedstat_seen = false;
  std::string m_runq_problem;

  // Descendant search.
  bool m_children_files = false;
  ProcFile m_loadavg;
  ProcDir m_proc_dir;
  std::set<pid_t> m_outside;  // scanned pids known not to be descendants
  std::optional<std::string> m_last_pid;
  bool m_last_pid_confirmed = false;
  int m_samples_since_discovery = 0;
};

ProcessProbe::State::State(pid_t pid, bool include_children, fs::path proc_root)
    : m_pid(pid), m_include_children(include_children), m_proc(std::move(proc_root)) {
  const long ticks = sysconf(_SC_CLK_TCK);
  if (ticks > 0) m_tick_ns = 1'000'000'000 / ticks;
  struct statfs info {};
  m_budget.check_unlinked =
      !(statfs(m_proc.c_str(), &info) == 0 && info.f_type == static_cast<long>(PROC_SUPER_MAGIC));
  m_buffer.reserve(4096);
  for (auto& value : m_carried)
    value = 0;
  m_tree.emplace(pid, make_tracked(pid));
  if (include_children) {
    const std::string id = std::to_string(pid);
    std::error_code ec;
    m_children_files = fs::exists(m_proc / id / "task" / id / "children", ec);
    m_loadavg = ProcFile((m_proc / "loadavg").string(), &m_budget);
    if (!m_children_files) m_proc_dir = ProcDir(m_proc.string(), &m_budget);
  }
}

void ProcessProbe::State::fail_once(const std::string& what) {
  if (std::find(m_failures.begin(), m_failures.end(), what) != m_failures.end()) return;
  if (m_failures.size() < k_max_failures) {
    m_failures.push_back(what);
  } else if (m_failures.size() == k_max_failures) {
    m_failures.push_back("further problems not listed");
  }
}

std::unique_ptr<Tracked> ProcessProbe::State::make_tracked(pid_t pid) {
  auto process = std::make_unique<Tracked>();
  process->pid = pid;
  process->dir = (m_proc / std::to_string(pid)).string();
  process->stat = ProcFile(process->dir + "/stat", &m_budget);
  process->io = ProcFile(process->dir + "/io", &m_budget);
  process->fd_dir = ProcDir(process->dir + "/fd", &m_budget);
  process->task_dir = ProcDir(process->dir + "/task", &m_budget);
  return process;
}

ProcessProbe::State::Read ProcessProbe::State::refresh_stat(Tracked& process) {
  int error = 0;
  const Outcome outcome = process.stat.read(m_buffer, error);
  if (outcome == Outcome::gone) return Read::gone;
  if (outcome == Outcome::failed) {
    fail_once(process.stat.path() + ": " + error_text(error));
    return Read::unreadable;
  }
  const auto fields = parse_stat(m_buffer);
  if (!fields) {
    fail_once("cannot parse " + process.stat.path());
    return Read::unreadable;
  }
  // A different start time is another process under a recycled pid (possible only for
  // files opened per read, past the descriptor budget); X is a task being torn down.
  if ((process.identity && *process.identity != fields->start) || fields->state == 'X')
    return Read::gone;
  process.identity = fields->start;
  process.now = *fields;
  return Read::live;
}

bool ProcessProbe::State::still_alive(Tracked& process) {
  return refresh_stat(process) == Read::live;
}

// Drops from the tree every process whose stat is gone, and (with descendants) every process
// whose parent chain no longer reaches the target: orphans are reparented outside the tree.
std::vector<std::unique_ptr<Tracked>> ProcessProbe::State::settle_membership() {
  std::vector<std::unique_ptr<Tracked>> left;
  for (auto it = m_tree.begin(); it != m_tree.end();) {
    if (it->first != m_pid && refresh_stat(*it->second) != Read::live) {
      left.push_back(std::move(it->second));
      it = m_tree.erase(it);
    } else {
      ++it;
    }
  }
  std::set<pid_t> reached = {m_pid};
  for (bool grew = true; grew;) {
    grew = false;
    for (const auto& [pid, process] : m_tree)
      if (!reached.count(pid) && reached.count(process->now.ppid)) {
        reached.insert(pid);
        grew = true;
      }
  }
  for (auto it = m_tree.begin(); it != m_tree.end();) {
    if (!reached.count(it->first)) {
      if (!m_children_files) m_outside.insert(it->first);  // never a descendant again
      left.push_back(std::move(it->second));
      it = m_tree.erase(it);
    } else {
      ++it;
    }
  }
  return left;
}

bool ProcessProbe::State::should_discover() {
  ++m_samples_since_discovery;
  // /proc/loadavg ends with the pid allocated last in this pid namespace; every process and
  // thread takes one, so while it stands still nothing new can have joined the tree. A pid
  // is allocated a moment before its process appears in /proc, so a change is followed by
  // a second search one sample later.
  int error = 0;
  std::optional<std::string> last;
  if (m_loadavg.read(m_buffer, error) == Outcome::ok) {
    std::string_view text(m_buffer);
    while (!text.empty() && text.back() == '\n')
      text.remove_suffix(1);
    const auto space = text.rfind(' ');
    if (space != std::string_view::npos && all_digits(text.substr(space + 1)))
      last = std::string(text.substr(space + 1));
  }
  if (!last) return true;  // no gate: search every time
  if (last != m_last_pid) {
    m_last_pid = last;
    m_last_pid_confirmed = false;
    return true;
  }
  if (!m_last_pid_confirmed) {
    m_last_pid_confirmed = true;
    return true;
  }
  return m_samples_since_discovery >= k_discovery_every;
}

void ProcessProbe::State::discover_by_children() {
  std::vector<Tracked*> pending;
  for (const auto& [pid, process] : m_tree)
    if (!is_zombie(process->now)) pending.push_back(process.get());
  while (!pending.empty()) {
    Tracked& parent = *pending.back();
    pending.pop_back();
    std::vector<std::string> tids;
    int error = 0;
    // Each thread has its own list: a child belongs to the thread that forked it.
    parent.task_dir.list(error, [&](std::string_view name) { tids.emplace_back(name); });
    for (const auto& tid : tids) {
      ProcFile children(parent.dir + "/task/" + tid + "/children", nullptr);
      const Outcome outcome = children.read(m_buffer, error);
      if (outcome == Outcome::failed) fail_once(children.path() + ": " + error_text(error));
      if (outcome != Outcome::ok) continue;  // gone: that thread has exited
      std::vector<pid_t> found;
      std::string_view text(m_buffer);
      while (!text.empty()) {
        const auto space = text.find_first_of(" \n");
        if (const auto child = parse_number<pid_t>(text.substr(0, space))) found.push_back(*child);
        text = space == std::string_view::npos ? std::string_view() : text.substr(space + 1);
      }
      for (const pid_t child : found) {
        if (m_tree.count(child)) continue;
        auto process = make_tracked(child);
        if (refresh_stat(*process) != Read::live || process->now.ppid != parent.pid) continue;
        pending.push_back(process.get());
        m_tree.emplace(child, std::move(process));
      }
    }
  }
}

void ProcessProbe::State::discover_by_scan(std::vector<std::unique_ptr<Tracked>>& left) {
  std::vector<pid_t> listed;
  int error = 0;
  const Outcome outcome = m_proc_dir.list(error, [&](std::string_view name) {
    if (all_digits(name))
      if (const auto pid = parse_number<pid_t>(name)) listed.push_back(*pid);
  });
  if (outcome != Outcome::ok) {
    fail_once(m_proc_dir.path() + ": " + error_text(error));
    return;
  }
  std::sort(listed.begin(), listed.end());
  // A pid gone from the listing may come back as a new process: forget it.
  for (auto it = m_outside.begin(); it != m_outside.end();)
    it =
        std::binary_search(listed.begin(), listed.end(), *it) ? std::next(it) : m_outside.erase(it);
  // A process that just left the tree is not new.
  std::set<pid_t> just_left;
  for (const auto& process : left)
    just_left.insert(process->pid);
  // Only processes not seen before are read: a process outside the tree can never enter it
  // (reparenting moves orphans up to init or a subreaper, never down into another tree).
  std::vector<std::unique_ptr<Tracked>> unknown;
  for (const pid_t pid : listed) {
    if (m_tree.count(pid) || m_outside.count(pid) || just_left.count(pid)) continue;
    auto process = make_tracked(pid);
    if (refresh_stat(*process) == Read::live) unknown.push_back(std::move(process));
  }
  for (bool grew = true; grew;) {  // a new child of a new child joins once its parent has
    grew = false;
    for (auto& process : unknown) {
      if (process && m_tree.count(process->now.ppid)) {
        const pid_t pid = process->pid;
        m_tree.emplace(pid, std::move(process));
        grew = true;
      }
    }
  }
  for (const auto& process : unknown)
    if (process) m_outside.insert(process->pid);
}

// The directory through which a process's memory and files are reached: its own, or a live
// thread's once the main thread has exited (that thread keeps neither).
std::string ProcessProbe::State::live_dir(const Tracked& process) const {
  if (process.now.state == 'Z')
    for (const auto& task : process.tasks)
      if (task.tid != process.pid) return process.dir + "/task/" + std::to_string(task.tid);
  return process.dir;
}

void ProcessProbe::State::read_task(const Tracked& process, Task& task,
                                    std::optional<std::int64_t>& rss, bool& switches_ok) {
  std::optional<std::int64_t> voluntary, involuntary, vm_rss;
  bool malformed = false;
  for_each_line(m_buffer, [&](std::string_view key, std::string_view word, std::string_view all) {
    if (key == "voluntary_ctxt_switches") {
      voluntary = parse_number<std::int64_t>(word);
      malformed |= !voluntary;
    } else if (key == "nonvoluntary_ctxt_switches") {
      involuntary = parse_number<std::int64_t>(word);
      malformed |= !involuntary;
    } else if (key == "VmRSS") {
      vm_rss = parse_kib(word, all);
      malformed |= !vm_rss;
    }
  });
  if (malformed || !voluntary || !involuntary) {
    fail_once("cannot parse " + process.dir + "/task/*/status");  // once per process
    switches_ok = false;
  }
  task.voluntary = voluntary;
  task.involuntary = involuntary;
  if (!rss) rss = vm_rss;  // threads share the memory: the first that shows it will do
}

// A thread's run-queue delay from its schedstat. A thread that exits between its status and
// its schedstat keeps the last value (its exit is seen in the next sample's status read).
void ProcessProbe::State::read_task_runq(const Tracked& process, Task& task, bool& runq_ok) {
  int error = 0;
  const Outcome outcome = task.schedstat.read(m_buffer, error);
  if (outcome == Outcome::gone) {
    // Its status was just read: either the thread exited this instant, or the kernel has
    // no schedstat files (no CONFIG_SCHED_INFO). Only the latter lasts; say so if asked.
    if (!task.runq_ns && m_runq_problem.empty())
      m_runq_problem = task.schedstat.path() + ": " + error_text(error);
    if (!task.runq_ns) runq_ok = false;
    return;
  }
  const auto stat = outcome == Outcome::ok ? parse_schedstat(m_buffer) : std::nullopt;
  if (!stat) {
    const std::string problem = outcome == Outcome::failed
                                    ? process.dir + "/task/*/schedstat: " + error_text(error)
                                    : "cannot parse " + process.dir + "/task/*/schedstat";
    fail_once(problem);
    if (m_runq_problem.empty()) m_runq_problem = problem;
    runq_ok = false;
    task.runq_ns = std::nullopt;
    return;
  }
  m_schedstat_seen |= stat->timeslices > 0;
  task.runq_ns = stat->runq_ns;
}

// Context switches and VmRSS from every thread's status. Returns false if the process has
// turned out to be gone.
bool ProcessProbe::State::read_tasks(Tracked& process) {
  std::optional<std::int64_t> rss;
  bool switches_ok = true;
  bool runq_ok = true;
  bool relist = process.tasks.empty();
  for (auto it = process.tasks.begin(); it != process.tasks.end();) {
    int error = 0;
    const Outcome outcome = it->status.read(m_buffer, error);
    if (outcome == Outcome::gone) {  // the thread has exited: its counts stay in the total
      process.exited_voluntary += it->voluntary.value_or(0);
      process.exited_involuntary += it->involuntary.value_or(0);
      process.exited_runq_ns += it->runq_ns.value_or(0);
      it = process.tasks.erase(it);
      relist = true;
      continue;
    }
    if (outcome == Outcome::failed) {
      fail_once(process.dir + "/task/*/status: " + error_text(error));
      switches_ok = runq_ok = false;
    } else {
      read_task(process, *it, rss, switches_ok);
      read_task_runq(process, *it, runq_ok);
    }
    ++it;
  }
  // Thread counts match unless a thread came or went (one that exited was seen above).
  if (relist || static_cast<std::int64_t>(process.tasks.size()) != process.now.threads) {
    std::vector<pid_t> tids;
    int error = 0;
    const Outcome outcome = process.task_dir.list(error, [&](std::string_view name) {
      if (const auto tid = parse_number<pid_t>(name)) tids.push_back(*tid);
    });
    if (outcome != Outcome::ok) {
      if (outcome == Outcome::gone && !still_alive(process)) return false;
      fail_once(process.task_dir.path() + ": " + error_text(error));
      switches_ok = runq_ok = false;
    }
    for (const pid_t tid : tids) {
      const bool known = std::any_of(process.tasks.begin(), process.tasks.end(),
                                     [&](const Task& task) { return task.tid == tid; });
      if (known) continue;
      const std::string task_dir = process.dir + "/task/" + std::to_string(tid);
      Task task{tid,
                ProcFile(task_dir + "/status", &m_budget),
                ProcFile(task_dir + "/schedstat", &m_budget),
                {},
                {},
                {}};
      const Outcome read = task.status.read(m_buffer, error);
      if (read == Outcome::gone) continue;  // came and went
      if (read == Outcome::failed) {
        fail_once(process.dir + "/task/*/status: " + error_text(error));
        switches_ok = runq_ok = false;
      } else {
        read_task(process, task, rss, switches_ok);
        read_task_runq(process, task, runq_ok);
      }
      process.tasks.push_back(std::move(task));
    }
  }
  if (process.tasks.empty()) switches_ok = runq_ok = false;
  std::int64_t voluntary = process.exited_voluntary;
  std::int64_t involuntary = process.exited_involuntary;
  std::int64_t runq = process.exited_runq_ns;
  for (const auto& task : process.tasks) {
    if (!task.voluntary || !task.involuntary) switches_ok = false;
    if (!task.runq_ns) runq_ok = false;
    voluntary += task.voluntary.value_or(0);
    involuntary += task.involuntary.value_or(0);
    runq += task.runq_ns.value_or(0);
  }
  process.total[k_voluntary] = switches_ok ? std::optional(voluntary) : std::nullopt;
  process.total[k_involuntary] = switches_ok ? std::optional(involuntary) : std::nullopt;
  process.total[k_runq] = runq_ok ? std::optional(runq) : std::nullopt;
  process.rss = rss;
  return true;
}

// The cumulative counters stat gives. With descendants, a process stands for itself and every
// child it has reaped (the kernel adds their times and faults to cutime, cstime, cminflt,
// cmajflt), so children that lived between two samples are counted; `absorbed` is that part,
// how a vanished child's totals are recognised as reaped. The target alone is only itself.
void ProcessProbe::State::take_stat_counters(Tracked& process) const {
  const StatFields& stat = process.now;
  if (m_include_children) {
    process.total[k_user] = stat.utime + stat.cutime;
    process.total[k_system] = stat.stime + stat.cstime;
    process.total[k_minor] = stat.minflt + stat.cminflt;
    process.total[k_major] = stat.majflt + stat.cmajflt;
  } else {
    process.total[k_user] = stat.utime;
    process.total[k_system] = stat.stime;
    process.total[k_minor] = stat.minflt;
    process.total[k_major] = stat.majflt;
  }
  process.absorbed[k_user] = stat.cutime;
  process.absorbed[k_system] = stat.cstime;
  process.absorbed[k_minor] = stat.cminflt;
  process.absorbed[k_major] = stat.cmajflt;
}

// A secondary file that is missing: the process exited after its stat was read (leave it
// out), or the file does not exist (a problem to report).
ProcessProbe::State::Detail ProcessProbe::State::check_detail(Tracked& process, Outcome outcome,
                                                              int error, const std::string& path) {
  if (outcome == Outcome::ok) return Detail::ok;
  if (outcome == Outcome::gone && !still_alive(process)) return Detail::gone;
  fail_once(path + ": " + error_text(error));
  return Detail::absent;
}

ProcessProbe::State::Detail ProcessProbe::State::read_io(Tracked& process) {
  int error = 0;
  const Outcome io_read = process.io.read(m_buffer, error);
  const Detail io = check_detail(process, io_read, error, process.io.path());
  if (io == Detail::gone) return io;
  for (const auto& [key, counter] : k_io_keys)
    process.total[counter] = std::nullopt;
  if (io == Detail::ok) {
    bool malformed = false;
    for_each_line(m_buffer, [&](std::string_view key, std::string_view word, std::string_view) {
      for (const auto& [name, counter] : k_io_keys) {
        if (key != name) continue;
        process.total[counter] = parse_number<std::int64_t>(word);
        malformed |= !process.total[counter];
      }
    });
    if (malformed) fail_once("cannot parse " + process.io.path());
  }
  // I/O has no separate field for reaped children: all of it may be absorbed.
  for (const auto& [key, counter] : k_io_keys)
    process.absorbed[counter] = process.total[counter];
  return io;
}

// `dir` is live_dir(process): the process's own fd directory is kept open, a thread's is not.
ProcessProbe::State::Detail ProcessProbe::State::read_open_fds(Tracked& process,
                                                               const std::string& dir) {
  int error = 0;
  std::int64_t fds = 0;
  const auto count = [&](std::string_view) { ++fds; };
  const Outcome listed = dir == process.dir ? process.fd_dir.list(error, count)
                                            : ProcDir(dir + "/fd", nullptr).list(error, count);
  const Detail detail = check_detail(process, listed, error, dir + "/fd");
  if (detail == Detail::ok) process.open_fds = fds;
  return detail;
}

ProcessProbe::State::Detail ProcessProbe::State::read_pss(Tracked& process,
                                                          const std::string& dir) {
  int error = 0;
  ProcFile rollup(dir + "/smaps_rollup", nullptr);
  const Outcome rollup_read = rollup.read(m_buffer, error);
  const Detail detail = check_detail(process, rollup_read, error, rollup.path());
  if (detail == Detail::ok) {
    for_each_line(m_buffer, [&](std::string_view key, std::string_view word, std::string_view all) {
      if (key == "Pss") process.pss = parse_kib(word, all);
    });
    if (!process.pss) fail_once("cannot parse Pss in " + rollup.path());
  }
  return detail;
}

// Everything but stat. Returns false if the process has turned out to be gone (then it is
// left out of this sample entirely, so the sample stays consistent).
bool ProcessProbe::State::read_details(Tracked& process, bool with_pss) {
  take_stat_counters(process);
  if (!read_tasks(process)) return false;
  if (read_io(process) == Detail::gone) return false;

  process.open_fds = std::nullopt;
  process.pss = std::nullopt;
  if (is_exiting(process.now)) return true;  // only its counters still mean something

  if (!process.rss) fail_once("no VmRSS in " + process.dir + "/task/*/status");
  const std::string dir = live_dir(process);
  if (read_open_fds(process, dir) == Detail::gone) return false;
  if (with_pss && read_pss(process, dir) == Detail::gone) return false;
  return true;
}

void ProcessProbe::State::account_left(const std::vector<std::unique_ptr<Tracked>>& left) {
  std::map<pid_t, const Tracked*> gone;
  for (const auto& process : left)
    if (process->committed) gone.emplace(process->pid, process.get());
  // Each process that left is owed to its nearest ancestor still in the tree: if that one
  // reaped it, its absorbed part grew by at least the process's last totals.
  std::map<Tracked*, std::array<std::int64_t, k_counter_count>> owed;
  for (const auto& [pid, process] : gone) {
    Tracked* absorber = nullptr;
    pid_t up = process->committed_ppid;
    for (std::size_t hops = 0; hops <= gone.size(); ++hops) {  // chains end at the target
      const auto in_tree = m_tree.find(up);
      if (in_tree != m_tree.end() && in_tree->second->committed) {
        absorber = in_tree->second.get();
        break;
      }
      const auto also_gone = gone.find(up);
      if (also_gone == gone.end()) break;
      up = also_gone->second->committed_ppid;
    }
    for (std::size_t c = 0; c < k_counter_count; ++c) {
      const std::int64_t value = process->committed_total[c].value_or(0);
      if (absorber == nullptr) {
        *m_carried[c] += value;
      } else {
        owed[absorber][c] += value;  // value-initialised on first use
      }
    }
  }
  for (const auto& [absorber, values] : owed) {
    for (std::size_t c = 0; c < k_counter_count; ++c) {
      std::int64_t grew = 0;
      if (absorber->absorbed[c] && absorber->committed_absorbed[c])
        grew = std::max<std::int64_t>(*absorber->absorbed[c] - *absorber->committed_absorbed[c], 0);
      // Only what the parent did not take in is carried: counting a reaped child's totals
      // here as well would count them twice.
      *m_carried[c] += std::max<std::int64_t>(values[c] - grew, 0);
    }
  }
}

// What this sample read becomes the base against which the next accounts for leavers.
void ProcessProbe::State::commit() {
  for (auto& [pid, process] : m_tree) {
    process->committed = true;
    process->committed_ppid = process->now.ppid;
    for (std::size_t c = 0; c < k_counter_count; ++c) {
      if (process->total[c]) process->committed_total[c] = process->total[c];
      if (process->absorbed[c]) process->committed_absorbed[c] = process->absorbed[c];
    }
  }
}

// The target has exited: nothing more will be read, so every kept descriptor is closed.
void ProcessProbe::State::forget_target() {
  m_gone = true;
  m_tree.clear();
  m_proc_dir = ProcDir();
  m_loadavg = ProcFile();
}

// With descendants: drops those that left (returned) and, when due, searches for new ones.
std::vector<std::unique_ptr<Tracked>> ProcessProbe::State::update_membership() {
  std::vector<std::unique_ptr<Tracked>> left;
  if (!m_include_children) return left;
  left = settle_membership();
  if (should_discover()) {
    m_samples_since_discovery = 0;
    if (m_children_files) {
      discover_by_children();
    } else {
      discover_by_scan(left);
    }
  }
  return left;
}

// Reads every process of the tree; a descendant found gone moves to `left`. Returns false
// if the target itself exited a moment ago (the next call finds it gone).
bool ProcessProbe::State::read_tree(bool with_pss, std::vector<std::unique_ptr<Tracked>>& left) {
  bool target_lost = false;
  for (auto it = m_tree.begin(); it != m_tree.end();) {
    if (read_details(*it->second, with_pss)) {
      ++it;
    } else if (it->first == m_pid) {
      target_lost = true;
      ++it;
    } else {
      left.push_back(std::move(it->second));
      it = m_tree.erase(it);
    }
  }
  return !target_lost;
}

// Adds the tree's counters to `sum` (which starts as the carried part) and its gauges to
// `gauges`; counts processes and threads into `out`.
void ProcessProbe::State::sum_tree(ProcessSample& out, Counters& sum, Gauges& gauges) const {
  for (const auto& [pid, process] : m_tree) {
    for (std::size_t c = 0; c < k_counter_count; ++c)
      sum[c] =
          sum[c] && process->total[c] ? std::optional(*sum[c] + *process->total[c]) : std::nullopt;
    if (is_zombie(process->now)) continue;
    ++out.processes;
    out.threads += process->now.threads;
    if (is_exiting(process->now)) continue;
    gauges.rss =
        gauges.rss && process->rss ? std::optional(*gauges.rss + *process->rss) : std::nullopt;
    gauges.fds = gauges.fds && process->open_fds ? std::optional(*gauges.fds + *process->open_fds)
                                                 : std::nullopt;
    gauges.pss =
        gauges.pss && process->pss ? std::optional(*gauges.pss + *process->pss) : std::nullopt;
  }
}

// The monotonicity guarantee: a cumulative counter that fell holds its previous value.
void ProcessProbe::State::hold_high_water(Counters& sum) {
  for (std::size_t c = 0; c < k_counter_count; ++c) {
    if (sum[c] && m_high_water[c] && *sum[c] < *m_high_water[c]) {
      fail_once("cumulative " + std::string(k_counter_names[c]) +
                " fell between samples; the previous value was held");
      sum[c] = m_high_water[c];
    }
    if (sum[c]) m_high_water[c] = sum[c];
  }
}

void ProcessProbe::State::fill_counters(ProcessSample& out, const Counters& sum) const {
  out.user_ns = *sum[k_user] * m_tick_ns;
  out.system_ns = *sum[k_system] * m_tick_ns;
  out.minor_faults = *sum[k_minor];
  out.major_faults = *sum[k_major];
  out.voluntary_switches = sum[k_voluntary];
  out.involuntary_switches = sum[k_involuntary];
  // Zeros everywhere so far: a kernel without scheduler statistics, not a run without waits.
  out.runq_ns = m_schedstat_seen ? sum[k_runq] : std::nullopt;
  out.rchar = sum[k_rchar];
  out.wchar = sum[k_wchar];
  out.syscr = sum[k_syscr];
  out.syscw = sum[k_syscw];
  out.read_bytes = sum[k_read_bytes];
  out.write_bytes = sum[k_write_bytes];
}

std::optional<ProcessSample> ProcessProbe::State::sample(bool with_pss) {
  if (m_gone) return std::nullopt;
  ProcessSample out;
  out.t_ns = monotonic_ns();

  Tracked& target = *m_tree.at(m_pid);
  const Read read = refresh_stat(target);
  if (read == Read::gone || (read == Read::live && is_zombie(target.now) && !m_final)) {
    forget_target();
    return std::nullopt;
  }
  if (read == Read::unreadable) return std::nullopt;

  std::vector<std::unique_ptr<Tracked>> left = update_membership();
  const bool target_read = read_tree(with_pss, left);
  account_left(left);
  if (!target_read) {
    commit();
    return std::nullopt;
  }

  Counters sum = m_carried;
  const bool gauges_valid = !is_exiting(target.now);
  Gauges gauges;
  sum_tree(out, sum, gauges);
  hold_high_water(sum);
  commit();

  fill_counters(out, sum);
  if (gauges_valid) {
    out.rss_bytes = gauges.rss;
    out.open_fds = gauges.fds;
    if (with_pss) out.pss_bytes = gauges.pss;
  }
  return out;
}

ProcessProbe::ProcessProbe(pid_t pid, bool include_children, fs::path proc_root)
    : m_state(std::make_unique<State>(pid, include_children, std::move(proc_root))) {}

ProcessProbe::~ProcessProbe() = default;
ProcessProbe::ProcessProbe(ProcessProbe&&) noexcept = default;
ProcessProbe& ProcessProbe::operator=(ProcessProbe&&) noexcept = default;

std::optional<ProcessSample> ProcessProbe::sample(bool with_pss) {
  return m_state->sample(with_pss);
}

std::optional<ProcessSample> ProcessProbe::final_sample() {
  m_state->m_final = true;
  auto last = m_state->sample(false);
  m_state->forget_target();
  return last;
}

const std::vector<std::string>& ProcessProbe::failures() const {
  return m_state->m_failures;
}

std::string ProcessProbe::runq_source() const {
  if (m_state->m_schedstat_seen) return "schedstat";
  if (!m_state->m_runq_problem.empty()) return "unavailable: " + m_state->m_runq_problem;
  return "unavailable: every thread's schedstat reads 0 0 0: the kernel keeps no scheduler "
         "statistics";
}

}  // namespace nrmlab::telemetry

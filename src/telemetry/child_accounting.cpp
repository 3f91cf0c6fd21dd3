#include "telemetry/child_accounting.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "util/parse.hpp"

namespace nrmlab::telemetry {
namespace {

namespace fs = std::filesystem;

// The whole of a small file; nullopt when it cannot be read.
std::optional<std::string> cgroup_read_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return text.str();
}

// Calls visit(line) for each line of `text`.
template <typename Visit>
void cgroup_each_line(std::string_view text, Visit&& visit) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    visit(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
}

// This process's cgroup v2 path ("0::/path" in /proc/self/cgroup), as the hierarchy names it.
std::optional<std::string> own_cgroup() {
  const auto text = cgroup_read_file("/proc/self/cgroup");
  if (!text) return std::nullopt;
  std::optional<std::string> found;
  cgroup_each_line(*text, [&](std::string_view line) {
    if (line.starts_with("0::")) found = std::string(line.substr(3));
  });
  return found;
}

// Where the cgroup v2 hierarchy is mounted (its root as this namespace sees it, and the mount
// point), from /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT POINT OPTIONS ... - cgroup2 ...".
std::optional<std::pair<std::string, std::string>> cgroup2_mount() {
  const auto text = cgroup_read_file("/proc/self/mountinfo");
  if (!text) return std::nullopt;
  std::optional<std::pair<std::string, std::string>> found;
  cgroup_each_line(*text, [&](std::string_view line) {
    const auto dash = line.find(" - ");
    if (found || dash == std::string_view::npos || !line.substr(dash + 3).starts_with("cgroup2 "))
      return;
    std::istringstream fields{std::string(line.substr(0, dash))};
    std::string id, parent, device, root, point;
    if (fields >> id >> parent >> device >> root >> point) found = std::pair(root, point);
  });
  return found;
}

// The directory of a new cgroup below this process's own; throws nothing, says why not.
std::optional<fs::path> make_cgroup_dir(std::string& relative, std::string& why) {
  const auto own = own_cgroup();
  const auto mount = cgroup2_mount();
  if (!own || !mount) {
    why = "no cgroup v2 hierarchy";
    return std::nullopt;
  }
  const auto& [root, point] = *mount;
  std::string inside = *own;  // the own cgroup's path below the mount's root
  if (root != "/") {
    if (!inside.starts_with(root)) {
      why = fmt::format("nrmlab's cgroup {} is outside the cgroup2 mount at {}", *own, point);
      return std::nullopt;
    }
    inside = inside.substr(root.size());
  }
  const std::string name = fmt::format("nrmlab-watch-{}", ::getpid());
  const fs::path dir = fs::path(point) / fs::path(inside).relative_path() / name;
  ::rmdir(dir.c_str());  // a stale one of an earlier nrmlab with this pid, if empty
  if (::mkdir(dir.c_str(), 0755) != 0) {
    why = fmt::format("cannot create a cgroup in {}: {}", dir.parent_path().string(),
                      std::strerror(errno));
    return std::nullopt;
  }
  relative = (own->ends_with('/') ? *own : *own + "/") + name;
  return dir;
}

}  // namespace

std::optional<CgroupReading> parse_cpu_stat(std::string_view text) {
  std::optional<std::int64_t> user, system;
  cgroup_each_line(text, [&](std::string_view line) {
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return;
    const auto key = line.substr(0, space);
    if (key == "user_usec") user = parse_number<std::int64_t>(line.substr(space + 1));
    if (key == "system_usec") system = parse_number<std::int64_t>(line.substr(space + 1));
  });
  if (!user || !system || *user < 0 || *system < 0) return std::nullopt;
  CgroupReading reading;
  reading.user_ns = *user * 1000;
  reading.system_ns = *system * 1000;
  return reading;
}

bool parse_io_stat(std::string_view text, CgroupReading& reading) {
  std::int64_t read = 0, written = 0;
  bool ok = true;
  cgroup_each_line(text, [&](std::string_view line) {
    // "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"
    std::istringstream fields{std::string(line)};
    std::string field;
    fields >> field;  // the device
    while (fields >> field) {
      const auto equals = field.find('=');
      const auto value = parse_number<std::int64_t>(std::string_view(field).substr(equals + 1));
      const std::string_view key = std::string_view(field).substr(0, equals);
      if (key != "rbytes" && key != "wbytes") continue;
      if (equals == std::string::npos || !value || *value < 0) {
        ok = false;
        continue;
      }
      (key == "rbytes" ? read : written) += *value;
    }
  });
  if (!ok) return false;
  reading.read_bytes = read;
  reading.write_bytes = written;
  return true;
}

ChildAccounting ChildAccounting::reaped_only(std::string why) {
  ChildAccounting accounting;
  accounting.m_children = true;
  accounting.m_why = std::move(why);
  return accounting;
}

ChildAccounting::ChildAccounting(ChildAccounting&& other) noexcept {
  *this = std::move(other);
}

ChildAccounting& ChildAccounting::operator=(ChildAccounting&& other) noexcept {
  if (this != &other) {
    give_up(std::move(other.m_why));
    m_dir = std::exchange(other.m_dir, fs::path());
    m_relative = std::move(other.m_relative);
    m_procs = std::move(other.m_procs);
    m_children = other.m_children;
    m_io_stat = other.m_io_stat;
    m_last = other.m_last;
  }
  return *this;
}

ChildAccounting::~ChildAccounting() {
  give_up(m_why);
}

ChildAccounting ChildAccounting::for_program() {
  if (const char* forced = std::getenv("NRMLAB_CGROUP_UNAVAILABLE"); forced && *forced)
    return reaped_only(forced);
  std::string why, relative;
  const auto dir = make_cgroup_dir(relative, why);
  if (!dir) return reaped_only(why);
  ChildAccounting accounting = reaped_only("");
  accounting.m_dir = *dir;
  accounting.m_relative = relative;
  accounting.m_procs = UniqueFd(::open((*dir / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
  if (!accounting.m_procs.valid()) {
    accounting.give_up(
        fmt::format("cannot open {}/cgroup.procs: {}", dir->string(), std::strerror(errno)));
  } else if (!accounting.read()) {
    accounting.give_up(fmt::format("cannot read {}/cpu.stat", dir->string()));
  }
  return accounting;
}

void ChildAccounting::confirm(pid_t pid) {
  if (!active()) return;
  const auto text = cgroup_read_file(fmt::format("/proc/{}/cgroup", pid));
  bool inside = false;
  if (text)
    cgroup_each_line(*text, [&](std::string_view line) { inside |= line == "0::" + m_relative; });
  if (!inside) give_up(fmt::format("the program could not join the cgroup {}", m_dir.string()));
}

std::optional<CgroupReading> ChildAccounting::read() {
  const auto cpu = cgroup_read_file(m_dir / "cpu.stat");
  auto reading = cpu ? parse_cpu_stat(*cpu) : std::nullopt;
  if (!reading) return std::nullopt;
  // io.stat exists only where the io controller is enabled for this cgroup.
  if (const auto io = cgroup_read_file(m_dir / "io.stat"); io && parse_io_stat(*io, *reading))
    m_io_stat = true;
  return reading;
}

void ChildAccounting::apply(ProcessSample& sample) {
  if (!active()) return;
  if (auto now = read()) {
    if (m_last) {  // monotone, whatever a file showed
      now->user_ns = std::max(now->user_ns, m_last->user_ns);
      now->system_ns = std::max(now->system_ns, m_last->system_ns);
    }
    m_last = now;
  }
  if (!m_last) return;
  sample.user_ns = m_last->user_ns;
  sample.system_ns = m_last->system_ns;
  const auto raise = [](std::optional<std::int64_t>& value, std::optional<std::int64_t> floor) {
    if (floor) value = std::max(value.value_or(0), *floor);
  };
  raise(sample.read_bytes, m_last->read_bytes);
  raise(sample.write_bytes, m_last->write_bytes);
}

std::string ChildAccounting::describe() const {
  if (!m_children)
    return "not counted (without --children): the program's own CPU; its I/O includes the "
           "children it waited for";
  if (!active())
    return fmt::format(
        "reaped children only ({}): a descendant nobody waits for loses what it did since the "
        "last reading",
        m_why);
  return fmt::format(
      "cgroup v2 ({}): CPU of every process the program started, waited for or not{}", m_relative,
      m_io_stat ? "; storage bytes likewise (io.stat)" : "; I/O of reaped children only");
}

// Ends the cgroup: what is still inside (a process the program left behind) goes back to
// the parent, then the directory is removed (the kernel refuses while a process is in it).
void ChildAccounting::give_up(std::string why) {
  m_why = std::move(why);
  m_procs.reset();
  if (m_dir.empty()) return;
  for (int attempt = 0; attempt < 10 && ::rmdir(m_dir.c_str()) != 0 && errno == EBUSY; ++attempt) {
    if (const auto procs = cgroup_read_file(m_dir / "cgroup.procs")) {
      std::ofstream parent(m_dir.parent_path() / "cgroup.procs");
      cgroup_each_line(*procs, [&](std::string_view pid) { parent << pid << std::endl; });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a reaped process lingers
  }
  m_dir.clear();
}

}  // namespace nrmlab::telemetry

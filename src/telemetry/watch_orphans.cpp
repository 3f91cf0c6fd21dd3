#include "telemetry/watch_orphans.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "telemetry/probes.hpp"
#include "util/proc_stat.hpp"

namespace nrmlab::telemetry {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t k_discovery_period_ns = 1'000'000'000;

// nrmlab's live children: each thread's children file where the kernel has them
// (CONFIG_PROC_CHILDREN), else every process whose parent is nrmlab.
std::vector<pid_t> own_children() {
  std::vector<pid_t> children;
  const pid_t self = ::getpid();
  const fs::path tasks = fs::path("/proc") / std::to_string(self) / "task";
  bool children_files = false;
  for (const pid_t tid : numeric_entries(tasks)) {
    std::ifstream file(tasks / std::to_string(tid) / "children");
    if (!file) continue;
    children_files = true;
    for (pid_t child = 0; file >> child;)
      children.push_back(child);
  }
  if (!children_files)
    for (const pid_t pid : numeric_entries("/proc"))
      if (parent_process(pid) == self) children.push_back(pid);
  return children;
}

void add_count(std::int64_t& total, std::int64_t first, std::int64_t last) {
  total += std::max<std::int64_t>(0, last - first);
}

// A cumulative counter: absent when either side lacks it (a partial sum would be wrong).
void add_count(std::optional<std::int64_t>& total, const std::optional<std::int64_t>& first,
               const std::optional<std::int64_t>& last) {
  if (total && first && last)
    *total += std::max<std::int64_t>(0, *last - *first);
  else
    total.reset();
}

// A gauge of a live process: its current value.
void add_gauge(std::optional<std::int64_t>& total, const std::optional<std::int64_t>& now) {
  if (total && now)
    *total += *now;
  else
    total.reset();
}

}  // namespace

std::int64_t timeval_ns(const timeval& tv) {
  return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 +
         static_cast<std::int64_t>(tv.tv_usec) * 1000;
}

ProcessSample reaped_reading(const rusage& usage, std::int64_t t_ns, const ProcessSample* last) {
  ProcessSample sample = last != nullptr ? *last : ProcessSample{};
  sample.t_ns = t_ns;
  sample.user_ns = std::max(sample.user_ns, timeval_ns(usage.ru_utime));
  sample.system_ns = std::max(sample.system_ns, timeval_ns(usage.ru_stime));
  sample.minor_faults = std::max<std::int64_t>(sample.minor_faults, usage.ru_minflt);
  sample.major_faults = std::max<std::int64_t>(sample.major_faults, usage.ru_majflt);
  if (sample.voluntary_switches)
    sample.voluntary_switches = std::max<std::int64_t>(*sample.voluntary_switches, usage.ru_nvcsw);
  if (sample.involuntary_switches)
    sample.involuntary_switches =
        std::max<std::int64_t>(*sample.involuntary_switches, usage.ru_nivcsw);
  // Storage I/O in 512-byte blocks (read_bytes; write_bytes less cancelled writes).
  if (sample.read_bytes)
    sample.read_bytes = std::max<std::int64_t>(*sample.read_bytes, usage.ru_inblock * 512);
  if (sample.write_bytes)
    sample.write_bytes = std::max<std::int64_t>(*sample.write_bytes, usage.ru_oublock * 512);
  return sample;
}

Orphans::Orphans(bool follow) : m_follow(follow) {
  ::prctl(PR_GET_CHILD_SUBREAPER, &m_was_subreaper);
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

Orphans::~Orphans() {
  ::prctl(PR_SET_CHILD_SUBREAPER, m_was_subreaper);
}

void Orphans::reap(std::int64_t now) {
  for (;;) {
    siginfo_t info{};
    // Look without reaping: the program is left to the watcher's wait4.
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid == 0 ||
        info.si_pid == m_program)
      return;
    int status = 0;
    rusage usage{};
    if (::wait4(info.si_pid, &status, 0, &usage) != info.si_pid) return;
    for (Followed& f : m_followed)
      if (f.pid == info.si_pid && !f.reaped) {
        f.reaped = true;
        if (f.last) f.last = reaped_reading(usage, now, &*f.last);
      }
  }
}

bool Orphans::any_child() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

void Orphans::discover(std::int64_t now, bool force) {
  if (!m_follow || (!force && now < m_next_discovery)) return;
  m_next_discovery = now + k_discovery_period_ns;
  for (const pid_t pid : own_children()) {
    const bool known = std::any_of(m_followed.begin(), m_followed.end(),
                                   [pid](const Followed& f) { return f.pid == pid && !f.reaped; });
    if (pid != m_program && !known) m_followed.push_back({pid, ProcessProbe(pid, true), {}, {}});
  }
}

ProcessSample Orphans::add_to(ProcessSample base, std::int64_t t_ns, bool with_pss) {
  base.t_ns = t_ns;
  for (Followed& f : m_followed) {
    if (!f.reaped)
      if (auto reading = f.probe.sample(with_pss)) {
        if (!f.first) f.first = reading;
        f.last = reading;
        base.processes += reading->processes;
        base.threads += reading->threads;
        add_gauge(base.rss_bytes, reading->rss_bytes);
        if (with_pss) add_gauge(base.pss_bytes, reading->pss_bytes);
        add_gauge(base.open_fds, reading->open_fds);
      }
    if (!f.first || !f.last) continue;
    const ProcessSample& a = *f.first;
    const ProcessSample& b = *f.last;
    add_count(base.user_ns, a.user_ns, b.user_ns);
    add_count(base.system_ns, a.system_ns, b.system_ns);
    add_count(base.minor_faults, a.minor_faults, b.minor_faults);
    add_count(base.major_faults, a.major_faults, b.major_faults);
    add_count(base.voluntary_switches, a.voluntary_switches, b.voluntary_switches);
    add_count(base.involuntary_switches, a.involuntary_switches, b.involuntary_switches);
    add_count(base.runq_ns, a.runq_ns, b.runq_ns);
    add_count(base.read_bytes, a.read_bytes, b.read_bytes);
    add_count(base.write_bytes, a.write_bytes, b.write_bytes);
    add_count(base.syscr, a.syscr, b.syscr);
    add_count(base.syscw, a.syscw, b.syscw);
    add_count(base.rchar, a.rchar, b.rchar);
    add_count(base.wchar, a.wchar, b.wchar);
  }
  return base;
}

}  // namespace nrmlab::telemetry

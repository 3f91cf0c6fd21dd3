// The processes a watched program leaves running (a daemon forks and its parent exits at
// once; a script starts a server in the background and ends). While it watches, nrmlab is a
// child subreaper (PR_SET_CHILD_SUBREAPER): the kernel reparents such orphans to nrmlab
// instead of init, so they stay findable (nrmlab's children other than the program) and
// nrmlab reaps them (no zombies). With `follow` (--children) each is read with its own
// descendants by a ProcessProbe, and its counts join the program's readings.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "telemetry/process_probe.hpp"

namespace nrmlab::telemetry {

std::int64_t timeval_ns(const timeval& tv);

// A reaped process's own account (its waited-for children included) on top of its last
// reading: /proc has nothing once it is gone, and the last interval's CPU is in wait4's.
ProcessSample reaped_reading(const rusage& usage, std::int64_t t_ns, const ProcessSample* last);

class Orphans {
 public:
  // Makes nrmlab a child subreaper until destroyed (then as before); before the program
  // starts, so that what it orphans early is found too.
  explicit Orphans(bool follow);
  ~Orphans();
  Orphans(const Orphans&) = delete;
  Orphans& operator=(const Orphans&) = delete;

  void set_program(pid_t program) { m_program = program; }
  // Reaps every child that has ended, except the program (its own wait4 is the watcher's).
  void reap(std::int64_t now);
  // Whether nrmlab still has a child: once the program is reaped, an orphan it left.
  static bool any_child();
  // With `follow`: finds the orphans not yet followed (nrmlab's children from
  // /proc/self/task/*/children, or a scan of /proc), at most once a second unless `force`.
  void discover(std::int64_t now, bool force);
  // `base` (the program's reading, or its final account once it ended) plus what each
  // followed orphan did since it was first read, as of `t_ns`. An orphan's part before its
  // first reading is in the program's (it was a descendant; the probe carries it forward).
  ProcessSample add_to(ProcessSample base, std::int64_t t_ns, bool with_pss);
  // How many orphans were followed.
  std::size_t followed() const { return m_followed.size(); }

 private:
  struct Followed {
    pid_t pid;
    ProcessProbe probe;
    std::optional<ProcessSample> first;  // its first reading: the baseline
    std::optional<ProcessSample> last;   // its latest (after the reap: its final account)
    bool reaped = false;
  };

  pid_t m_program = -1;
  bool m_follow;
  int m_was_subreaper = 0;
  std::int64_t m_next_discovery = 0;
  std::vector<Followed> m_followed;
};

}  // namespace nrmlab::telemetry

#include "analysis/program_waits.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace nrmlab::analysis {
namespace {

// Waits that are not I/O: a timed sleep, or a lock held by another thread.
bool sleep_or_lock(const std::string& wait_class) {
  return wait_class == "sleep" || wait_class == "lock";
}

bool off_cpu_wait(const std::string& wait_class) {
  return wait_class != "on_cpu" && wait_class != "run_queue";
}

struct WaitSplit {
  double sleep_or_lock = 0.0, all = 0.0;
  std::string top;  // the largest sleep or lock entry, in words
  double top_amount = 0.0;
};

// The off-CPU part of the step-time change, from the differential profile's entries that grew.
WaitSplit grown_waits(const CodeProfile& code, const std::string& condition) {
  WaitSplit split;
  for (const CodeGrowth& g : code.growth) {
    if (g.condition != condition || !off_cpu_wait(g.wait_class) || !(g.share_of_change > 0))
      continue;
    split.all += g.share_of_change;
    if (!sleep_or_lock(g.wait_class)) continue;
    split.sleep_or_lock += g.share_of_change;
    if (g.share_of_change > split.top_amount) {
      split.top_amount = g.share_of_change;
      split.top = fmt::format("{} in {}", g.wait_class, short_function(g.function));
    }
  }
  return split;
}

// The off-CPU time of the whole profile, by class.
WaitSplit waits_seen(const CodeProfile& code) {
  WaitSplit split;
  for (const CodeWait& w : code.waits) {
    if (!off_cpu_wait(w.wait_class)) continue;
    split.all += w.seconds;
    if (!sleep_or_lock(w.wait_class)) continue;
    split.sleep_or_lock += w.seconds;
    if (w.seconds > split.top_amount) {
      split.top_amount = w.seconds;
      split.top = w.wait_class;
    }
  }
  return split;
}

}  // namespace

void check_program_waits(SoundAnalysis& sound, const CodeProfile& code) {
  const auto h3 = std::find_if(sound.hypotheses.begin(), sound.hypotheses.end(),
                               [](const Hypothesis& h) { return h.id == "H3"; });
  // A watched program has one condition; its comparison is the only one.
  if (h3 == sound.hypotheses.end() || h3->verdict != Verdict::supported ||
      code.status != "sampled" || sound.attribution.size() != 1)
    return;
  const std::string& condition = sound.attribution.front().condition;
  const auto compared = std::find_if(
      code.comparisons.begin(), code.comparisons.end(),
      [&](const CodeComparison& c) { return c.condition == condition && c.status == "compared"; });
  if (compared != code.comparisons.end()) {
    const WaitSplit grown = grown_waits(code, condition);
    if (!(grown.all > 0) || grown.sleep_or_lock < 0.5 * grown.all) return;
    h3->verdict = Verdict::not_supported;
    h3->reason = fmt::format(
        "{}: the time off the CPU grew, but the stack samples put {:.0f}% of that growth in "
        "sleeps and locks ({} first), not I/O",
        condition, 100 * grown.sleep_or_lock / grown.all, grown.top);
    return;
  }
  const WaitSplit seen = waits_seen(code);
  if (!(seen.all > 0) || seen.sleep_or_lock < 0.5 * seen.all) return;
  h3->verdict = Verdict::not_identifiable;
  h3->reason = fmt::format(
      "{}: each read/write call waits longer off the CPU, but the stack samples put {:.0f}% "
      "of the program's time off the CPU in sleeps and locks (mostly {}), and which wait grew "
      "could not be compared",
      condition, 100 * seen.sleep_or_lock / seen.all, seen.top);
  h3->experiment =
      "watch with shorter profile windows (--profile-window-ms) or for longer, so the stack "
      "samples compare the start with the end";
}

}  // namespace nrmlab::analysis

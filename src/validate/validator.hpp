// `nrmlab validate`: runs every planted-cause case (workload.hpp, and the NRM engine with
// a blocking sampler) as replicated runs, one process each, analyses each run as `nrmlab
// analyze` would, names the verdict the analysis reached, and tallies planted cause
// against verdict. These structs are validation.json (schema nrmlab.validation/1).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nrmlab::validate {

inline constexpr const char* k_validation_schema = "nrmlab.validation/1";

struct ValidationCase {
  std::string id;        // "none", "growth", ...: also the workload's run directories' prefix
  std::string planted;   // the planted cause, in words
  std::string expected;  // the verdict that is right (a label; see verdict.hpp)
  // Other labels that are as right, where the machine decides between them (the fsync
  // case: off-CPU time dominates only when the device's flush takes longer than the
  // writer's own CPU time; a write-back cache answers in 50 µs).
  std::vector<std::string> also_right = {};
};

struct ValidationRun {
  std::string id;  // the directory OUT/runs/<id>
  std::string case_id;
  int replicate = 0;
  std::uint64_t seed = 0;
  std::string allocator = "system";
  // A run of the allocator intervention: the same workload under a size-class allocator,
  // which decides the verdict of the replicate's system run rather than having its own.
  bool intervention = false;
  double seconds = 0.0;         // the run's wall time, process start to exit
  int attempts = 1;             // a run disturbed by other processes is run again
  double external_cores = 0.0;  // cores other processes used during its (last) attempt
  // The largest share of a condition's wall time its engine thread spent runnable but
  // waiting for a CPU, during its (last) attempt (the analysis' cpu_wait_share); NaN when
  // not recorded.
  double run_queue_share = 0.0;
  std::string verdict;   // the label the analysis reached
  std::string expected;  // the right label (the thermal case's depends on the machine)
  bool correct = false;  // verdict == expected
  std::vector<std::string> supported;  // hypotheses the sound analysis supports
  double off_cpu_share = 0.0;
  std::string dominant;          // the section that took most of the wall time
  double relative_change = 0.0;  // mean step time of the last quarter over the first's, less 1
  std::string reason;            // the analysis' reason for the decisive verdict
  std::string error;             // the run or its analysis failed
};

struct ValidationReport {
  std::string schema = k_validation_schema;
  std::string mode;  // "short" or "full"
  std::string nrmlab_version;
  std::string nrmlab_commit;
  std::string out_dir;
  std::int64_t replicates = 0;
  std::int64_t steps = 0;
  std::vector<std::string> allocators;  // the size-class allocators of the H2 intervention
  double max_external_cores = 0.0;      // the disturbance limits (ValidateOptions)
  double max_run_queue_share = 0.0;
  std::vector<ValidationCase> cases;
  std::vector<ValidationRun> runs;
  std::vector<std::string> verdicts;  // the confusion matrix's columns
  // confusion[case id][verdict] = replicates of that case that reached that verdict
  std::map<std::string, std::map<std::string, int>> confusion;
  int wrong = 0;
  bool interrupted = false;
};

struct ValidateOptions {
  bool full = false;
  std::filesystem::path out = "runs/validate";
  std::filesystem::path nrmlab_binary;  // started once per run
  std::int64_t replicates = 0;          // 0: 3 (short) or 10 (full)
  std::int64_t steps = 0;               // per run; 0: 300 (short) or 600 (full)
  std::uint64_t seed = 1;               // replicate r of every case uses seed + r
  std::vector<std::string> cases;       // empty: every case
  // The runs' telemetry budget (`--telemetry-budget`), to measure what it does to the
  // verdicts; absent: the recorder's default.
  std::optional<double> telemetry_budget;
  // A planted cause is tested alone: a run that waited for a CPU (run queue) more than
  // this share of the wall time of a condition is disturbed, and runs again. Another
  // program on the machine is no disturbance while the run has a CPU to itself: on two
  // cores with one taken, a single-threaded workload still runs at once. H1's own
  // threshold (min_cpu_wait_share): a wait below it cannot have made an H1 verdict, and a
  // run alone waits up to 8% when it wakes often (the fsync writer, on a quiet machine).
  double max_run_queue_share = 0.10;
  // Telemetry without run-queue wait (runq_ns, before it was recorded) falls back to the
  // machine: a run during which other processes used more than this many cores (its side
  // stream's other-CPU readings) is disturbed.
  double max_external_cores = 0.3;
  const std::atomic<bool>* stop = nullptr;
  // After each run: the run, how many have ended, how many there are.
  std::function<void(const ValidationRun&, std::size_t, std::size_t)> on_run;
};

// Every case id, in order.
std::vector<std::string> case_ids();

// Runs the validation; writes OUT/validation.json (and OUT/runs/<id>/ per run). Throws
// nrmlab::Error for bad options (an unknown case) or an unwritable directory; a run that
// fails is a wrong verdict ("error"), not an exception.
ValidationReport run_validation(const ValidateOptions& options);

// H2 is right only when the allocator intervention confirms it: one run under each of the
// `allocators` size-class allocators, at least one slowing by at most half the system
// allocator's relative change and none by as much. Otherwise the system run's verdict
// becomes "H2, <why not>".
void confirm_fragmentation(ValidationRun& system, const std::vector<ValidationRun>& interventions,
                           std::size_t allocators);

// Whether a verdict is right: the expected label or one of `also_right`, or for the
// thermal case on a machine with sensors also "H4 not testable" (a short run may not see
// them vary).
bool is_right(const std::string& verdict, const std::string& expected,
              const std::vector<std::string>& also_right = {});

// Cores used by processes other than a run's while it ran, from its telemetry.db's side
// stream; NaN when it has fewer than two readings (a run too short to tell).
double external_cores(const std::filesystem::path& telemetry);

// Whether a run was disturbed by other processes: it waited for a CPU more than
// max_run_queue_share of a condition's wall time; without that measure (NaN), other
// processes used more than max_external_cores cores (NaN: too short to tell, undisturbed).
bool disturbed(double run_queue_share, double external_cores, const ValidateOptions& options);

// Fills confusion, verdicts and wrong from the runs (interventions excluded).
void tally(ValidationReport& report);

// The confusion matrix as aligned text lines, rows the planted causes.
std::vector<std::string> confusion_table(const ValidationReport& report);

}  // namespace nrmlab::validate

// Ctrl-C / SIGTERM: the first one asks the run to stop after the current step (so its
// result is written, marked incomplete); a second one terminates at once.
#pragma once

#include <atomic>

namespace nrmlab::cli {

// Installs the handlers, then unblocks SIGINT and SIGTERM (the study launcher starts runs
// with them blocked, so a stop that arrives while a run is still starting waits for these
// handlers instead of killing it), and returns the flag they set. The flag (with the signal
// that set it) is the one piece of process-wide mutable state in nrmlab: a signal handler
// can reach nothing else.
const std::atomic<bool>& install_interrupt_handlers();
// The signal that set the flag (SIGINT or SIGTERM; 0: none yet), for `watch` to forward.
int stop_signal();
// How many stop signals arrived. `watch` handles a second one itself (it kills the program
// and still closes the run): it calls keep_handling_stops() after the first.
int stop_count();
void keep_handling_stops();

}  // namespace nrmlab::cli

// What an off-CPU sample waited for, refined from where it waited (issue 18). The sampler
// knows only whether a switched-out thread was still runnable (preempted: run_queue) or
// not (other); the frames say which kind of wait "other" was.
#pragma once

#include <span>
#include <string_view>

#include "telemetry/profile/sample.hpp"

namespace nrmlab::telemetry::profile {

// The class of a sample from its symbolized frames (innermost first; either span may be
// empty). Anything the sampler already decided (on_cpu, run_queue, or a class it found
// itself) is kept; `other` is refined from the kernel frames when there are any (they tell
// a pipe or socket from a file, and see page faults), else from the innermost user frames
// (the libc call the thread is blocked in). Unrecognised waits stay `other`.
WaitClass classify_wait(std::span<const Frame> user, std::span<const Frame> kernel,
                        WaitClass from_sampler);

// A function name without what libc and the toolchain add around the public name:
// "__GI___clock_nanosleep" -> "clock_nanosleep", "pthread_cond_wait@@GLIBC_2.3.2" ->
// "pthread_cond_wait", "__libc_read" -> "read", "__read_nocancel" -> "read". Exposed for
// the tests.
std::string_view wait_function_core(std::string_view function);

}  // namespace nrmlab::telemetry::profile

// H3 for a watched program reads the growth of its time off the CPU, per read/write call, as
// "the same I/O costs more" (hypotheses/io_accumulation.cpp). Off-CPU time also holds sleeps
// and locks, which /proc cannot tell from I/O waits; the stack samples can. A program whose
// sleeps grew while it wrote one line a step read "H3 supported" (measured: a Python loop
// sleeping 2 ms more each step). This check runs after the code profile and takes such a
// verdict back.
#pragma once

#include "analysis/analysis_result.hpp"

namespace nrmlab::analysis {

// When a watched program's H3 is supported and its stack samples say the off-CPU time that
// grew (the differential profile, when it compared the segments), or else most of its
// off-CPU time, is sleep or lock waits rather than I/O: H3 becomes "not supported" (the
// growth was compared) or "not identifiable" (only the composition is known). Unsampled
// runs keep their verdict, whose reason already says off-CPU time may hold sleeps.
void check_program_waits(SoundAnalysis& sound, const CodeProfile& code);

}  // namespace nrmlab::analysis

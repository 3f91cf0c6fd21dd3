/* A target for the unwinder's tests (tests/profile_unwinder_test.cpp): main -> outer ->
 * middle -> inner, where inner writes one byte to stdout (the test's signal that the chain
 * is in place) and then spins ("spin") or sleeps in nanosleep ("sleep") until killed. Built
 * three times (tests/CMakeLists.txt): with frame pointers, without (-O2
 * -fomit-frame-pointer), and with frame pointers but no unwind tables; always -g0, so the
 * only call-frame information is .eh_frame.
 *
 * Each function does a little work after its call (the volatile add), so that -O2 makes no
 * tail call (a tail call leaves no frame to find), and the loops depend on a volatile flag,
 * so that the compiler cannot prove inner never returns. */
#include <string.h>
#include <time.h>
#include <unistd.h>

volatile int profile_target_sink;
volatile int profile_target_stop;

__attribute__((noinline, noclone)) int inner(int sleep_mode) {
  if (write(1, "r", 1) != 1) return -1;
  if (sleep_mode) {
    struct timespec pause = {1000, 0};
    while (!profile_target_stop) nanosleep(&pause, NULL);
  } else {
    while (!profile_target_stop) profile_target_sink++;
  }
  return profile_target_sink;
}

__attribute__((noinline, noclone)) int middle(int sleep_mode) {
  return inner(sleep_mode) + profile_target_sink;
}

__attribute__((noinline, noclone)) int outer(int sleep_mode) {
  return middle(sleep_mode) + profile_target_sink;
}

int main(int argc, char** argv) {
  const int sleep_mode = argc > 1 && strcmp(argv[1], "sleep") == 0;
  return outer(sleep_mode) + profile_target_sink == 12345;
}

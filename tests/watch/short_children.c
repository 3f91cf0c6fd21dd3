/* A foreign program for the watch tests: starts COUNT short children one after another, each
 * burning CPU_MS of CPU time and writing 64 KiB to FILE in 16 writes, so that each lives far
 * less than one /proc reading interval. Mode "wait" waits for each child; mode "ignore" sets
 * SIGCHLD to SIG_IGN, so the kernel reaps them and adds nothing to the parent's counters.
 *
 * It marks one step at its start and one when every child is gone (after 0.25 s of quiet, so
 * that the step's end falls between readings of still counters: a step's share of a reading
 * interval is interpolated, and this test is about the children, not the interpolation),
 * then prints on stderr
 * what the tree did, as the truth the watch is compared to:
 *   truth cpu_ns=N wchar=N syscw=N
 * (CPU: each child's own CPU clock just before it exits, sent to the parent, plus the
 * parent's own; I/O: by construction, every write call of the tree after the first marker.)
 *
 * usage: short_children wait|ignore COUNT CPU_MS FILE */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t cpu_ns(clockid_t clock) {
  struct timespec now;
  clock_gettime(clock, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static void write_all(int fd, const void* data, size_t size) {
  if (write(fd, data, size) != (ssize_t)size) {
    perror("write");
    _exit(2);
  }
}

static void child(int file, int index, int64_t burn_ns, int report) {
  static char block[4096];
  memset(block, 'a' + index % 26, sizeof block);
  volatile uint64_t spin = 0;
  while (cpu_ns(CLOCK_PROCESS_CPUTIME_ID) < burn_ns)
    for (int i = 0; i < 1000; ++i) spin += (uint64_t)i * spin + 1;
  for (int i = 0; i < 16; ++i) /* a region of its own: fresh pages each time */
    if (pwrite(file, block, sizeof block, ((off_t)index * 16 + i) * 4096) != sizeof block) _exit(2);
  const int64_t used = cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
  write_all(report, &used, sizeof used);
  _exit(0);
}

static void marker(int fd, int step, int64_t* wchar, int64_t* syscw) {
  char line[64];
  const int n = snprintf(line, sizeof line, "NRMLAB step=%d\n", step);
  write_all(fd, line, (size_t)n);
  *wchar += n;
  *syscw += 1;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s wait|ignore COUNT CPU_MS FILE\n", argv[0]);
    return 2;
  }
  const int waits = strcmp(argv[1], "wait") == 0;
  const int count = atoi(argv[2]);
  const int64_t burn_ns = (int64_t)atoi(argv[3]) * 1000000;
  const char* step_fd = getenv("NRMLAB_STEP_FD");
  const int steps = step_fd ? atoi(step_fd) : STDOUT_FILENO;
  const int file = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (file < 0) {
    perror(argv[4]);
    return 2;
  }
  if (!waits) signal(SIGCHLD, SIG_IGN);
  int64_t wchar = 0, syscw = 0, children_cpu = 0;
  marker(steps, 0, &wchar, &syscw);
  for (int i = 0; i < count; ++i) {
    int report[2];
    if (pipe(report) != 0) return 2;
    const pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      close(report[0]);
      child(file, i, burn_ns, report[1]);
    }
    close(report[1]);
    int64_t used = 0;
    if (read(report[0], &used, sizeof used) != sizeof used) return 2;
    close(report[0]);
    children_cpu += used;
    wchar += 16 * 4096 + (int64_t)sizeof used;
    syscw += 17;
    if (waits && waitpid(pid, NULL, 0) != pid) return 2;
  }
  /* Ignoring SIGCHLD, wait() returns (ECHILD) once every child is gone. */
  while (!waits && (wait(NULL) >= 0 || errno == EINTR)) {
  }
  const struct timespec quiet = {0, 250000000};
  nanosleep(&quiet, NULL);
  marker(steps, 1, &wchar, &syscw);
  const int64_t total = children_cpu + cpu_ns(CLOCK_PROCESS_CPUTIME_ID);
  fprintf(stderr, "truth cpu_ns=%lld wchar=%lld syscw=%lld\n", (long long)total,
          (long long)wchar, (long long)syscw);
  return 0;
}

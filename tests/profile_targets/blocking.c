/* A target for the syscall poller's tests (tests/profile_syscall_poller_test.cpp): blocks
 * its threads in known system calls and writes one byte ("r") to stdout once the blocking
 * threads are started; the main thread then reads stdin (a pipe from the test: a blocked
 * read of an empty pipe) unless the mode says otherwise. Modes (argv[1]):
 *   lock         one thread blocked on a mutex the main thread holds, one on a condition
 *                variable never signalled;
 *   fsync DIR    a thread writes 64 KiB to DIR/poller-fsync and fdatasyncs it, in a loop;
 *   spin         the main thread spins (never blocks) after its announcement;
 *   late         each byte read from stdin starts one more thread that sleeps in nanosleep;
 *   child        a forked child process sleeps in nanosleep (exits with its parent).
 * Runs until killed. Not sanitized (a foreign program). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t blocking_held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t blocking_cond_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t blocking_never = PTHREAD_COND_INITIALIZER;
static const char* blocking_dir;
static volatile int blocking_spin_sink;

static void* blocking_lock_mutex(void* arg) {
  (void)arg;
  pthread_mutex_lock(&blocking_held);
  return NULL;
}

static void* blocking_wait_cond(void* arg) {
  (void)arg;
  pthread_mutex_lock(&blocking_cond_mutex);
  for (;;) pthread_cond_wait(&blocking_never, &blocking_cond_mutex);
  return NULL;
}

static void* blocking_sync_loop(void* arg) {
  (void)arg;
  char path[4096];
  static char block[64 * 1024];
  memset(block, 'x', sizeof block);
  snprintf(path, sizeof path, "%s/poller-fsync", blocking_dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) _exit(3);
  for (;;) {
    if (pwrite(fd, block, sizeof block, 0) != (ssize_t)sizeof block) _exit(4);
    if (fdatasync(fd) != 0) _exit(5);
  }
  return NULL;
}

static void* blocking_sleep_forever(void* arg) {
  (void)arg;
  struct timespec pause = {1000, 0};
  for (;;) nanosleep(&pause, NULL);
  return NULL;
}

static void blocking_start(void* (*body)(void*)) {
  pthread_t thread;
  if (pthread_create(&thread, NULL, body, NULL) != 0) _exit(2);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  char byte;
  if (strcmp(mode, "lock") == 0) {
    pthread_mutex_lock(&blocking_held);
    blocking_start(blocking_lock_mutex);
    blocking_start(blocking_wait_cond);
  } else if (strcmp(mode, "fsync") == 0 && argc > 2) {
    blocking_dir = argv[2];
    blocking_start(blocking_sync_loop);
  } else if (strcmp(mode, "child") == 0) {
    if (fork() == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      blocking_sleep_forever(NULL);
    }
  } else if (strcmp(mode, "spin") != 0 && strcmp(mode, "late") != 0) {
    return 2;
  }
  if (write(1, "r", 1) != 1) return 1;
  if (strcmp(mode, "spin") == 0) {
    for (;;) blocking_spin_sink++;
  }
  for (;;) {
    if (read(0, &byte, 1) != 1) pause();
    if (strcmp(mode, "late") == 0) blocking_start(blocking_sleep_forever);
  }
}

#include "cli/interrupt.hpp"

#include <signal.h>

#include <csignal>

namespace nrmlab::cli {
namespace {

std::atomic<bool> g_stop_requested{false};
std::atomic<int> g_stop_signal{0};
std::atomic<int> g_stop_count{0};
static_assert(std::atomic<bool>::is_always_lock_free, "the flag is set from a signal handler");
static_assert(std::atomic<int>::is_always_lock_free, "the signal is stored from a handler");

extern "C" void on_interrupt(int signal_number) {
  g_stop_signal.store(signal_number);
  g_stop_count.fetch_add(1);
  g_stop_requested.store(true);
  std::signal(signal_number, SIG_DFL);  // a second signal ends the process
}

}  // namespace

int stop_signal() {
  return g_stop_signal.load();
}

int stop_count() {
  return g_stop_count.load();
}

void keep_handling_stops() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
}

const std::atomic<bool>& install_interrupt_handlers() {
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  sigprocmask(SIG_UNBLOCK, &stops, nullptr);
  return g_stop_requested;
}

}  // namespace nrmlab::cli

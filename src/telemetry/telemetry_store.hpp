// telemetry.db: the contract between the recorder and everything that reads a run (the
// analysis, `watch`, `nrmlab export`). SQLite in WAL mode; every batch is written whole or
// not at all, so a crash or kill -9 loses at most the batches not yet written (those
// queued for the writer's next tick, at most BatchWriterOptions::period_ms old).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "telemetry/rows.hpp"
#include "telemetry/schema.hpp"
#include "util/mpsc_queue.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::telemetry {

// Writes rows as the column registry (telemetry/columns.hpp) maps them to columns.
class TelemetryStore {
 public:
  // Creates the file and its tables (or opens an existing run's).
  explicit TelemetryStore(const std::filesystem::path& path);
  void write(const Batch& batch);
  // Several batches in one transaction, in order.
  void write(const std::vector<Batch>& batches);

 private:
  void insert_batch(const Batch& batch);

  sqlite::Connection m_db;
};

// Makes the calling thread SCHED_BATCH: its wake-ups then never preempt a running thread
// (the kernel leaves the switch to the next tick), so a background thread's timer does not
// take the engine's core the moment it fires. False where refused (nothing else changes).
bool schedule_as_batch();

// How the writer drains. Its own timer, never the producers, decides when it runs: a
// wake-up per batch handed the engine's core to the writer (issue 21).
struct BatchWriterOptions {
  std::int64_t period_ms = 20;  // the writer's timer: batches wait at most this long
  std::size_t capacity = 64;    // batches waiting (rounded up to a power of two)
  // Called for every wake-up a producer makes (a system call): only when the queue is full,
  // or with wake_every_submit. Tests count them.
  std::function<void()> on_wake;
  // The design before issue 21 (every submit wakes the writer), kept only so
  // bench/recorder_load_bench.cpp can measure both in one run.
  bool wake_every_submit = false;
};

// What the writer did; all counts since it started.
struct BatchWriterStats {
  std::int64_t ticks = 0;          // timer expiries and wake-ups of the writer
  std::int64_t batches = 0;        // batches written
  std::int64_t wakes = 0;          // wake-ups producers made (system calls on their path)
  std::int64_t full_waits = 0;     // submits that found the queue full and waited
  std::int64_t full_wait_ns = 0;   // the time they waited
  std::int64_t shared_cpu_ns = 0;  // writer CPU spent on the CPU the engine thread last ran on
};

// Writes batches on a background thread, in submission order, off the engine's hot path.
// Producers (the engine, the side streams, the stack sampler) push into a lock-free bounded
// queue and return: no lock, no system call. The writer wakes on its own timer, takes
// everything queued and writes it in one transaction.
class BatchWriter {
 public:
  explicit BatchWriter(const std::filesystem::path& path, BatchWriterOptions options = {});
  ~BatchWriter();
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Queues a batch. When the queue is full (a disk slower than the run) it wakes the writer
  // and waits for room: rows are never dropped, and the memory being measured does not
  // grow without bound. The wait is on the caller's clock (the recorder's time).
  void submit(Batch&& batch);
  // Writes everything submitted, then stops the thread. Idempotent.
  void close();
  // The first write error, if any; after one, further batches are dropped.
  std::optional<std::string> error() const;
  // CPU time the writer thread has used.
  std::int64_t cpu_ns() const;
  // The writer thread's id (waits the moment it takes to start): a stack sampler of this
  // process leaves it out, as the recorder's own work.
  pid_t tid() const;
  // The engine thread: the writer's CPU time on the CPU that thread last ran on is counted
  // (shared_cpu_ns), the most the writer can have taken from it.
  void set_engine_thread(pid_t tid) { m_engine_tid.store(tid); }
  BatchWriterStats stats() const;

 private:
  void run();
  void wait_for_room(Batch& batch);
  void wake_writer();
  void count_wake();
  // Takes every queued batch; false once the writer should stop.
  bool write_queued(std::optional<TelemetryStore>& store);

  std::filesystem::path m_path;
  BatchWriterOptions m_options;
  MpscQueue<Batch> m_queue;
  mutable std::mutex m_mutex;  // only for sleeping: the writer's timer, a full queue
  std::condition_variable m_wake;
  std::condition_variable m_room;
  bool m_urgent = false;
  bool m_closing = false;
  std::atomic<bool> m_closed{false};
  std::atomic<bool> m_failed{false};
  std::optional<std::string> m_error;
  std::atomic<std::int64_t> m_cpu_ns{0};
  std::atomic<pid_t> m_tid{0};
  std::atomic<pid_t> m_engine_tid{0};
  std::atomic<std::int64_t> m_ticks{0};
  std::atomic<std::int64_t> m_batches{0};
  std::atomic<std::int64_t> m_wakes{0};
  std::atomic<std::int64_t> m_full_waits{0};
  std::atomic<std::int64_t> m_full_wait_ns{0};
  std::atomic<std::int64_t> m_shared_cpu_ns{0};
  std::thread m_thread;
};

}  // namespace nrmlab::telemetry

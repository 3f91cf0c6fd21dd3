// telemetry.db: the contract between the recorder and everything that reads a run (the
// analysis, `watch`, `nrmlab export`). SQLite in WAL mode; every batch is one transaction,
// so a crash or kill -9 loses at most the batch in flight.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "telemetry/rows.hpp"
#include "telemetry/schema.hpp"
#include "util/sqlite.hpp"

namespace nrmlab::telemetry {

// Writes rows as the column registry (telemetry/columns.hpp) maps them to columns.
class TelemetryStore {
 public:
  // Creates the file and its tables (or opens an existing run's).
  explicit TelemetryStore(const std::filesystem::path& path);
  void write(const Batch& batch);

 private:
  sqlite::Connection m_db;
};

// Writes batches on a background thread, in submission order, off the engine's hot path.
class BatchWriter {
 public:
  explicit BatchWriter(const std::filesystem::path& path);
  ~BatchWriter();
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Queues a batch. Blocks while the queue holds k_max_queued batches: a disk slower than
  // the run must not grow the very memory the recorder measures.
  void submit(Batch&& batch);
  static constexpr std::size_t k_max_queued = 64;
  // Writes everything submitted, then stops the thread. Idempotent.
  void close();
  // The first write error, if any; after one, further batches are dropped.
  std::optional<std::string> error() const;
  // CPU time the writer thread has used.
  std::int64_t cpu_ns() const;
  // The writer thread's id (waits the moment it takes to start): a stack sampler of this
  // process leaves it out, as the recorder's own work.
  pid_t tid() const;

 private:
  void run();

  std::filesystem::path m_path;
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_drained;
  std::deque<Batch> m_queue;
  bool m_closing = false;
  std::optional<std::string> m_error;
  std::atomic<std::int64_t> m_cpu_ns{0};
  std::atomic<pid_t> m_tid{0};
  std::thread m_thread;
};

}  // namespace nrmlab::telemetry

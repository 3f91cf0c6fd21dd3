#include "model/parallel_rows.hpp"

#include <algorithm>

namespace nrmlab::model {
namespace {

// Rows a thread claims at a time: few enough that the last claims balance the threads,
// enough that claiming (one atomic add) costs nothing beside deciding.
constexpr std::size_t k_chunk_rows = 4;

}  // namespace

struct ParallelRows::Epoch {
  const PairScores* scores = nullptr;
  double threshold = 0.0;
  std::size_t begin = 0;  // rows [begin, end); slot = row - begin
  std::size_t end = 0;
  std::size_t words = 0;
};

// The default ring of 4 MiB keeps 2,048 rows of 16,384 agents: one pass per step up to there.
ParallelRows::ParallelRows(std::size_t threads, std::size_t ring_bytes)
    : m_pool(threads), m_ring_bytes(ring_bytes), m_unsure(threads) {}

void ParallelRows::reserve(std::size_t ring_rows, std::size_t words) {
  if (m_ring.size() < ring_rows * words) m_ring.resize(ring_rows * words);
  if (m_counts.size() < ring_rows) m_counts.resize(ring_rows);
  if (m_ready_size < ring_rows) {
    m_ready = std::make_unique<std::atomic<std::uint32_t>[]>(ring_rows);
    m_ready_size = ring_rows;
  }
  for (std::vector<std::uint64_t>& unsure : m_unsure)
    unsure.resize(words);
}

void ParallelRows::decide_erased(const PairScores& scores, double threshold, void* object,
                                 ConsumeCall call) {
  const std::size_t n = scores.size();
  if (n < 2) return;
  const std::size_t rows = n - 1;
  const std::size_t words = scores.words();
  const std::size_t ring_rows =
      std::min(rows, std::max<std::size_t>(64, m_ring_bytes / (words * sizeof(std::uint64_t))));
  reserve(ring_rows, words);
  for (std::size_t begin = 0; begin < rows; begin += ring_rows)
    run_epoch({&scores, threshold, begin, std::min(rows, begin + ring_rows), words}, object, call);
}

bool ParallelRows::decide_chunk(const Epoch& epoch, std::size_t thread) {
  const std::size_t first = m_next.fetch_add(k_chunk_rows, std::memory_order_relaxed);
  if (first >= epoch.end) return false;
  for (std::size_t row = first; row < std::min(first + k_chunk_rows, epoch.end); ++row) {
    const std::size_t slot = row - epoch.begin;
    m_counts[slot] = epoch.scores->decide_row(row, epoch.threshold, &m_ring[slot * epoch.words],
                                              m_unsure[thread].data());
    m_ready[slot].store(1, std::memory_order_release);
    m_ready[slot].notify_one();
  }
  return true;
}

void ParallelRows::run_epoch(const Epoch& epoch, void* object, ConsumeCall call) {
  for (std::size_t slot = 0; slot < epoch.end - epoch.begin; ++slot)
    m_ready[slot].store(0, std::memory_order_relaxed);
  m_next.store(epoch.begin, std::memory_order_relaxed);
  // The pool's start publishes the resets above to the workers (it takes a mutex).
  m_pool.run([&](std::size_t thread) {
    if (thread != 0) {
      while (decide_chunk(epoch, thread)) {
      }
      return;
    }
    std::size_t row = epoch.begin;
    while (row < epoch.end) {
      const std::size_t slot = row - epoch.begin;
      if (m_ready[slot].load(std::memory_order_acquire) != 0) {
        call(object, row, &m_ring[slot * epoch.words], m_counts[slot]);
        ++row;
      } else if (!decide_chunk(epoch, 0)) {
        // Every row is claimed and this one is a worker's: sleep until it is decided.
        m_ready[slot].wait(0, std::memory_order_acquire);
      }
    }
  });
}

}  // namespace nrmlab::model

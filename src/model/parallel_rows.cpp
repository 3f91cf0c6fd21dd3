#include "model/parallel_rows.hpp"

#include <algorithm>
#include <cassert>
#include <thread>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace nrmlab::model {
namespace {

// Chunks per thread and epoch: enough that the last claims balance the threads, few enough
// that claiming one (an atomic add on a line both threads write) and publishing it cost
// nothing beside deciding it. Rows differ in length (row i has n - 1 - i pairs), so chunks
// are cut by pairs, not rows: at 1,000 agents a chunk is about 16,000 pairs (a few us).
constexpr std::size_t k_chunks_per_thread = 16;
// Below this many pairs a chunk is not worth its claim.
constexpr std::size_t k_min_chunk_pairs = 4096;
// How long the folding thread spins on a chunk a worker is still deciding before it
// sleeps: a chunk takes microseconds, a sleep and a wake-up cost as much on a VM.
constexpr int k_spins_before_sleeping = 2000;

void cpu_relax() {
#if defined(__SSE2__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

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
  // At most one chunk per row.
  if (m_ready_size < ring_rows) {
    m_ready = std::make_unique<ChunkFlag[]>(ring_rows);
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

void ParallelRows::plan_chunks(const Epoch& epoch) {
  const std::size_t n = epoch.scores->size();
  const auto pairs_of = [n](std::size_t row) { return n - 1 - row; };
  std::size_t pairs = 0;
  for (std::size_t row = epoch.begin; row < epoch.end; ++row)
    pairs += pairs_of(row);
  const std::size_t target =
      std::max(k_min_chunk_pairs, pairs / (k_chunks_per_thread * m_pool.size()));
  m_chunk_begin.clear();
  std::size_t in_chunk = 0;
  for (std::size_t row = epoch.begin; row < epoch.end; ++row) {
    if (in_chunk == 0) m_chunk_begin.push_back(row);
    in_chunk += pairs_of(row);
    if (in_chunk >= target) in_chunk = 0;
  }
  m_chunk_begin.push_back(epoch.end);
  assert(m_chunk_begin.size() - 1 <= m_ready_size);
}

bool ParallelRows::decide_chunk(const Epoch& epoch, std::size_t thread) {
  const std::size_t chunk = m_next.fetch_add(1, std::memory_order_relaxed);
  if (chunk + 1 >= m_chunk_begin.size()) return false;
  for (std::size_t row = m_chunk_begin[chunk]; row < m_chunk_begin[chunk + 1]; ++row) {
    const std::size_t slot = row - epoch.begin;
    m_counts[slot] = epoch.scores->decide_row(row, epoch.threshold, &m_ring[slot * epoch.words],
                                              m_unsure[thread].data());
  }
  m_ready[chunk].ready.store(1, std::memory_order_release);
  m_ready[chunk].ready.notify_one();
  return true;
}

void ParallelRows::wait_for(std::size_t chunk) {
  std::atomic<std::uint32_t>& ready = m_ready[chunk].ready;
  for (int spin = 0; spin < k_spins_before_sleeping; ++spin) {
    if (ready.load(std::memory_order_acquire) != 0) return;
    cpu_relax();
  }
  ready.wait(0, std::memory_order_acquire);
}

void ParallelRows::run_epoch(const Epoch& epoch, void* object, ConsumeCall call) {
  plan_chunks(epoch);
  const std::size_t chunks = m_chunk_begin.size() - 1;
  for (std::size_t chunk = 0; chunk < chunks; ++chunk)
    m_ready[chunk].ready.store(0, std::memory_order_relaxed);
  m_next.store(0, std::memory_order_relaxed);
  // The pool's start publishes the resets above to the workers (it takes a mutex).
  m_pool.run([&](std::size_t thread) {
    if (thread != 0) {
      while (decide_chunk(epoch, thread)) {
      }
      return;
    }
    // This thread folds the chunks in order, deciding one itself whenever the next is not
    // ready yet; once every chunk is claimed it waits for the workers' ones.
    for (std::size_t chunk = 0; chunk < chunks; ++chunk) {
      while (m_ready[chunk].ready.load(std::memory_order_acquire) == 0) {
        if (!decide_chunk(epoch, 0)) {
          wait_for(chunk);
          break;
        }
      }
      for (std::size_t row = m_chunk_begin[chunk]; row < m_chunk_begin[chunk + 1]; ++row) {
        const std::size_t slot = row - epoch.begin;
        call(object, row, &m_ring[slot * epoch.words], m_counts[slot]);
      }
    }
  });
}

}  // namespace nrmlab::model

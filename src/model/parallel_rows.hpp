// A step's resonance decisions on several threads with results independent of their number:
// workers decide rows (any row, any thread: a row's bits depend on nothing else) into a ring
// of row buffers, and the calling thread hands the rows to `consume` strictly in row order,
// deciding rows itself whenever the next one is not ready yet. So the fold, the counters and
// everything downstream see exactly the sequence of the single-threaded loop.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/pair_scores.hpp"
#include "util/thread_pool.hpp"

namespace nrmlab::model {

class ParallelRows {
 public:
  // `threads` >= 2 counts the calling thread. The ring of row buffers holds at most
  // `ring_bytes` (but always 64 rows): larger populations take several passes per step.
  explicit ParallelRows(std::size_t threads, std::size_t ring_bytes = std::size_t{4} << 20);

  // Decides rows 0 .. n-2 of `scores` and calls consume(i, bits, resonant) for each, in
  // order, on this thread; bits holds scores.words() words (PairScores::decide_row's form).
  template <class Consume>
  void decide(const PairScores& scores, double threshold, Consume&& consume) {
    using Plain = std::remove_reference_t<Consume>;
    decide_erased(scores, threshold, static_cast<void*>(&consume),
                  [](void* object, std::size_t i, const std::uint64_t* bits, std::size_t count) {
                    (*static_cast<Plain*>(object))(i, bits, count);
                  });
  }

 private:
  using ConsumeCall = void (*)(void*, std::size_t, const std::uint64_t*, std::size_t);
  struct Epoch;  // one pass over a stretch of rows that fits the ring
  // One flag per chunk of rows, alone on its cache line: the thread deciding a chunk and
  // the one waiting to fold it touch nothing else in common.
  struct alignas(64) ChunkFlag {
    std::atomic<std::uint32_t> ready{0};
  };
  void decide_erased(const PairScores& scores, double threshold, void* object, ConsumeCall call);
  bool decide_chunk(const Epoch& epoch, std::size_t thread);
  void run_epoch(const Epoch& epoch, void* object, ConsumeCall call);
  void wait_for(std::size_t chunk);
  void plan_chunks(const Epoch& epoch);
  void reserve(std::size_t ring_rows, std::size_t words);

  ThreadPool m_pool;
  std::size_t m_ring_bytes;
  std::vector<std::uint64_t> m_ring;  // ring_rows x words: one row's bits per slot
  std::vector<std::size_t> m_counts;  // resonant pairs of each slot's row
  // The epoch's chunks: chunk c is rows [m_chunk_begin[c], m_chunk_begin[c + 1]).
  std::vector<std::size_t> m_chunk_begin;
  std::unique_ptr<ChunkFlag[]> m_ready;  // per chunk: 1 once decided
  std::size_t m_ready_size = 0;
  std::vector<std::vector<std::uint64_t>> m_unsure;  // per thread: decide_row's scratch
  alignas(64) std::atomic<std::size_t> m_next{0};    // the next chunk nobody has claimed
};

}  // namespace nrmlab::model

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
  void decide_erased(const PairScores& scores, double threshold, void* object, ConsumeCall call);
  bool decide_chunk(const Epoch& epoch, std::size_t thread);
  void run_epoch(const Epoch& epoch, void* object, ConsumeCall call);
  void reserve(std::size_t ring_rows, std::size_t words);

  ThreadPool m_pool;
  std::size_t m_ring_bytes;
  std::vector<std::uint64_t> m_ring;  // ring_rows x words: one row's bits per slot
  std::vector<std::size_t> m_counts;  // resonant pairs of each slot's row
  std::unique_ptr<std::atomic<std::uint32_t>[]> m_ready;  // per slot: 1 once decided
  std::size_t m_ready_size = 0;
  std::vector<std::vector<std::uint64_t>> m_unsure;  // per thread: decide_row's scratch
  std::atomic<std::size_t> m_next{0};                // the next row nobody has claimed
};

}  // namespace nrmlab::model

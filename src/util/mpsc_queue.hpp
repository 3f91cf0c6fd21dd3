// A bounded multi-producer, single-consumer queue without locks or system calls: a
// producer that finds it full is told so (try_push returns false) and decides itself
// whether to wait, so a thread on a hot path never blocks or wakes anyone through it.
//
// The cells carry sequence numbers (D. Vyukov's bounded queue): a producer claims a
// position with one compare-and-swap and publishes its cell with a release store; the
// consumer takes cells strictly in claimed order, so elements come out in the order their
// pushes took effect, even across producers.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace nrmlab {

template <class T>
class MpscQueue {
 public:
  // `capacity` is rounded up to a power of two (at least 2).
  explicit MpscQueue(std::size_t capacity) : m_capacity(round_up(capacity)) {
    m_cells = std::make_unique<Cell[]>(m_capacity);
    for (std::size_t i = 0; i < m_capacity; ++i)
      m_cells[i].sequence.store(i, std::memory_order_relaxed);
  }
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  std::size_t capacity() const { return m_capacity; }

  // Any thread. Moves `value` in and returns true, or leaves it untouched and returns
  // false when every cell is taken.
  bool try_push(T& value) {
    std::size_t position = m_push_position.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = m_cells[position & (m_capacity - 1)];
      const std::size_t sequence = cell.sequence.load(std::memory_order_acquire);
      const auto lag = static_cast<std::ptrdiff_t>(sequence - position);
      if (lag == 0) {
        if (m_push_position.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
          cell.value = std::move(value);
          cell.sequence.store(position + 1, std::memory_order_release);
          return true;
        }
      } else if (lag < 0) {
        return false;  // the cell still holds the element one lap earlier: full
      } else {
        position = m_push_position.load(std::memory_order_relaxed);
      }
    }
  }

  // The consumer thread only. The oldest element, or nothing when the queue is empty or
  // its oldest claimed cell is still being filled (later ones wait behind it: order).
  std::optional<T> try_pop() {
    Cell& cell = m_cells[m_pop_position & (m_capacity - 1)];
    const std::size_t sequence = cell.sequence.load(std::memory_order_acquire);
    if (sequence != m_pop_position + 1) return std::nullopt;
    std::optional<T> value(std::move(cell.value));
    cell.value = T{};  // release what the element held now, not a lap later
    cell.sequence.store(m_pop_position + m_capacity, std::memory_order_release);
    ++m_pop_position;
    return value;
  }

 private:
  struct Cell {
    std::atomic<std::size_t> sequence{0};
    T value{};
  };

  static std::size_t round_up(std::size_t capacity) {
    if (capacity > (std::size_t{1} << 30)) throw std::length_error("MpscQueue: capacity too large");
    std::size_t rounded = 2;
    while (rounded < capacity)
      rounded *= 2;
    return rounded;
  }

  std::size_t m_capacity;
  std::unique_ptr<Cell[]> m_cells;
  // Apart from each other: producers hammer one, the consumer the other.
  alignas(64) std::atomic<std::size_t> m_push_position{0};
  alignas(64) std::size_t m_pop_position = 0;
};

}  // namespace nrmlab

// H2, fragmentation: a long-lived linked list is walked every step (the same work), while
// a few of its nodes are replaced each step, each new node allocated amid short-lived
// buffers of mixed sizes that live for a hundred steps.
//
// glibc's malloc serves the buffers by splitting and coalescing the chunks the old nodes
// freed, so new nodes land wherever the heap has room: over the run the list spreads from a
// few hundred pages over thousands, and the walk -- dependent loads in a fixed random
// order -- misses the TLB more and more. A size-class allocator (jemalloc, mimalloc) keeps
// every node on pages of the node's size class, so the same walk costs the same. Measured
// on the development VM (seed 1, 300 steps): a step took 854 us at the start and 1,425 us
// at the end under glibc, while RSS per allocated byte went from 1.07 to 1.87; under
// jemalloc 539 -> 491 us, under mimalloc 503 -> 436 us. (A prototype without the shrinking
// buffers below counted the list's pages: 3,400 under glibc, about 680 under either.)
//
// The set-up allocates a lifetime's worth of buffers before the first step, so a step does
// the same from the first to the last: free the buffers that expire, replace the nodes
// (allocating 2,000 buffers), walk.
#include <algorithm>
#include <cstdlib>
#include <new>
#include <random>

#include "validate/workloads_internal.hpp"

namespace nrmlab::validate {
namespace {

constexpr std::size_t k_nodes = 8000;
constexpr std::size_t k_replaced_per_step = 100;
constexpr std::size_t k_buffers_per_node = 20;
constexpr std::int64_t k_buffer_lifetime = 100;  // steps
// Buffers take 16 to 1,024 bytes at the start, and their largest size falls linearly to a
// quarter of that at the end: the same number of allocations, but the live heap shrinks
// while the heap glibc obtained stays, held in place by the nodes scattered through it, so
// RSS per allocated byte grows -- which H2 requires besides the slowdown (study.md 4.4).
// Without it the list still scattered and the walk slowed (27%), but the ratios stayed
// flat and the analysis rightly could not name fragmentation.
constexpr std::size_t k_buffer_min = 16, k_buffer_max = 1024;
constexpr int k_walks_per_step = 8;

struct Node {
  Node* next = nullptr;
  Node* prev = nullptr;
  double value = 1.0;
  char payload[168] = {};  // 192 bytes: a small-object size glibc does not keep in fastbins
};

class Fragmentation final : public Workload {
 public:
  explicit Fragmentation(const WorkloadOptions& options)
      : m_rng(options.seed), m_steps(std::max<std::int64_t>(options.steps, 1)) {}
  Fragmentation(const Fragmentation&) = delete;
  Fragmentation& operator=(const Fragmentation&) = delete;
  ~Fragmentation() override {
    for (Node* node : m_nodes)
      delete node;
    for (auto& buffers : m_expiring)
      for (void* buffer : buffers)
        std::free(buffer);
  }

  void prepare() override {
    m_nodes.resize(k_nodes);
    for (Node*& node : m_nodes)
      node = new Node;
    // Link the nodes in a random order: the walk is pointer chasing from the start, so
    // only where the nodes are -- not their order -- can change its cost.
    std::vector<std::size_t> order(k_nodes);
    for (std::size_t i = 0; i < k_nodes; ++i)
      order[i] = i;
    std::shuffle(order.begin(), order.end(), m_rng);
    for (std::size_t i = 0; i < k_nodes; ++i) {
      Node* a = m_nodes[order[i]];
      Node* b = m_nodes[order[(i + 1) % k_nodes]];
      a->next = b;
      b->prev = a;
    }
    // As if the run had been going for a buffer lifetime: step t frees bucket t.
    m_expiring.resize(static_cast<std::size_t>(m_steps + k_buffer_lifetime));
    for (std::int64_t t = 0; t < k_buffer_lifetime; ++t)
      for (std::size_t b = 0; b < k_replaced_per_step * k_buffers_per_node; ++b)
        m_expiring[static_cast<std::size_t>(t)].push_back(allocate_buffer());
  }

  void step(std::int64_t index, StepReport& report) override {
    auto& expiring = m_expiring[static_cast<std::size_t>(index)];
    for (void* buffer : expiring)
      std::free(buffer);
    expiring = {};
    m_largest = k_buffer_max - (3 * (k_buffer_max - k_buffer_min) / 4) *
                                   static_cast<std::size_t>(index) /
                                   static_cast<std::size_t>(m_steps);
    auto& buffers = m_expiring[static_cast<std::size_t>(index + k_buffer_lifetime)];
    // Unlink and free the victims first, then allocate their replacements amid new buffers.
    std::vector<std::size_t> victims;
    while (victims.size() < k_replaced_per_step) {
      const std::size_t i = m_rng() % k_nodes;
      Node* victim = m_nodes[i];
      if (victim == nullptr) continue;  // already replaced this step
      victim->prev->next = victim->next;
      victim->next->prev = victim->prev;
      delete victim;
      m_nodes[i] = nullptr;
      victims.push_back(i);
    }
    for (const std::size_t i : victims) {
      for (std::size_t b = 0; b < k_buffers_per_node; ++b)
        buffers.push_back(allocate_buffer());
      Node* node = new Node;
      Node* after = nullptr;
      while (after == nullptr)
        after = m_nodes[m_rng() % k_nodes];
      node->next = after->next;
      node->prev = after;
      after->next->prev = node;
      after->next = node;
      m_nodes[i] = node;
    }
    double sum = 0.0;
    const Node* head = m_nodes.front();
    for (int walk = 0; walk < k_walks_per_step; ++walk) {
      const Node* node = head;
      do {
        sum += node->value;
        node = node->next;
      } while (node != head);
    }
    m_checksum += sum;
    report.work.emplace_back("nodes_visited", static_cast<double>(k_walks_per_step * k_nodes));
    report.work.emplace_back("allocations",
                             static_cast<double>(victims.size() * (k_buffers_per_node + 1)));
  }

  double checksum() const override { return m_checksum; }

 private:
  void* allocate_buffer() {
    const std::size_t size = k_buffer_min + m_rng() % (m_largest - k_buffer_min + 1);
    auto* buffer = static_cast<char*>(std::malloc(size));
    if (buffer == nullptr) throw std::bad_alloc();
    buffer[0] = 1;  // touch it, as a real buffer would be
    return buffer;
  }

  std::mt19937_64 m_rng;
  std::int64_t m_steps;
  std::size_t m_largest = k_buffer_max;  // the largest buffer allocated now
  std::vector<Node*> m_nodes;
  std::vector<std::vector<void*>> m_expiring;  // by the step that frees them
  double m_checksum = 0.0;
};

}  // namespace

std::unique_ptr<Workload> make_fragmentation(const WorkloadOptions& options) {
  return std::make_unique<Fragmentation>(options);
}

}  // namespace nrmlab::validate

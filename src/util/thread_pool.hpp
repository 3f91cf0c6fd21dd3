// A small persistent thread pool: run(task) calls task(k) for every k in [0, size()), task(0) on
// the calling thread and the others on workers that live as long as the pool, so a caller that
// runs many short parallel sections (one per simulation step) never creates a thread for one.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <vector>

namespace nrmlab {

// The CPUs this process may run on (sched_getaffinity), at least 1.
std::size_t usable_cores();

class ThreadPool {
 public:
  // `threads` >= 1 counts the caller: threads - 1 workers are started.
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  std::size_t size() const { return m_workers.size() + 1; }

  // Calls task(k) for k = 0 .. size() - 1 concurrently and returns when all have returned;
  // the first exception one of them threw is rethrown here.
  template <class Task>
  void run(Task&& task) {
    using Plain = std::remove_reference_t<Task>;
    run_erased(static_cast<void*>(&task),
               [](void* object, std::size_t k) { (*static_cast<Plain*>(object))(k); });
  }

 private:
  using Call = void (*)(void*, std::size_t);
  void run_erased(void* object, Call call);
  void work(const std::stop_token& stop, std::size_t index);
  void call_task(std::size_t index);

  std::mutex m_mutex;
  std::condition_variable_any m_start;
  std::condition_variable m_done;
  std::uint64_t m_generation = 0;  // one per run(); workers wait for it to change
  std::size_t m_running = 0;       // workers still in the current task
  void* m_object = nullptr;
  Call m_call = nullptr;
  std::exception_ptr m_error;
  std::vector<std::jthread> m_workers;  // last: started after, stopped before the rest
};

}  // namespace nrmlab

#include "util/thread_pool.hpp"

#include <sched.h>

#include <algorithm>

namespace nrmlab {

std::size_t usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    return std::max<std::size_t>(1, static_cast<std::size_t>(CPU_COUNT(&set)));
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

ThreadPool::ThreadPool(std::size_t threads) {
  for (std::size_t k = 1; k < std::max<std::size_t>(threads, 1); ++k)
    m_workers.emplace_back([this, k](const std::stop_token& stop) { work(stop, k); });
}

ThreadPool::~ThreadPool() {
  for (std::jthread& worker : m_workers)
    worker.request_stop();
  // The workers wait on m_start with their stop token, so request_stop wakes them; the
  // jthreads join as the vector is destroyed.
  m_workers.clear();
}

void ThreadPool::call_task(std::size_t index) {
  try {
    m_call(m_object, index);
  } catch (...) {
    const std::lock_guard lock(m_mutex);
    if (!m_error) m_error = std::current_exception();
  }
}

void ThreadPool::run_erased(void* object, Call call) {
  {
    const std::lock_guard lock(m_mutex);
    m_object = object;
    m_call = call;
    m_error = nullptr;
    m_running = m_workers.size();
    ++m_generation;
  }
  m_start.notify_all();
  call_task(0);
  std::unique_lock lock(m_mutex);
  m_done.wait(lock, [&] { return m_running == 0; });
  if (m_error) std::rethrow_exception(m_error);
}

void ThreadPool::work(const std::stop_token& stop, std::size_t index) {
  std::uint64_t seen = 0;
  while (true) {
    {
      std::unique_lock lock(m_mutex);
      if (!m_start.wait(lock, stop, [&] { return m_generation != seen; })) return;
      seen = m_generation;
    }
    call_task(index);
    bool last = false;
    {
      const std::lock_guard lock(m_mutex);
      last = --m_running == 0;
    }
    if (last) m_done.notify_one();
  }
}

}  // namespace nrmlab

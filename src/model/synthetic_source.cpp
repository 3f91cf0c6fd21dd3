#include "model/synthetic_source.hpp"

#include <algorithm>

namespace nrmlab::model {
namespace {

// splitmix64: a well-mixed 64-bit hash, enough to decorrelate neighbouring keys.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [-1, 1) from the key and a per-field salt.
double unit_noise(std::uint64_t key_hash, std::uint64_t salt) {
  const std::uint64_t bits = mix(key_hash ^ mix(salt));
  return static_cast<double>(bits >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

double percentage(double centre, double jitter, double noise) {
  return std::clamp(centre + jitter * noise, 0.0, 100.0);
}

}  // namespace

MetricSample SyntheticSource::sample(const SampleKey& key, std::chrono::milliseconds window) {
  block(window);
  const std::uint64_t key_hash =
      mix(mix(mix(m_params.seed) ^ static_cast<std::uint64_t>(key.condition)) ^
          static_cast<std::uint64_t>(key.step)) ^
      static_cast<std::uint64_t>(key.call);
  MetricSample sample;
  sample.timestamp = wall_clock_seconds();
  sample.cpu_percent = percentage(m_params.cpu_percent, m_params.jitter, unit_noise(key_hash, 1));
  sample.memory_percent =
      percentage(m_params.memory_percent, m_params.jitter, unit_noise(key_hash, 2));
  sample.disk_percent = percentage(m_params.disk_percent, m_params.jitter, unit_noise(key_hash, 3));
  // Plausible absolute figures for a 16 GiB machine with a 500 GB disk; they are written to
  // metrics.db like the original's but never influence the model.
  sample.memory_used_mb = sample.memory_percent / 100.0 * 16384.0;
  sample.disk_used_gb = sample.disk_percent / 100.0 * 500.0;
  sample.process_count = 200;
  return sample;
}

}  // namespace nrmlab::model

#include "model/snapshot.hpp"

#include <bit>

namespace nrmlab::model {

nlohmann::json to_json(const Snapshot& snapshot) {
  return {{"condition", snapshot.condition},
          {"next_step", snapshot.next_step},
          {"engine", snapshot.engine}};
}

Snapshot snapshot_from_json(const nlohmann::json& json) {
  Snapshot snapshot;
  snapshot.condition = json.at("condition").get<int>();
  snapshot.next_step = json.at("next_step").get<std::int64_t>();
  snapshot.engine = json.at("engine");
  return snapshot;
}

nlohmann::json bits_of(double value) {
  return std::bit_cast<std::uint64_t>(value);
}

double double_from_bits(const nlohmann::json& json) {
  return std::bit_cast<double>(json.get<std::uint64_t>());
}

nlohmann::json to_json(const MetricSample& sample) {
  return nlohmann::json::array(
      {bits_of(sample.timestamp), bits_of(sample.cpu_percent), bits_of(sample.memory_percent),
       bits_of(sample.disk_percent), bits_of(sample.memory_used_mb), bits_of(sample.disk_used_gb),
       bits_of(sample.network_sent_mb), bits_of(sample.network_recv_mb), sample.process_count});
}

MetricSample sample_from_json(const nlohmann::json& json) {
  MetricSample sample;
  sample.timestamp = double_from_bits(json.at(0));
  sample.cpu_percent = double_from_bits(json.at(1));
  sample.memory_percent = double_from_bits(json.at(2));
  sample.disk_percent = double_from_bits(json.at(3));
  sample.memory_used_mb = double_from_bits(json.at(4));
  sample.disk_used_gb = double_from_bits(json.at(5));
  sample.network_sent_mb = double_from_bits(json.at(6));
  sample.network_recv_mb = double_from_bits(json.at(7));
  sample.process_count = json.at(8).get<std::int64_t>();
  return sample;
}

}  // namespace nrmlab::model

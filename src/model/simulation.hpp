// One condition of an experiment: the agents, the bridge, the cluster table and the
// driver loop of model.md section 6. Construction sets the condition up (root agent);
// each step() runs one iteration of the original's main loop.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/cluster_fold.hpp"
#include "model/cluster_table.hpp"
#include "model/experiment.hpp"
#include "model/pair_scores.hpp"
#include "model/parallel_rows.hpp"
#include "model/params.hpp"
#include "model/phase_space.hpp"
#include "model/sampler.hpp"
#include "model/step_counters.hpp"

namespace nrmlab::model {

class FaithfulStores;

class Simulation {
 public:
  // `stores` may be null (persistence off). The sampler must have begun the condition.
  // `compute` chooses how the pairs are scored, never the results.
  Simulation(const ModelParams& params, MechanismSet mechanisms, Sampler& sampler,
             FaithfulStores* stores, const ComputeOptions& compute = {});
  // Continues a condition from the state save() returned, possibly in another process. The
  // sampler must have begun the same condition; it is restored too. Throws
  // nlohmann::json::exception on a malformed state.
  Simulation(const ModelParams& params, MechanismSet mechanisms, Sampler& sampler,
             FaithfulStores* stores, const nlohmann::json& saved,
             const ComputeOptions& compute = {});

  // The whole state between two steps (agents, list, cluster table, bridge, sampler).
  nlohmann::json save() const;

  // Runs step step_index() and returns its counters.
  const StepCounters& step();
  // The section times of the step step() just ran (zero unless timing is enabled on the
  // sampler and the stores).
  const SectionTimes& last_sections() const { return m_sections; }

  std::int64_t step_index() const { return m_step; }
  std::size_t population() const { return m_list.size(); }
  std::size_t pattern_count() const { return m_clusters.size(); }
  std::size_t agents_created() const { return m_agents.size(); }
  // A digest of every agent's energy and phase bits and of the list: equal digests mean
  // bit-identical states.
  std::uint64_t state_digest() const;

 private:
  struct Unstarted {};
  // The members both public constructors set alike; each then starts or restores the state.
  Simulation(const ModelParams& params, MechanismSet mechanisms, Sampler& sampler,
             FaithfulStores* stores, const ComputeOptions& compute, Unstarted);
  struct Agent {
    std::string id;
    std::uint32_t depth = 0;
    double energy = 0.0;
    PhaseState phase;
    std::vector<std::uint32_t> children;  // every agent it spawned, dead ones included
    std::int64_t last_spawn = -1;         // -1: never spawned
  };

  std::uint32_t create_agent(std::string id, std::uint32_t depth, double energy,
                             const MetricSample& sample);
  void apply_reality_sources();
  void detect_clusters();
  // One row of resonant pairs: decided without scores (nothing records them), or scored,
  // written to the stores and decided from the scores.
  void decide_row(std::size_t i);
  void fold_row(std::size_t i, const std::uint64_t* resonant_bits);
  void score_and_write_row(std::size_t i);
  void pool_energy();
  void evolve(std::uint32_t agent);
  void apply_energy_recovery();
  void spawn();
  void remove_dead();
  void finish_step_counters();
  SectionTimes current_section_totals() const;
  // Counters are per step: they start from the sampler's and stores' totals now.
  void start_counting();

  ModelParams m_params;
  MechanismSet m_mechanisms;
  Sampler& m_sampler;
  FaithfulStores* m_stores;
  ComputeOptions m_compute;
  PhaseSpace m_bridge;

  // Agents are stored by serial (creation order) and never removed: dead children stay
  // reachable from their parents. The list holds serials in list order, which is always
  // ascending serial order (appends at the end, removals keep order).
  std::vector<Agent> m_agents;
  std::vector<std::uint32_t> m_list;
  std::vector<std::int32_t> m_list_position;  // by serial; -1 when not in the list

  ClusterTable m_clusters;

  // Scratch space for cluster detection, kept to avoid allocating in the step loop.
  std::vector<PhaseState> m_phases;  // the list's phases, in list order
  PairScores m_scores;
  std::vector<std::uint32_t> m_resonant;  // one row's resonant partners (list positions)
  RowDecisions m_decisions;
  std::unique_ptr<ParallelRows> m_parallel;  // null with one thread
  ClusterFold m_fold;
  std::vector<std::uint32_t> m_entry;  // one component's serials

  std::int64_t m_step = 0;
  StepCounters m_counters;
  std::uint64_t m_samples_before = 0;
  std::uint64_t m_transactions_before = 0;
  std::uint64_t m_rows_before = 0;
  SectionTimes m_sections;
  SectionTimes m_sections_before;
};

}  // namespace nrmlab::model

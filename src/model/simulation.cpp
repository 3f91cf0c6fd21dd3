#include "model/simulation.hpp"

#include <algorithm>

#include "model/faithful_stores.hpp"
#include "model/snapshot.hpp"
#include "util/hash.hpp"

namespace nrmlab::model {

Simulation::Simulation(const ModelParams& params, MechanismSet mechanisms, Sampler& sampler,
                       FaithfulStores* stores, const ComputeOptions& compute, Unstarted)
    : m_params(params),
      m_mechanisms(mechanisms),
      m_sampler(sampler),
      m_stores(stores),
      m_compute(compute),
      m_scores(compute.isa) {
  if (compute.threads > 1) m_parallel = std::make_unique<ParallelRows>(compute.threads);
}

Simulation::Simulation(const ModelParams& params, MechanismSet mechanisms, Sampler& sampler,
                       FaithfulStores* stores, const ComputeOptions& compute)
    : Simulation(params, mechanisms, sampler, stores, compute, Unstarted{}) {
  start_counting();
  // Setup belongs to step 0; the sampler decides whether the step's shared sample comes
  // before the root's (see Sampler::begin_setup).
  m_sampler.begin_setup();
  const MetricSample& sample = m_sampler.sample(SampleSite::setup);
  const std::uint32_t root = create_agent("root", 0, m_params.root_energy, sample);
  m_list.push_back(root);
  m_list_position[root] = 0;
}

Simulation::Simulation(const ModelParams& params, MechanismSet mechanisms, Sampler& sampler,
                       FaithfulStores* stores, const nlohmann::json& saved,
                       const ComputeOptions& compute)
    : Simulation(params, mechanisms, sampler, stores, compute, Unstarted{}) {
  m_step = saved.at("step").get<std::int64_t>();
  const nlohmann::json& agents = saved.at("agents");
  const auto ids = agents.at("id").get<std::vector<std::string>>();
  const auto& depth = agents.at("depth");
  const auto& energy = agents.at("energy");
  const auto& phase = agents.at("phase");
  const auto& children = agents.at("children");
  const auto& last_spawn = agents.at("last_spawn");
  m_agents.resize(ids.size());
  for (std::size_t s = 0; s < ids.size(); ++s) {
    Agent& agent = m_agents[s];
    agent.id = ids[s];
    agent.depth = depth.at(s).get<std::uint32_t>();
    agent.energy = double_from_bits(energy.at(s));
    const auto& p = phase.at(s);
    agent.phase = {double_from_bits(p.at(0)), double_from_bits(p.at(1)), double_from_bits(p.at(2)),
                   double_from_bits(p.at(3))};
    agent.children = children.at(s).get<std::vector<std::uint32_t>>();
    agent.last_spawn = last_spawn.at(s).get<std::int64_t>();
  }
  m_list = saved.at("list").get<std::vector<std::uint32_t>>();
  m_list_position.assign(m_agents.size(), -1);
  for (std::size_t position = 0; position < m_list.size(); ++position)
    m_list_position.at(m_list[position]) = static_cast<std::int32_t>(position);
  const nlohmann::json& clusters = saved.at("clusters");
  m_clusters = ClusterTable(clusters.at("members").get<std::vector<std::uint32_t>>(),
                            clusters.at("offsets").get<std::vector<std::size_t>>());
  const nlohmann::json& bridge = saved.at("bridge");
  m_bridge.set_offsets({double_from_bits(bridge.at(0)), double_from_bits(bridge.at(1)),
                        double_from_bits(bridge.at(2))});
  m_sampler.restore(saved.at("sampler"));
  start_counting();
}

nlohmann::json Simulation::save() const {
  nlohmann::json ids = nlohmann::json::array();
  nlohmann::json depth = nlohmann::json::array();
  nlohmann::json energy = nlohmann::json::array();
  nlohmann::json phase = nlohmann::json::array();
  nlohmann::json children = nlohmann::json::array();
  nlohmann::json last_spawn = nlohmann::json::array();
  for (const Agent& agent : m_agents) {
    ids.push_back(agent.id);
    depth.push_back(agent.depth);
    energy.push_back(bits_of(agent.energy));
    phase.push_back({bits_of(agent.phase.p), bits_of(agent.phase.q), bits_of(agent.phase.r),
                     bits_of(agent.phase.magnitude)});
    children.push_back(agent.children);
    last_spawn.push_back(agent.last_spawn);
  }
  const std::array<double, 3> offsets = m_bridge.offsets();
  return {{"step", m_step},
          {"agents",
           {{"id", std::move(ids)},
            {"depth", std::move(depth)},
            {"energy", std::move(energy)},
            {"phase", std::move(phase)},
            {"children", std::move(children)},
            {"last_spawn", std::move(last_spawn)}}},
          {"list", m_list},
          {"clusters", {{"members", m_clusters.members()}, {"offsets", m_clusters.offsets()}}},
          {"bridge", {bits_of(offsets[0]), bits_of(offsets[1]), bits_of(offsets[2])}},
          {"sampler", m_sampler.save()}};
}

void Simulation::start_counting() {
  m_samples_before = m_sampler.events();
  if (m_stores != nullptr) {
    m_transactions_before = m_stores->transactions();
    m_rows_before = m_stores->rows();
  }
  m_sections_before = current_section_totals();
}

std::uint32_t Simulation::create_agent(std::string id, std::uint32_t depth, double energy,
                                       const MetricSample& sample) {
  const auto serial = static_cast<std::uint32_t>(m_agents.size());
  Agent& agent = m_agents.emplace_back();
  agent.id = std::move(id);
  agent.depth = depth;
  agent.energy = energy;
  agent.phase = m_bridge.to_phase(sample);
  if (m_stores != nullptr) m_stores->write_phase(agent.phase, sample);
  m_list_position.push_back(-1);
  return serial;
}

const StepCounters& Simulation::step() {
  m_counters = StepCounters{};
  m_sampler.begin_step(m_step);
  if (m_mechanisms.reality_sources) apply_reality_sources();
  if (m_mechanisms.energy_pooling) {
    detect_clusters();
    pool_energy();
  }
  for (const std::uint32_t agent : m_list)
    evolve(agent);
  if (m_mechanisms.energy_recovery) apply_energy_recovery();
  spawn();
  remove_dead();
  if (m_stores != nullptr) m_stores->end_step();
  finish_step_counters();
  ++m_step;
  return m_counters;
}

void Simulation::apply_reality_sources() {
  for (const std::uint32_t serial : m_list) {
    const double avail = m_sampler.sample(SampleSite::reality_sources).avail();
    Agent& agent = m_agents[serial];
    agent.energy = std::min(agent.energy + m_params.h2_bonus_rate * avail, m_params.energy_cap);
  }
}

void Simulation::detect_clusters() {
  const std::size_t n = m_list.size();
  m_phases.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    m_phases[i] = m_agents[m_list[i]].phase;
  m_scores.load(m_phases);

  m_fold.reset(n);
  m_resonant.resize(n);
  const bool scored = m_stores != nullptr || m_compute.exact_decisions;
  if (!scored && m_parallel != nullptr && n >= m_compute.parallel_from) {
    // Rows decided on every thread, folded here in row order: the same fold as below.
    m_parallel->decide(m_scores, m_params.resonance_threshold,
                       [&](std::size_t i, const std::uint64_t* bits, std::size_t resonant) {
                         m_counters.resonant_pairs += resonant;
                         fold_row(i, bits);
                       });
  } else {
    // The stores record every score in order and cost far more than scoring, so the scored
    // path stays on this thread.
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (scored)
        score_and_write_row(i);
      else
        decide_row(i);
    }
  }
  m_counters.resonance_pairs += n * (n - (n > 0 ? 1 : 0)) / 2;

  if (!m_params.accumulating_clusters) m_clusters.clear();
  // List positions ascend with list order; the members' serials are stored in that order.
  m_fold.order_members();
  for (const std::vector<std::uint32_t>& group : m_fold.groups()) {
    if (group.empty()) continue;  // merged into an earlier group
    m_entry.clear();
    for (const std::uint32_t position : group)
      m_entry.push_back(m_list[position]);
    m_clusters.append(m_entry);
    ++m_counters.clusters_found;
  }
}

void Simulation::decide_row(std::size_t i) {
  m_counters.resonant_pairs += m_scores.decide_row(i, m_params.resonance_threshold, m_decisions);
  fold_row(i, m_decisions.resonant.data());
}

void Simulation::fold_row(std::size_t i, const std::uint64_t* resonant_bits) {
  m_fold.fold_row(static_cast<std::uint32_t>(i), resonant_bits, (i + 1) / 64, m_scores.words());
}

void Simulation::score_and_write_row(std::size_t i) {
  const std::size_t n = m_list.size();
  const double threshold = m_params.resonance_threshold;
  m_scores.score_row(i);
  if (m_stores != nullptr)
    for (std::size_t j = i + 1; j < n; ++j)
      m_stores->write_resonance(m_agents[m_list[i]].id, m_agents[m_list[j]].id,
                                {m_scores.alignment(j), m_scores.ratio(j), m_scores.similarity(j)},
                                m_scores.similarity(j) >= threshold);
  // About a third of the pairs resonate, in no pattern a branch predictor can learn, so the
  // row's resonant partners are gathered without branching and folded afterwards.
  std::size_t resonant = 0;
  for (std::size_t j = i + 1; j < n; ++j) {
    m_resonant[resonant] = static_cast<std::uint32_t>(j);
    resonant += m_scores.similarity(j) >= threshold ? 1 : 0;
  }
  m_counters.resonant_pairs += resonant;
  for (std::size_t k = 0; k < resonant; ++k)
    m_fold.fold(static_cast<std::uint32_t>(i), m_resonant[k]);
}

void Simulation::pool_energy() {
  const double cap = m_params.energy_cap;
  // Exact shortcut: when every list agent sits exactly at the cap, min(cap + share, cap)
  // leaves every member unchanged, so walking the (ever-growing) table changes nothing.
  const bool all_capped = std::all_of(m_list.begin(), m_list.end(), [&](std::uint32_t serial) {
    return m_agents[serial].energy == cap;
  });
  if (all_capped) return;

  const auto energy_of = [this](std::uint32_t serial) -> double& {
    return m_agents[serial].energy;
  };
  if (m_params.float_sum == FloatSum::compensated)
    m_clusters.pool<CompensatedSum>(energy_of, m_list_position, m_params.pooling_share, cap);
  else
    m_clusters.pool<PlainSum>(energy_of, m_list_position, m_params.pooling_share, cap);
}

void Simulation::evolve(std::uint32_t serial) {
  ++m_counters.evolve_calls;
  Agent& agent = m_agents[serial];
  agent.phase = m_bridge.oscillate();
  const double recharge = m_params.recharge_rate * m_sampler.sample(SampleSite::evolve).avail();
  agent.energy = std::clamp(agent.energy - m_params.decay + recharge, 0.0, m_params.energy_cap);
  if (!m_params.recursive_evolve) return;
  // Indexing (not a range-for over agent.children) keeps this safe and explicit: evolve
  // never adds agents, so the vector is stable during the recursion.
  for (std::size_t c = 0; c < m_agents[serial].children.size(); ++c)
    evolve(m_agents[serial].children[c]);
}

void Simulation::apply_energy_recovery() {
  for (const std::uint32_t serial : m_list) {
    const double avail = m_sampler.sample(SampleSite::energy_recovery).avail();
    Agent& agent = m_agents[serial];
    agent.energy =
        std::min(agent.energy + m_params.h5_bonus_rate * avail * m_params.h5_bonus_factor,
                 m_params.energy_cap);
  }
}

void Simulation::spawn() {
  const std::size_t snapshot = m_list.size();
  const auto max_agents = static_cast<std::size_t>(m_params.max_agents);
  for (std::size_t index = 0; index < snapshot; ++index) {
    const std::uint32_t parent = m_list[index];
    {
      const Agent& agent = m_agents[parent];
      if (agent.energy < m_params.spawn_threshold) continue;
      if (agent.depth >= static_cast<std::uint32_t>(m_params.max_depth)) continue;
      if (m_list.size() >= max_agents) continue;
      if (m_mechanisms.spawn_throttling && agent.last_spawn >= 0 &&
          m_step - agent.last_spawn < m_params.throttle_cooldown)
        continue;
    }
    const MetricSample& sample = m_sampler.sample(SampleSite::spawn);
    std::string id = m_agents[parent].id + "_child_" + std::to_string(m_step);
    const std::uint32_t child =
        create_agent(std::move(id), m_agents[parent].depth + 1, sample.avail(), sample);
    Agent& agent = m_agents[parent];  // create_agent may have moved the agents
    agent.children.push_back(child);
    agent.energy -= m_params.spawn_cost;
    agent.last_spawn = m_step;
    m_list_position[child] = static_cast<std::int32_t>(m_list.size());
    m_list.push_back(child);
    ++m_counters.spawns;
  }
}

void Simulation::remove_dead() {
  std::size_t kept = 0;
  for (const std::uint32_t serial : m_list) {
    if (m_agents[serial].energy >= m_params.death_threshold) {
      m_list_position[serial] = static_cast<std::int32_t>(kept);
      m_list[kept++] = serial;
    } else {
      m_list_position[serial] = -1;
      ++m_counters.deaths;
    }
  }
  m_list.resize(kept);
}

SectionTimes Simulation::current_section_totals() const {
  SectionTimes totals = m_sampler.section_totals();
  if (m_stores != nullptr) {
    totals.database_ns = m_stores->section_totals().database_ns;
    totals.timer_reads += m_stores->section_totals().timer_reads;
  }
  return totals;
}

void Simulation::finish_step_counters() {
  const SectionTimes now = current_section_totals();
  m_sections.sampling_ns = now.sampling_ns - m_sections_before.sampling_ns;
  m_sections.window_ns = now.window_ns - m_sections_before.window_ns;
  m_sections.database_ns = now.database_ns - m_sections_before.database_ns;
  m_sections.timer_reads = now.timer_reads - m_sections_before.timer_reads;
  m_sections_before = now;
  m_counters.agents_alive = m_list.size();
  m_counters.pattern_count = m_clusters.size();
  m_counters.metric_samples = m_sampler.events() - m_samples_before;
  m_samples_before = m_sampler.events();
  if (m_stores != nullptr) {
    m_counters.db_transactions = m_stores->transactions() - m_transactions_before;
    m_counters.db_rows = m_stores->rows() - m_rows_before;
    m_transactions_before = m_stores->transactions();
    m_rows_before = m_stores->rows();
  }
}

std::uint64_t Simulation::state_digest() const {
  Fnv1a hash;
  for (const Agent& agent : m_agents) {
    hash.add(agent.energy);
    hash.add(agent.phase.p);
    hash.add(agent.phase.q);
    hash.add(agent.phase.r);
  }
  for (const std::uint32_t serial : m_list)
    hash.add(std::uint64_t{serial});
  hash.add(std::uint64_t{m_clusters.size()});
  return hash.value();
}

}  // namespace nrmlab::model

#include "model/metric_trace.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <istream>

#include "model/experiment.hpp"
#include "util/error.hpp"
#include "util/parse.hpp"

namespace nrmlab::model {
namespace {

constexpr std::size_t k_field_count = 12;
constexpr std::string_view k_steps_prefix = "# steps=";

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

class LineParser {
 public:
  LineParser(const std::filesystem::path& path, std::size_t line) : m_path(path), m_line(line) {}

  [[noreturn]] void fail(std::string_view what) const {
    throw input_error(m_path.string(), m_line, what);
  }

  template <typename Number>
  Number number(std::string_view field, std::string_view name) const {
    auto value = parse_number<Number>(field);
    if (!value || !std::isfinite(static_cast<double>(*value)))
      fail(fmt::format("field {}: expected a number, found '{}'", name, field));
    return *value;
  }

  double percentage(std::string_view field, std::string_view name) const {
    const double value = number<double>(field, name);
    if (value < 0.0 || value > 100.0)
      fail(fmt::format("field {}: expected a percentage in [0, 100], found {}", name, value));
    return value;
  }

 private:
  const std::filesystem::path& m_path;
  std::size_t m_line;
};

// The trace's lines, numbered from 1 for error messages; a CRLF file reads like an LF one.
class TraceLines {
 public:
  TraceLines(std::istream& in, const std::filesystem::path& path) : m_in(in), m_path(path) {}

  bool next() {
    if (!std::getline(m_in, m_line)) return false;
    ++m_number;
    if (!m_line.empty() && m_line.back() == '\r') m_line.pop_back();
    return true;
  }
  // Moves to the next line, which must exist; `what` names what belongs there.
  void expect(std::string_view what) {
    if (!next())
      throw input_error(m_path.string(), m_number + 1,
                        fmt::format("expected {}, found the end of the file", what));
  }
  [[noreturn]] void fail(std::string_view what) const {
    throw input_error(m_path.string(), m_number, what);
  }
  const std::string& text() const { return m_line; }
  std::size_t number() const { return m_number; }

 private:
  std::istream& m_in;
  const std::filesystem::path& m_path;
  std::string m_line;
  std::size_t m_number = 0;
};

// Checks the magic line and the column header; returns the steps per condition.
std::int64_t read_preamble(TraceLines& lines) {
  lines.expect(fmt::format("'{}'", k_trace_magic));
  if (lines.text() != k_trace_magic)
    lines.fail(fmt::format("expected '{}' (is this an nrmlab metric trace?)", k_trace_magic));
  lines.expect("'# steps=N'");
  const std::string_view steps_line = lines.text();
  std::optional<std::int64_t> steps;
  if (steps_line.starts_with(k_steps_prefix))
    steps = parse_number<std::int64_t>(steps_line.substr(k_steps_prefix.size()));
  if (!steps || *steps < 1)
    lines.fail(fmt::format("expected '# steps=N' with N >= 1, found '{}'", steps_line));
  lines.expect("the column header");
  if (lines.text() != k_trace_columns)
    lines.fail(fmt::format("expected the column header '{}'", k_trace_columns));
  return *steps;
}

// The last step and call read for one condition.
struct Cursor {
  std::int64_t step = -1;
  std::int64_t call = -1;
};

// One data line, checked.
struct TraceRow {
  int condition = 0;
  std::int64_t step = 0;
  std::int64_t call = 0;
  MetricSample sample;
};

// Within a condition steps ascend and calls count from 0 in each step; advances `cursor`.
void advance_cursor(const LineParser& parse, Cursor& cursor, std::int64_t step, std::int64_t call) {
  const bool next_call = step == cursor.step && call == cursor.call + 1;
  const bool next_step = step > cursor.step && call == 0;
  if (!next_call && !next_step)
    parse.fail(fmt::format(
        "expected {} (steps ascending, calls numbered from 0 within a step), found "
        "step {} call {}",
        cursor.step < 0
            ? std::string("call 0 of the condition's first step")
            : fmt::format("step {} call {} or a later step's call 0", cursor.step, cursor.call + 1),
        step, call));
  cursor = {step, call};
}

// Fields 3 to 11, in column order (so the first bad field is the one reported).
void parse_sample(const LineParser& parse, const std::vector<std::string_view>& fields,
                  MetricSample& sample) {
  sample.timestamp = parse.number<double>(fields[3], "timestamp");
  sample.cpu_percent = parse.percentage(fields[4], "cpu_percent");
  sample.memory_percent = parse.percentage(fields[5], "memory_percent");
  sample.disk_percent = parse.percentage(fields[6], "disk_percent");
  sample.memory_used_mb = parse.number<double>(fields[7], "memory_used_mb");
  sample.disk_used_gb = parse.number<double>(fields[8], "disk_used_gb");
  sample.network_sent_mb = parse.number<double>(fields[9], "network_sent_mb");
  sample.network_recv_mb = parse.number<double>(fields[10], "network_recv_mb");
  sample.process_count = parse.number<std::int64_t>(fields[11], "process_count");
}

TraceRow parse_row(const LineParser& parse, std::string_view line, std::int64_t steps,
                   std::array<Cursor, 4>& cursors) {
  const auto fields = split_fields(line);
  if (fields.size() != k_field_count)
    parse.fail(
        fmt::format("expected {} comma-separated fields, found {}", k_field_count, fields.size()));
  const auto condition = parse_condition(fields[0]);
  if (!condition)
    parse.fail(fmt::format("field condition: expected OFF-OFF, ON-OFF, OFF-ON or ON-ON, found '{}'",
                           fields[0]));
  TraceRow row;
  row.condition = condition->index;
  row.step = parse.number<std::int64_t>(fields[1], "step");
  row.call = parse.number<std::int64_t>(fields[2], "call");
  if (row.step < 0 || row.step >= steps)
    parse.fail(fmt::format("field step: expected a step in [0, {}), found {}", steps, row.step));
  advance_cursor(parse, cursors[static_cast<std::size_t>(row.condition)], row.step, row.call);
  parse_sample(parse, fields, row.sample);
  return row;
}

// Completes one condition's index once every sample is in: `step_begin` holds -1 for the
// steps without samples, which begin (and end) where the next recorded step does.
void fill_step_index(std::vector<std::int64_t>& begin, std::vector<std::int64_t>& in_force,
                     std::size_t sample_count) {
  begin.back() = static_cast<std::int64_t>(sample_count);
  for (std::size_t t = begin.size() - 1; t-- > 0;)
    if (begin[t] < 0) begin[t] = begin[t + 1];
  in_force.assign(begin.size() - 1, -1);
  std::int64_t current = -1;
  for (std::size_t t = 0; t + 1 < begin.size(); ++t) {
    if (begin[t] < begin[t + 1]) current = begin[t];
    in_force[t] = current;
  }
}

}  // namespace

TraceWriter::TraceWriter(const std::filesystem::path& path, std::int64_t steps) : m_path(path) {
  m_file = std::fopen(path.c_str(), "w");
  if (m_file == nullptr)
    throw Error(fmt::format("cannot create trace {}: {}", path.string(), std::strerror(errno)));
  fmt::print(m_file, "{}\n{}{}\n{}\n", k_trace_magic, k_steps_prefix, steps, k_trace_columns);
}

TraceWriter::~TraceWriter() {
  if (m_file != nullptr) std::fclose(m_file);
}

void TraceWriter::write(const SampleKey& key, const MetricSample& s) {
  fmt::print(m_file, "{},{},{},{},{},{},{},{},{},{},{},{}\n",
             k_condition_names[static_cast<std::size_t>(key.condition)], key.step, key.call,
             s.timestamp, s.cpu_percent, s.memory_percent, s.disk_percent, s.memory_used_mb,
             s.disk_used_gb, s.network_sent_mb, s.network_recv_mb, s.process_count);
}

void TraceWriter::flush() {
  if (std::fflush(m_file) != 0 || std::ferror(m_file))
    throw Error(fmt::format("writing trace {} failed: {}", m_path.string(), std::strerror(errno)));
}

std::string_view granularity_name(ReplayGranularity granularity) {
  return granularity == ReplayGranularity::step ? "step" : "call";
}

std::optional<ReplayGranularity> parse_granularity(std::string_view text) {
  if (text == "step") return ReplayGranularity::step;
  if (text == "call") return ReplayGranularity::call;
  return std::nullopt;
}

MetricTrace MetricTrace::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in)
    throw Error(fmt::format("cannot read trace {}: {}", path.string(), std::strerror(errno)));
  MetricTrace trace;
  trace.m_path = path;
  TraceLines lines(in, path);
  trace.m_steps = read_preamble(lines);

  std::array<Cursor, 4> cursors;
  while (lines.next()) {
    if (lines.text().empty()) continue;
    const LineParser parse(path, lines.number());
    const TraceRow row = parse_row(parse, lines.text(), trace.m_steps, cursors);
    auto& slot = trace.m_conditions[static_cast<std::size_t>(row.condition)];
    if (!slot) slot.emplace().step_begin.assign(static_cast<std::size_t>(trace.m_steps) + 1, -1);
    if (row.call == 0)
      slot->step_begin[static_cast<std::size_t>(row.step)] =
          static_cast<std::int64_t>(slot->samples.size());
    slot->samples.push_back(row.sample);
  }
  for (auto& slot : trace.m_conditions)
    if (slot) fill_step_index(slot->step_begin, slot->in_force, slot->samples.size());
  return trace;
}

bool MetricTrace::has_condition(int condition) const {
  return m_conditions[static_cast<std::size_t>(condition)].has_value();
}

const MetricSample* MetricTrace::in_force(int condition, std::int64_t step) const {
  const auto& slot = m_conditions[static_cast<std::size_t>(condition)];
  if (!slot || step < 0 || step >= m_steps) return nullptr;
  const std::int64_t index = slot->in_force[static_cast<std::size_t>(step)];
  return index < 0 ? nullptr : &slot->samples[static_cast<std::size_t>(index)];
}

std::int64_t MetricTrace::calls_in_step(int condition, std::int64_t step) const {
  const auto& slot = m_conditions[static_cast<std::size_t>(condition)];
  if (!slot || step < 0 || step >= m_steps) return 0;
  const auto t = static_cast<std::size_t>(step);
  return slot->step_begin[t + 1] - slot->step_begin[t];
}

const MetricSample* MetricTrace::at(int condition, std::int64_t step, std::int64_t call) const {
  if (call < 0 || call >= calls_in_step(condition, step)) return nullptr;
  const auto& slot = *m_conditions[static_cast<std::size_t>(condition)];
  return &slot.samples[static_cast<std::size_t>(slot.step_begin[static_cast<std::size_t>(step)] +
                                                call)];
}

ReplaySource::ReplaySource(std::shared_ptr<const MetricTrace> trace, ReplayGranularity granularity,
                           std::int64_t run_steps)
    : m_trace(std::move(trace)), m_granularity(granularity) {
  if (run_steps > m_trace->steps())
    throw Error(fmt::format("trace {} covers {} steps per condition; this run needs {}",
                            m_trace->path().string(), m_trace->steps(), run_steps));
}

void ReplaySource::begin_condition(int condition) {
  if (!m_trace->has_condition(condition))
    throw Error(fmt::format("trace {} has no samples for condition {}", m_trace->path().string(),
                            k_condition_names[static_cast<std::size_t>(condition)]));
}

MetricSample ReplaySource::sample(const SampleKey& key, std::chrono::milliseconds window) {
  block(window);
  const std::string_view condition = k_condition_names[static_cast<std::size_t>(key.condition)];
  if (m_granularity == ReplayGranularity::step) {
    if (const MetricSample* sample = m_trace->in_force(key.condition, key.step)) return *sample;
    throw Error(fmt::format("trace {} has no sample at or before step {} of condition {}",
                            m_trace->path().string(), key.step, condition));
  }
  if (const MetricSample* sample = m_trace->at(key.condition, key.step, key.call)) return *sample;
  throw Error(fmt::format(
      "trace {}: step {} of condition {} has {} recorded samples; the run asks for sample {}. "
      "Call-granularity replay needs the sampling pattern of the recording; use step "
      "granularity to replay into another configuration",
      m_trace->path().string(), key.step, condition,
      m_trace->calls_in_step(key.condition, key.step), key.call + 1));
}

}  // namespace nrmlab::model

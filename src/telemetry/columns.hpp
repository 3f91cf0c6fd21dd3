// The telemetry column registry: the one definition of telemetry.db's tables. Each column is
// declared once, with the field of the row struct it is read from (a path of pointers to
// members, or an accessor), what the analysis needs of it and a one-line doc; its SQL type
// and nullability follow from the field's C++ type. Generated from it: the CREATE TABLE
// text and the INSERT statements (telemetry/schema.hpp), the binds of TelemetryStore::write,
// the analysis reader's required columns and the columns it reads, and `nrmlab export`.
//
// To add a column: add the field to its row struct (rows.hpp) and one entry here, in the
// position the column takes in its table (new columns go last, so older databases keep
// their column order). A step counter is one entry in model::k_step_counter_fields instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "model/step_counters.hpp"
#include "telemetry/rows.hpp"
#include "telemetry/schema.hpp"

namespace nrmlab::telemetry {

// One column's value as it is bound: absent (NULL), an integer, a real, or a text that
// points into the row.
using Value = std::variant<std::monostate, std::int64_t, double, std::string_view>;

template <class Row>
struct Column {
  using RowType = Row;
  ColumnSpec spec;
  Value (*read)(const Row&) = nullptr;
};

template <class Row>
struct Table {
  TableSpec spec;
  std::span<const Column<Row>> columns;
};

namespace column_detail {

template <class T>
struct ClassOf;
template <class Member, class Class>
struct ClassOf<Member Class::*> {  // a data member, or a member function
  using type = Class;
};
template <class Result, class Class>
struct ClassOf<Result (*)(const Class&)> {  // an accessor
  using type = Class;
};

template <auto First, auto... Rest>
struct FirstClass {
  using type = typename ClassOf<decltype(First)>::type;
};
template <auto... Path>
using RowOf = typename FirstClass<Path...>::type;

template <auto Step, class Object>
constexpr decltype(auto) apply_step(const Object& object) {
  if constexpr (std::is_member_object_pointer_v<decltype(Step)>)
    return (object.*Step);
  else if constexpr (std::is_member_function_pointer_v<decltype(Step)>)
    return (object.*Step)();
  else
    return Step(object);
}

template <auto First, auto... Rest, class Object>
constexpr decltype(auto) follow(const Object& object) {
  if constexpr (sizeof...(Rest) == 0) {
    return apply_step<First>(object);
  } else {
    // Only the last step may compute a value: a reference into a temporary would dangle.
    static_assert(std::is_lvalue_reference_v<decltype(apply_step<First>(object))>,
                  "only the last step of a column's path may be an accessor");
    return follow<Rest...>(apply_step<First>(object));
  }
}

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
constexpr SqlType sql_type_of() {
  if constexpr (IsOptional<T>::value) {
    return sql_type_of<typename T::value_type>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    return SqlType::text;
  } else if constexpr (std::is_floating_point_v<T>) {
    return SqlType::real;
  } else {
    static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>,
                  "a column holds an integer, a floating-point number or a std::string");
    return SqlType::integer;
  }
}

template <class T>
Value to_value(const T& value) {
  if constexpr (IsOptional<T>::value) {
    return value ? to_value(*value) : Value{};
  } else if constexpr (std::is_same_v<T, std::string>) {
    return Value(std::string_view(value));
  } else if constexpr (std::is_floating_point_v<T>) {
    return Value(static_cast<double>(value));
  } else {
    return Value(static_cast<std::int64_t>(value));  // the counters' uint64 wrap as before
  }
}

template <auto... Path>
Value read_path(const RowOf<Path...>& row) {
  return to_value(follow<Path...>(row));
}

}  // namespace column_detail

// The column `name` read from the row through `Path`: pointers to members (data members,
// nested, or a const member function last) or an accessor taking the row.
template <auto... Path>
constexpr Column<column_detail::RowOf<Path...>> column(std::string_view name, AnalysisUse use,
                                                       std::string_view doc) {
  using Row = column_detail::RowOf<Path...>;
  using Read = decltype(column_detail::follow<Path...>(std::declval<const Row&>()));
  using Leaf = std::remove_cvref_t<Read>;
  static_assert(!std::is_same_v<Leaf, std::string> || std::is_lvalue_reference_v<Read>,
                "a text column must be a field of the row, not a computed string");
  return {
      {name, column_detail::sql_type_of<Leaf>(), column_detail::IsOptional<Leaf>::value, use, doc},
      &column_detail::read_path<Path...>};
}

namespace column_detail {

template <class T, std::size_t A, std::size_t B>
constexpr std::array<T, A + B> concat(const std::array<T, A>& a, const std::array<T, B>& b) {
  std::array<T, A + B> joined{};
  for (std::size_t i = 0; i < A; ++i)
    joined[i] = a[i];
  for (std::size_t i = 0; i < B; ++i)
    joined[A + i] = b[i];
  return joined;
}

constexpr AnalysisUse use_of(model::CounterRole role) {
  return role == model::CounterRole::detail ? AnalysisUse::unread : AnalysisUse::required;
}

// The steps columns of the step counters, in model::k_step_counter_fields' order.
template <std::size_t... I>
constexpr auto counter_columns(std::index_sequence<I...>) {
  constexpr const auto& fields = model::k_step_counter_fields;
  return std::array<Column<StepRow>, sizeof...(I)>{column<&StepRow::counters, fields[I].member>(
      fields[I].name, use_of(fields[I].role), fields[I].doc)...};
}

template <const auto& Columns>
inline constexpr auto k_specs_of = [] {
  std::array<ColumnSpec, std::size(Columns)> specs{};
  for (std::size_t i = 0; i < specs.size(); ++i)
    specs[i] = Columns[i].spec;
  return specs;
}();

template <const auto& Columns>
constexpr auto table(std::string_view name, std::size_t key_columns,
                     std::span<const std::size_t> layout, std::string_view doc) {
  using Row = typename std::remove_cvref_t<decltype(Columns)>::value_type::RowType;
  return Table<Row>{{name, k_specs_of<Columns>, key_columns, layout, doc}, Columns};
}

}  // namespace column_detail

// The registry. Columns are listed in table order; the layouts keep the CREATE TABLE text
// of databases written before the registry existed (see TableSpec::layout).
namespace registry {

using enum AnalysisUse;
using model::SectionTimes;

inline constexpr auto k_meta_columns = std::to_array<Column<MetaRow>>({
    column<&MetaRow::first>("key", required,
                            "schema, provenance, configuration, cadence.*, "
                            "outcome... (ARCHITECTURE.md)"),
    column<&MetaRow::second>("value", required, "as text; configuration is JSON"),
});

inline constexpr auto k_condition_columns = std::to_array<Column<ConditionRow>>({
    column<&ConditionRow::first>("condition", required,
                                 "canonical index: 0 OFF-OFF, 1 ON-OFF, 2 OFF-ON, 3 ON-ON"),
    column<&ConditionRow::second>("name", required, "OFF-OFF...; `program` for nrmlab watch"),
});

inline constexpr auto k_step_head_columns = std::to_array<Column<StepRow>>({
    column<&StepRow::condition>("condition", required, "canonical condition index"),
    column<&StepRow::step>("step", required, "step index within the condition"),
    column<&StepRow::t_ns>("t_ns", required, "when the step began, since the recorder started"),
    column<&StepRow::wall_ns>("wall_ns", required, "from this step's probe set to the next's"),
    column<&StepRow::cpu_ns>("cpu_ns", required, "the engine thread's CPU time, exact"),
    column<&StepRow::usage_steps>("usage_steps", required,
                                  "steps the getrusage deltas cover (0 between readings)"),
    column<&StepRow::user_ns>("user_ns", unread, "getrusage user time (tick-granular)"),
    column<&StepRow::system_ns>("system_ns", unread, "getrusage system time (tick-granular)"),
    column<&StepRow::voluntary_switches>("voluntary_switches", unread,
                                         "getrusage voluntary context switches"),
    column<&StepRow::involuntary_switches>("involuntary_switches", required,
                                           "getrusage involuntary context switches"),
    column<&StepRow::minor_faults>("minor_faults", unread, "getrusage minor page faults"),
    column<&StepRow::major_faults>("major_faults", unread, "getrusage major page faults"),
    column<&StepRow::sections, &SectionTimes::sampling_ns>(
        "sampling_ns", required, "taking metric samples, excluding the blocking window"),
    column<&StepRow::sections, &SectionTimes::window_ns>("window_ns", required,
                                                         "deliberately blocked in sample windows"),
    column<&StepRow::sections, &SectionTimes::database_ns>(
        "database_ns", required, "writing metrics.db and bridge.db, commits included"),
    column<&StepRow::recorder_ns>("recorder_ns", required,
                                  "the recorder's own time inside the step's interval"),
    column<&StepRow::compute_ns>("compute_ns", required,
                                 "wall time in no instrumented section: the model's own"),
    column<&StepRow::sections, &SectionTimes::timer_reads>(
        "timer_reads", unread, "clock reads spent timing the sections (meta.clock_read_ns each)"),
});
// Columns added after the counters, in that order; readers find columns by name.
inline constexpr auto k_step_tail_columns = std::to_array<Column<StepRow>>({
    column<&StepRow::runq_ns>("runq_ns", optional,
                              "run-queue delay (schedstat) over the usage_steps steps"),
    column<&StepRow::io_read_bytes>("io_read_bytes", optional,
                                    "watch: bytes read from storage (/proc/PID/io read_bytes)"),
    column<&StepRow::io_write_bytes>("io_write_bytes", optional,
                                     "watch: bytes written to storage (/proc/PID/io write_bytes)"),
    column<&StepRow::io_rchar>("io_rchar", optional, "watch: bytes through read system calls"),
    column<&StepRow::io_wchar>("io_wchar", optional, "watch: bytes through write system calls"),
    column<&StepRow::io_syscr>("io_syscr", optional, "watch: read system calls"),
    column<&StepRow::io_syscw>("io_syscw", optional, "watch: write system calls"),
});
// Then one column per step counter, then the later columns.
inline constexpr auto k_step_columns = column_detail::concat(
    column_detail::concat(k_step_head_columns,
                          column_detail::counter_columns(
                              std::make_index_sequence<std::size(model::k_step_counter_fields)>{})),
    k_step_tail_columns);

inline constexpr auto k_memory_columns = std::to_array<Column<MemoryRow>>({
    column<&MemoryRow::condition>("condition", required, "canonical condition index"),
    column<&MemoryRow::step>("step", required, "the step just completed"),
    column<&MemoryRow::t_ns>("t_ns", required, "since the recorder started"),
    column<&MemoryRow::rss_bytes>("rss_bytes", required, "resident set size (/proc/self/statm)"),
    column<&MemoryRow::allocator, &AllocatorStats::allocated>("allocated", optional,
                                                              "bytes in live allocations"),
    column<&MemoryRow::allocator, &AllocatorStats::active>("active", optional,
                                                           "bytes in pages holding allocations"),
    column<&MemoryRow::allocator, &AllocatorStats::resident>(
        "resident", optional, "bytes of allocator memory resident in RAM"),
    column<&MemoryRow::allocator, &AllocatorStats::mapped>(
        "mapped", optional, "bytes mapped (or committed) by the allocator"),
    column<&MemoryRow::allocator, &AllocatorStats::retained>(
        "retained", optional, "bytes kept mapped but returned to the OS"),
    column<&MemoryRow::allocator, &AllocatorStats::metadata>("metadata", optional,
                                                             "the allocator's own bookkeeping"),
    column<&MemoryRow::allocator, &AllocatorStats::free_bytes>(
        "free_bytes", optional, "free bytes held inside the heap (glibc)"),
    column<&MemoryRow::allocator, &AllocatorStats::mmapped>(
        "mmapped", optional, "bytes in mmap-served allocations (glibc)"),
    column<&MemoryRow::allocator, &AllocatorStats::top_pad>(
        "top_pad", optional, "releasable space at the heap top (glibc)"),
    column<&MemoryRow::rss_per_allocated>("rss_per_allocated", optional, "rss_bytes / allocated"),
    column<&MemoryRow::resident_per_active>("resident_per_active", optional, "resident / active"),
    column<&MemoryRow::active_per_allocated>("active_per_allocated", optional,
                                             "active / allocated"),
    column<&MemoryRow::alloc_probe_ns>("alloc_probe_ns", optional,
                                       "latency of the allocation probe (its own cadence)"),
});

inline constexpr auto k_sample_columns = std::to_array<Column<SampleRow>>({
    column<&SampleRow::key, &model::SampleKey::condition>("condition", unread,
                                                          "canonical condition index"),
    column<&SampleRow::key, &model::SampleKey::step>("step", unread, "the step sampled in"),
    column<&SampleRow::key, &model::SampleKey::call>("call", unread,
                                                     "sample call within the step, from 0"),
    column<&SampleRow::sample, &model::MetricSample::timestamp>("timestamp", unread,
                                                                "seconds since the Unix epoch"),
    column<&SampleRow::sample, &model::MetricSample::cpu_percent>("cpu_percent", unread,
                                                                  "the model's input CPU%"),
    column<&SampleRow::sample, &model::MetricSample::memory_percent>("memory_percent", unread,
                                                                     "the model's input memory%"),
    column<&SampleRow::sample, &model::MetricSample::disk_percent>("disk_percent", unread,
                                                                   "the model's input disk%"),
    column<&SampleRow::sample, &model::MetricSample::memory_used_mb>("memory_used_mb", unread,
                                                                     "memory used, MB"),
    column<&SampleRow::sample, &model::MetricSample::disk_used_gb>("disk_used_gb", unread,
                                                                   "disk used, GB"),
    column<&SampleRow::sample, &model::MetricSample::network_sent_mb>("network_sent_mb", unread,
                                                                      "network sent, MB"),
    column<&SampleRow::sample, &model::MetricSample::network_recv_mb>("network_recv_mb", unread,
                                                                      "network received, MB"),
    column<&SampleRow::sample, &model::MetricSample::process_count>("process_count", unread,
                                                                    "processes on the machine"),
});

inline constexpr auto k_system_columns = std::to_array<Column<SystemRow>>({
    column<&SystemRow::t_ns>("t_ns", required, "since the recorder started"),
    column<&SystemRow::unix_time>("unix_time", optional, "seconds since the Unix epoch"),
    column<&SystemRow::condition>("condition", required, "the condition in progress"),
    column<&SystemRow::step>("step", required, "the step in progress"),
    column<&SystemRow::sample, &SystemSample::cpu_percent>("cpu_percent", required,
                                                           "all cores, since the previous sample"),
    column<&SystemRow::sample, &SystemSample::memory_percent>("memory_percent", required,
                                                              "(total - available) / total"),
    column<&SystemRow::sample, &SystemSample::load1>("load1", required, "load average, 1 min"),
    column<&SystemRow::sample, &SystemSample::load5>("load5", optional, "load average, 5 min"),
    column<&SystemRow::sample, &SystemSample::load15>("load15", optional, "load average, 15 min"),
    column<&SystemRow::sample, &SystemSample::procs_running>("procs_running", optional,
                                                             "runnable tasks (/proc/stat)"),
    column<&SystemRow::sample, &SystemSample::other_cpu_ns>(
        "other_cpu_ns", required, "CPU time of everything but this process since the previous"),
    column<&SystemRow::sample, &SystemSample::io_read_bytes>("io_read_bytes", optional,
                                                             "/proc/self/io read_bytes"),
    column<&SystemRow::sample, &SystemSample::io_write_bytes>("io_write_bytes", optional,
                                                              "/proc/self/io write_bytes"),
    column<&SystemRow::sample, &SystemSample::io_syscr>("io_syscr", optional,
                                                        "/proc/self/io syscr"),
    column<&SystemRow::sample, &SystemSample::io_syscw>("io_syscw", optional,
                                                        "/proc/self/io syscw"),
    column<&SystemRow::sample, &SystemSample::io_rchar>("io_rchar", optional,
                                                        "/proc/self/io rchar"),
    column<&SystemRow::sample, &SystemSample::io_wchar>("io_wchar", optional,
                                                        "/proc/self/io wchar"),
    column<&SystemRow::pss_bytes>("pss_bytes", optional, "this process's PSS (its own cadence)"),
});

inline constexpr auto k_sensor_columns = std::to_array<Column<SensorRow>>({
    column<&SensorRow::t_ns>("t_ns", required, "since the recorder started"),
    column<&SensorRow::condition>("condition", required, "the condition in progress"),
    column<&SensorRow::step>("step", required, "the step in progress"),
    column<&SensorRow::reading, &SensorReading::kind>("kind", required,
                                                      "cpufreq_khz or temperature_c"),
    column<&SensorRow::reading, &SensorReading::name>("name", unread,
                                                      "cpu0, thermal_zone0 (x86_pkg_temp)..."),
    column<&SensorRow::reading, &SensorReading::value>("value", required, "kHz or degrees C"),
});

inline constexpr auto k_file_columns = std::to_array<Column<FileRow>>({
    column<&FileRow::t_ns>("t_ns", required, "since the recorder started"),
    column<&FileRow::condition>("condition", required, "the condition in progress"),
    column<&FileRow::step>("step", required, "the step in progress"),
    column<&FileRow::file, &FileSize::name>("name", required, "a faithful database or its WAL"),
    column<&FileRow::file, &FileSize::bytes>("bytes", required, "its size"),
});

inline constexpr auto k_work_columns = std::to_array<Column<WorkRow>>({
    column<&WorkRow::condition>("condition", optional, "canonical condition index"),
    column<&WorkRow::step>("step", optional, "step index within the condition"),
    column<&WorkRow::name>("name", optional, "the counter; the analysis reads it as work.<name>"),
    column<&WorkRow::value>("value", optional, "its value in this step"),
});

// ProcessSample::t_ns (CLOCK_MONOTONIC) is not stored: the row's t_ns is the same instant
// on the watch's clock.
inline constexpr auto k_process_columns = std::to_array<Column<ProcessRow>>({
    column<&ProcessRow::t_ns>("t_ns", unread, "since the watch began"),
    column<&ProcessRow::condition>("condition", unread, "the condition (0, program)"),
    column<&ProcessRow::step>("step", unread, "the step in progress"),
    column<&ProcessRow::sample, &ProcessSample::processes>("processes", unread,
                                                           "the target and live descendants"),
    column<&ProcessRow::sample, &ProcessSample::threads>("threads", unread, "their threads"),
    column<&ProcessRow::sample, &ProcessSample::user_ns>("user_ns", unread,
                                                         "cumulative user CPU (/proc/PID/stat)"),
    column<&ProcessRow::sample, &ProcessSample::system_ns>("system_ns", unread,
                                                           "cumulative system CPU"),
    column<&ProcessRow::sample, &ProcessSample::voluntary_switches>(
        "voluntary_switches", unread, "cumulative, summed over every thread"),
    column<&ProcessRow::sample, &ProcessSample::involuntary_switches>(
        "involuntary_switches", unread, "cumulative, summed over every thread"),
    column<&ProcessRow::sample, &ProcessSample::minor_faults>("minor_faults", unread,
                                                              "cumulative minor page faults"),
    column<&ProcessRow::sample, &ProcessSample::major_faults>("major_faults", unread,
                                                              "cumulative major page faults"),
    column<&ProcessRow::sample, &ProcessSample::rss_bytes>("rss_bytes", unread,
                                                           "VmRSS summed over the processes"),
    column<&ProcessRow::sample, &ProcessSample::pss_bytes>("pss_bytes", unread,
                                                           "smaps_rollup PSS, when asked"),
    column<&ProcessRow::sample, &ProcessSample::read_bytes>("read_bytes", unread,
                                                            "/proc/PID/io, cumulative"),
    column<&ProcessRow::sample, &ProcessSample::write_bytes>("write_bytes", unread,
                                                             "/proc/PID/io, cumulative"),
    column<&ProcessRow::sample, &ProcessSample::syscr>("syscr", unread, "/proc/PID/io"),
    column<&ProcessRow::sample, &ProcessSample::syscw>("syscw", unread, "/proc/PID/io"),
    column<&ProcessRow::sample, &ProcessSample::rchar>("rchar", unread, "/proc/PID/io"),
    column<&ProcessRow::sample, &ProcessSample::wchar>("wchar", unread, "/proc/PID/io"),
    column<&ProcessRow::sample, &ProcessSample::open_fds>("open_fds", unread,
                                                          "entries of /proc/PID/fd"),
    column<&ProcessRow::sample, &ProcessSample::runq_ns>(
        "runq_ns", unread, "run-queue delay (schedstat), cumulative, summed over every thread"),
});

inline constexpr auto k_profile_frame_columns = std::to_array<Column<ProfileFrameRow>>({
    column<&ProfileFrameRow::id>("id", unread, "from 1"),
    column<&ProfileFrameRow::function>("function", unread, "demangled; empty: no symbol"),
    column<&ProfileFrameRow::module>("module", unread, "file base name, [kernel], or empty"),
    column<&ProfileFrameRow::address>("address", unread,
                                      "a caller's return address; 0: an innermost frame"),
});

inline constexpr auto k_profile_stack_columns = std::to_array<Column<ProfileStackRow>>({
    column<&ProfileStackRow::id>("id", unread, "from 1"),
    column<&ProfileStackRow::parent>("parent", unread, "one frame shorter; 0: outermost"),
    column<&ProfileStackRow::frame>("frame", unread, "profile_frames.id"),
});

inline constexpr auto k_profile_count_columns = std::to_array<Column<ProfileCountRow>>({
    column<&ProfileCountRow::window>("window", unread, "index of meta profile.window_ns"),
    column<&ProfileCountRow::stack>("stack", unread, "profile_stacks.id; 0: no stack"),
    column<&ProfileCountRow::wait>("wait", unread, "on_cpu, run_queue, sleep, disk, ..."),
    column<&ProfileCountRow::samples>("samples", unread, "a partial sum: readers add rows"),
    column<&ProfileCountRow::weight_ns>("weight_ns", unread, "wall time they stand for"),
});

// The steps and process tables' later columns take a line of their own: runq_ns, then the
// steps' I/O columns.
inline constexpr std::size_t k_step_layout[] = {5, 5, 4, 4, 4, 4, 3, 1, 6, 1};
inline constexpr std::size_t k_memory_layout[] = {9, 4, 3, 2};
inline constexpr std::size_t k_sample_layout[] = {5, 4, 3, 1};
inline constexpr std::size_t k_system_layout[] = {5, 5, 4, 4};
inline constexpr std::size_t k_sensor_layout[] = {6};
inline constexpr std::size_t k_file_layout[] = {5};
inline constexpr std::size_t k_work_layout[] = {5};
inline constexpr std::size_t k_process_layout[] = {5, 4, 4, 5, 2};

using column_detail::table;
inline constexpr auto k_meta = table<k_meta_columns>("meta", 1, {}, "key-value provenance");
inline constexpr auto k_conditions =
    table<k_condition_columns>("conditions", 1, {}, "the names of the condition indices");
inline constexpr auto k_steps = table<k_step_columns>("steps", 2, k_step_layout, "one row a step");
inline constexpr auto k_memory =
    table<k_memory_columns>("memory", 2, k_memory_layout, "on the memory cadence");
inline constexpr auto k_metric_inputs = table<k_sample_columns>(
    "metric_inputs", 3, k_sample_layout, "every sample event: the run's replay trace");
inline constexpr auto k_system =
    table<k_system_columns>("system", 0, k_system_layout, "the side stream");
inline constexpr auto k_sensors =
    table<k_sensor_columns>("sensors", 0, k_sensor_layout, "CPU frequencies, temperatures");
inline constexpr auto k_files =
    table<k_file_columns>("files", 0, k_file_layout, "sizes of the databases and WAL files");
inline constexpr auto k_step_work = table<k_work_columns>(
    "step_work", 3, k_work_layout, "named work counters (watch markers, validate workloads)");
inline constexpr auto k_process =
    table<k_process_columns>("process", 0, k_process_layout, "watch: the program's /proc");
inline constexpr auto k_profile_frames =
    table<k_profile_frame_columns>("profile_frames", 1, {}, "stack sampling: interned frames");
inline constexpr auto k_profile_stacks =
    table<k_profile_stack_columns>("profile_stacks", 1, {}, "stack sampling: interned stacks");
inline constexpr auto k_profile_counts = table<k_profile_count_columns>(
    "profile_counts", 0, {}, "stack sampling: time per window, stack and wait class");

}  // namespace registry

// Every table, in creation order, each once: a Batch's rows of type Row go to table_of<Row>.
inline constexpr std::tuple k_tables{
    &registry::k_meta,          &registry::k_conditions,     &registry::k_steps,
    &registry::k_memory,        &registry::k_metric_inputs,  &registry::k_system,
    &registry::k_sensors,       &registry::k_files,          &registry::k_step_work,
    &registry::k_process,       &registry::k_profile_frames, &registry::k_profile_stacks,
    &registry::k_profile_counts};

template <class Row>
constexpr const Table<Row>& table_of() {
  return *std::get<const Table<Row>*>(k_tables);
}

}  // namespace nrmlab::telemetry

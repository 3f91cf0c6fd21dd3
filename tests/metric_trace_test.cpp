#include "model/metric_trace.hpp"

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "util/error.hpp"

namespace nrmlab::model {
namespace {

using nrmlab::testing::ScratchDir;
using ::testing::HasSubstr;

constexpr const char* k_header =
    "# nrmlab metric trace v1\n# steps=3\n"
    "condition,step,call,timestamp,cpu_percent,memory_percent,disk_percent,memory_used_mb,"
    "disk_used_gb,network_sent_mb,network_recv_mb,process_count\n";

std::filesystem::path write_file(const ScratchDir& scratch, const std::string& text) {
  const auto path = scratch / "trace.csv";
  std::ofstream(path) << text;
  return path;
}

std::string load_error(const ScratchDir& scratch, const std::string& text) {
  try {
    MetricTrace::load(write_file(scratch, text));
  } catch (const Error& error) {
    return error.what();
  }
  return "no error";
}

TEST(MetricTrace, RoundTripsEverySampleBitExactly) {
  ScratchDir scratch;
  const auto path = scratch / "trace.csv";
  MetricSample a;
  a.timestamp = 1732271234.123456789;
  a.cpu_percent = 0.1 + 0.2;  // not representable in short decimal: must survive exactly
  a.memory_percent = 41.7;
  a.disk_percent = 100.0 / 3.0;
  a.memory_used_mb = 1e-300;
  a.process_count = 212;
  MetricSample b = a;
  b.cpu_percent = 99.99999999999999;
  {
    TraceWriter writer(path, 3);
    writer.write({0, 0, 0}, a);
    writer.write({0, 0, 1}, b);
    writer.write({0, 2, 0}, b);
    writer.write({3, 0, 0}, a);
    writer.flush();
  }
  const MetricTrace trace = MetricTrace::load(path);
  EXPECT_EQ(trace.steps(), 3);
  ASSERT_NE(trace.at(0, 0, 1), nullptr);
  EXPECT_EQ(trace.at(0, 0, 0)->cpu_percent, a.cpu_percent);
  EXPECT_EQ(trace.at(0, 0, 0)->disk_percent, a.disk_percent);
  EXPECT_EQ(trace.at(0, 0, 0)->memory_used_mb, a.memory_used_mb);
  EXPECT_EQ(trace.at(0, 0, 0)->timestamp, a.timestamp);
  EXPECT_EQ(trace.at(0, 0, 1)->cpu_percent, b.cpu_percent);
  EXPECT_EQ(trace.at(0, 0, 2), nullptr);
  EXPECT_EQ(trace.calls_in_step(0, 0), 2);
  // Step 1 was not recorded: the sample in force is step 0's first.
  EXPECT_EQ(trace.in_force(0, 1)->cpu_percent, a.cpu_percent);
  EXPECT_EQ(trace.in_force(0, 2)->cpu_percent, b.cpu_percent);
  EXPECT_TRUE(trace.has_condition(3));
  EXPECT_FALSE(trace.has_condition(1));
}

TEST(MetricTrace, MalformedFilesNameTheFileLineAndWhatWasExpected) {
  ScratchDir scratch;
  const std::string file = (scratch / "trace.csv").string();
  EXPECT_THAT(load_error(scratch, "hello\n"),
              HasSubstr(file + ":1: expected '# nrmlab metric trace v1'"));
  EXPECT_THAT(load_error(scratch, ""),
              HasSubstr(file + ":1: expected '# nrmlab metric trace v1', found the end"));
  EXPECT_THAT(load_error(scratch, "# nrmlab metric trace v1\n# steps=zero\n"),
              HasSubstr(file + ":2: expected '# steps=N' with N >= 1"));
  EXPECT_THAT(load_error(scratch, "# nrmlab metric trace v1\n# steps=3\ncondition,step\n"),
              HasSubstr(file + ":3: expected the column header"));
  const std::string good = "OFF-OFF,0,0,1.5,20,40,50,1,2,3,4,100\n";
  EXPECT_THAT(load_error(scratch, std::string(k_header) + good + "OFF-OFF,0,1,1.5,20\n"),
              HasSubstr(file + ":5: expected 12 comma-separated fields, found 5"));
  EXPECT_THAT(
      load_error(scratch, std::string(k_header) + "SIDEWAYS,0,0,1.5,20,40,50,1,2,3,4,100\n"),
      HasSubstr(file + ":4: field condition: expected OFF-OFF, ON-OFF, OFF-ON or ON-ON"));
  EXPECT_THAT(
      load_error(scratch, std::string(k_header) + "OFF-OFF,0,0,1.5,abc,40,50,1,2,3,4,100\n"),
      HasSubstr(file + ":4: field cpu_percent: expected a number, found 'abc'"));
  EXPECT_THAT(
      load_error(scratch, std::string(k_header) + "OFF-OFF,0,0,1.5,120,40,50,1,2,3,4,100\n"),
      HasSubstr(file + ":4: field cpu_percent: expected a percentage in [0, 100]"));
  EXPECT_THAT(
      load_error(scratch, std::string(k_header) + "OFF-OFF,0,0,1.5,20,nan,50,1,2,3,4,100\n"),
      HasSubstr(file + ":4: field memory_percent: expected a number"));
  EXPECT_THAT(load_error(scratch, std::string(k_header) + "OFF-OFF,3,0,1.5,20,40,50,1,2,3,4,100\n"),
              HasSubstr(file + ":4: field step: expected a step in [0, 3), found 3"));
  EXPECT_THAT(
      load_error(scratch, std::string(k_header) + good + "OFF-OFF,0,2,1.5,20,40,50,1,2,3,4,100\n"),
      HasSubstr(file + ":5: expected step 0 call 1 or a later step's call 0"));
  EXPECT_THAT(load_error(scratch, std::string(k_header) + "OFF-OFF,1,1,1.5,20,40,50,1,2,3,4,100\n"),
              HasSubstr(file + ":4: expected call 0 of the condition's first step"));
  EXPECT_THAT(
      load_error(scratch, std::string(k_header) + good + "OFF-OFF,1,0,1.5,20,40,50,1,2,3,4,1x\n"),
      HasSubstr(file + ":5: field process_count: expected a number, found '1x'"));
  // A truncated last line (a recording killed mid-write) is an error, not silently dropped.
  EXPECT_THAT(load_error(scratch, std::string(k_header) + good + "OFF-OFF,1,0,1.5,20,4"),
              HasSubstr(file + ":5: expected 12 comma-separated fields, found 6"));
  EXPECT_THAT(load_error(scratch, std::string(k_header) + good), HasSubstr("no error"));
}

TEST(MetricTrace, AMissingFileIsAClearError) {
  try {
    MetricTrace::load("/nonexistent/trace.csv");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("cannot read trace /nonexistent/trace.csv"));
  }
}

TEST(MetricTrace, ReadsCrlfLinesAndNamesTheLineAfterAnEarlyEnd) {
  ScratchDir scratch;
  const std::string file = (scratch / "trace.csv").string();
  std::string crlf;
  for (const char c : std::string(k_header) + "OFF-OFF,0,0,1.5,20,40,50,1,2,3,4,100\n") {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const MetricTrace trace = MetricTrace::load(write_file(scratch, crlf));
  ASSERT_NE(trace.at(0, 0, 0), nullptr);
  EXPECT_EQ(trace.at(0, 0, 0)->process_count, 100);
  EXPECT_THAT(load_error(scratch, "# nrmlab metric trace v1\n"),
              HasSubstr(file + ":2: expected '# steps=N', found the end of the file"));
  EXPECT_THAT(load_error(scratch, "# nrmlab metric trace v1\n# steps=3\n"),
              HasSubstr(file + ":3: expected the column header, found the end of the file"));
}

TEST(ReplaySource, RefusesRunsTheTraceCannotServe) {
  ScratchDir scratch;
  const auto path = write_file(scratch, std::string(k_header) +
                                            "OFF-OFF,0,0,1.5,20,40,50,1,2,3,4,100\n"
                                            "OFF-OFF,1,0,1.5,30,40,50,1,2,3,4,100\n");
  auto trace = std::make_shared<const MetricTrace>(MetricTrace::load(path));
  EXPECT_THROW(ReplaySource(trace, ReplayGranularity::step, 4), Error);  // covers 3 steps

  ReplaySource step_source(trace, ReplayGranularity::step, 3);
  EXPECT_THROW(step_source.begin_condition(1), Error);  // no ON-OFF samples
  step_source.begin_condition(0);
  // Step granularity: every call within a step gets its first sample; step 2 holds step 1's.
  EXPECT_EQ(step_source.sample({0, 0, 5}, {}).cpu_percent, 20.0);
  EXPECT_EQ(step_source.sample({0, 2, 0}, {}).cpu_percent, 30.0);

  ReplaySource call_source(trace, ReplayGranularity::call, 3);
  EXPECT_EQ(call_source.sample({0, 1, 0}, {}).cpu_percent, 30.0);
  try {
    call_source.sample({0, 1, 1}, {});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_THAT(
        error.what(),
        HasSubstr("step 1 of condition OFF-OFF has 1 recorded samples; the run asks for sample 2"));
  }
}

}  // namespace
}  // namespace nrmlab::model

// Allocator statistics under each allocator. CTest runs this suite three times in the
// un-sanitized build (ASan replaces malloc): plain (glibc), with libjemalloc preloaded and
// with libmimalloc preloaded; NRMLAB_EXPECT_ALLOCATOR names the allocator expected.
#include "telemetry/allocator.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "telemetry/probes.hpp"
#include "test_support.hpp"
#include "util/sqlite.hpp"

namespace nrmlab {
namespace {

namespace fs = std::filesystem;

std::string expected_allocator() {
  const char* expected = std::getenv("NRMLAB_EXPECT_ALLOCATOR");
  return expected != nullptr ? expected : "";
}

TEST(AllocatorProbe, DetectsTheAllocatorServingMalloc) {
  const auto probe = telemetry::detect_allocator();
  if (expected_allocator().empty()) {
    // A sanitized build: ASan serves malloc and no allocator statistics exist.
    if (probe->name().find("asan") != std::string::npos) GTEST_SKIP() << probe->name();
    EXPECT_EQ(probe->name(), "glibc");
    return;
  }
  EXPECT_EQ(probe->name(), expected_allocator());
  EXPECT_NE(probe->version(), "unknown");
}

TEST(AllocatorProbe, KeptAllocationsShowInTheStatistics) {
  const auto probe = telemetry::detect_allocator();
  if (expected_allocator().empty()) GTEST_SKIP() << "runs in the un-sanitized build only";
  telemetry::ProcessMemory memory;
  const telemetry::AllocatorStats before = probe->read();
  const auto rss_before = memory.rss_bytes().value_or(0);
  std::vector<char*> kept;
  for (int i = 0; i < 64; ++i) {  // 64 MiB in 1 MiB blocks, touched so they are resident
    char* block = static_cast<char*>(std::malloc(1 << 20));
    for (int offset = 0; offset < (1 << 20); offset += 4096)
      block[offset] = 1;
    kept.push_back(block);
  }
  const telemetry::AllocatorStats after = probe->read();
  EXPECT_GE(memory.rss_bytes().value_or(0) - rss_before, 60 << 20);
  if (probe->name() == "mimalloc") {
    // mimalloc reports committed memory only, not live bytes.
    ASSERT_TRUE(after.mapped && before.mapped);
    EXPECT_GE(*after.mapped - *before.mapped, 60 << 20);
    EXPECT_FALSE(after.allocated.has_value());
    EXPECT_FALSE(after.resident.has_value());
  } else {
    ASSERT_TRUE(after.allocated && before.allocated);
    EXPECT_GE(*after.allocated - *before.allocated, 60 << 20);  // other frees may overlap
    ASSERT_TRUE(after.active.has_value());
    EXPECT_GE(*after.active, *after.allocated - (1 << 20));
  }
  if (probe->name() == "jemalloc") {
    EXPECT_TRUE(after.resident && after.mapped && after.retained && after.metadata);
  }
  for (char* block : kept)
    std::free(block);
}

// Runs only in the release build's allocator suite (ctest -L allocator): under ASan a
// preloaded allocator cannot replace the sanitizer's.
TEST(StudyAllocator, TheAllocatorFactorChangesTheAllocatorInEachRunsProvenance) {
  if (std::getenv("NRMLAB_STUDY_ALLOCATOR_TEST") == nullptr)
    GTEST_SKIP() << "run by ctest -L allocator in the release build";
  testing::ScratchDir scratch;
  const fs::path file = scratch / "alloc.toml";
  std::ofstream(file) << R"([study]
name = "alloc"

[run]
source = "synthetic"
steps = 20
max_agents = 8
persistence = "off"
conditions = ["OFF-OFF"]

[factors]
allocator = ["system", "jemalloc", "mimalloc"]
)";
  const fs::path dir = scratch / "out";
  const auto result = testing::run_nrmlab(
      {"study", file.string(), "--out", dir.string(), "--no-analysis"}, scratch);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::map<std::string, std::string> expected = {
      {"system", "glibc"}, {"jemalloc", "jemalloc"}, {"mimalloc", "mimalloc"}};
  const auto manifest = nlohmann::json::parse(testing::read_text(dir / "manifest.json"));
  for (const auto& run : manifest["runs"]) {
    sqlite::Connection db(dir / "runs" / run["id"].get<std::string>() / "telemetry.db");
    sqlite::Statement allocator(db, "SELECT value FROM meta WHERE key = 'allocator'");
    ASSERT_TRUE(allocator.step());
    EXPECT_EQ(allocator.column_text(0), expected.at(run["allocator"].get<std::string>()));
  }
}

}  // namespace
}  // namespace nrmlab

// A "foreign" program for the watch tests: plain C++, not linked against nrmlab. Each step
// sorts a fresh vector whose size grows with the step (and varies around that growth) (a planted
// workload growth, H5), then prints the step marker that `nrmlab watch` reads, with the work as a
// counter.
//   growing_workload STEPS BASE GROWTH
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

int main(int argc, char** argv) {
  const long steps = argc > 1 ? std::atol(argv[1]) : 100;
  const long base = argc > 2 ? std::atol(argv[2]) : 20000;
  const long growth = argc > 3 ? std::atol(argv[3]) : 4000;
  std::mt19937_64 random(42);
  long checksum = 0;
  for (long step = 0; step < steps; ++step) {
    // The work varies by up to 20% from one step to the next around its growth (as real work
    // does), so its cost can be told from a unit cost that rises with the step.
    const long items = (base + growth * step) * (10 + ((step * 7) % 5 - 2)) / 10;
    std::vector<double> values(static_cast<std::size_t>(items));
    for (double& v : values)
      v = static_cast<double>(random() % 1000000);
    std::sort(values.begin(), values.end());
    checksum += static_cast<long>(values[values.size() / 2]);
    std::printf("NRMLAB step=%ld items=%ld\n", step, items);
    std::fflush(stdout);
  }
  std::fprintf(stderr, "checksum %ld\n", checksum);
  return 0;
}

#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "support.hpp"

namespace {

// The console reporter, also giving every test case its own random engine (tests/support.hpp):
// reseeded at the start of each run through the test case, the seed printed when it failed.
// A reporter rather than a Catch2 listener: with a listener Catch2 reports every passing
// assertion too, which costs time and heap allocations (test_allocations counts them).
class SeedingReporter : public Catch::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    current_test_ = info.name;
    depth_ = 0;
    ConsoleReporter::testCaseStarting(info);
  }
  void sectionStarting(const Catch::SectionInfo& info) override {
    if (depth_++ == 0) wsframe::test::reseed(current_test_);  // the test case's own section
    ConsoleReporter::sectionStarting(info);
  }
  void sectionEnded(const Catch::SectionStats& stats) override {
    --depth_;
    ConsoleReporter::sectionEnded(stats);
  }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    if (stats.totals.assertions.failed > 0)
      stream << "test case \"" << stats.testInfo.name << "\" failed with seed WSFRAME_TEST_SEED="
             << wsframe::test::test_random().seed << "\n";
    ConsoleReporter::testCaseEnded(stats);
  }

 private:
  std::string current_test_;
  int depth_ = 0;
};

}  // namespace

CATCH_REGISTER_REPORTER("wsframe", SeedingReporter)

int main(int argc, char* argv[]) {
  Catch::Session session;
  session.configData().reporterName = "wsframe";  // the default; -r picks another
  if (const int status = session.applyCommandLine(argc, argv); status != 0) return status;
  return session.run();
}

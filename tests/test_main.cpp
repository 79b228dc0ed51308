#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "support.hpp"

namespace {

// Gives every test case its own random engine (tests/support.hpp): reseeded at the start of
// each run through the test case, and the seed printed when the test case failed.
class SeedPerTestCase : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  void sectionStarting(const Catch::SectionInfo&) override {
    if (depth_++ == 0) wsframe::test::reseed(current_test_);  // the test case's own section
  }
  void sectionEnded(const Catch::SectionStats&) override { --depth_; }
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    current_test_ = info.name;
    depth_ = 0;
  }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    if (stats.totals.assertions.failed > 0)
      Catch::cout() << "test case \"" << stats.testInfo.name << "\" failed with seed WSFRAME_TEST_SEED="
                    << wsframe::test::test_random().seed << "\n";
  }

 private:
  std::string current_test_;
  int depth_ = 0;
};

}  // namespace

CATCH_REGISTER_LISTENER(SeedPerTestCase)

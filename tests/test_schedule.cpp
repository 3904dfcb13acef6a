// Schedules: closed forms of PyTorch's StepLR, ExponentialLR and CosineAnnealingLR.
#include "test_support.hpp"

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace schedule_test {

using namespace logreg;

TEST_CASE("constant schedule", "[schedule]") {
    for (long long t : {0LL, 1LL, 100LL}) REQUIRE(Schedule::constant()(0.3, t) == 0.3);
}

TEST_CASE("step schedule decays every step_size", "[schedule]") {
    const auto s = Schedule::step(3, 0.5);
    REQUIRE(s(1.0, 0) == 1.0);
    REQUIRE(s(1.0, 2) == 1.0);
    REQUIRE(s(1.0, 3) == 0.5);
    REQUIRE(s(1.0, 6) == 0.25);
    REQUIRE(s(1.0, 8) == 0.25);
}

TEST_CASE("exponential schedule", "[schedule]") {
    const auto s = Schedule::exponential(0.9);
    REQUIRE(s(2.0, 0) == 2.0);
    REQUIRE(s(2.0, 3) == Approx(2.0 * 0.729));
}

TEST_CASE("cosine schedule goes from lr to eta_min over t_max", "[schedule]") {
    const auto s = Schedule::cosine(10, 0.01);
    REQUIRE(s(0.1, 0) == Approx(0.1));
    REQUIRE(s(0.1, 5) == Approx(0.055));
    REQUIRE(s(0.1, 10) == Approx(0.01));
    REQUIRE(s(0.1, 15) == Approx(0.055));  // as PyTorch: past t_max the cosine rises again
    REQUIRE(s(0.1, 20) == Approx(0.1));
}

TEST_CASE("schedule validation names the field", "[schedule][errors]") {
    REQUIRE_THROWS_WITH(Schedule::step(0, 0.5).validate(), logreg_test::contains("'step_size'"));
    REQUIRE_THROWS_WITH(Schedule::exponential(1.5).validate(), logreg_test::contains("'gamma'"));
    REQUIRE_THROWS_WITH(Schedule::cosine(0).validate(), logreg_test::contains("'t_max'"));
    REQUIRE_THROWS_AS(parse_schedule_kind("linear"), InvalidParameter);
    REQUIRE(parse_schedule_kind("exp") == Schedule::Kind::exponential);
}

}  // namespace schedule_test

// SPDX-License-Identifier: LGPL-2.1-or-later
// CIBA push throttling (daemon/push_throttle.hpp) with an injected clock: a burst, then one push
// per interval; a refusal on the phone cools that side down; the local seat's pushes are never
// used up by remote logins.
#include "push_throttle.hpp"
#include "testing.hpp"

using namespace psc;

namespace {

constexpr std::uint64_t kSec = 1'000'000;

PushThrottle throttle() {
    return PushThrottle(PushThrottleLimits{3, std::chrono::seconds(30), std::chrono::seconds(120)});
}

} // namespace

static void test_burst_then_interval(void**) {
    PushThrottle t = throttle();
    std::uint64_t now = 1000 * kSec;
    for (int i = 0; i < 3; ++i)
        assert_ok(t.admit("claire", true, now));
    auto r = t.admit("claire", true, now);
    assert_reason(r, "ciba_throttled");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::busy));
    assert_string_equal(r.error().message.c_str(), "next push for this account in 30 s");
    assert_reason(t.admit("claire", true, now + 29 * kSec), "ciba_throttled");
    assert_ok(t.admit("claire", true, now + 30 * kSec));
    assert_reason(t.admit("claire", true, now + 31 * kSec), "ciba_throttled");
}

// A storm of 100 attempts over 10 minutes lets through the burst plus one per interval.
static void test_storm_cut_at_rate(void**) {
    PushThrottle t = throttle();
    std::uint64_t now = 5000 * kSec;
    int sent = 0;
    for (int i = 0; i < 100; ++i, now += 6 * kSec)
        sent += t.admit("claire", true, now).ok() ? 1 : 0;
    // 600 s: 3 at once, then one per 30 s.
    assert_in_range(sent, 21, 23);
}

static void test_local_seat_keeps_its_pushes(void**) {
    PushThrottle t = throttle();
    const std::uint64_t now = 1000 * kSec;
    for (int i = 0; i < 10; ++i)
        (void)t.admit("claire", true, now);
    assert_reason(t.admit("claire", true, now), "ciba_throttled");
    assert_ok(t.admit("claire", false, now)); // the console is not throttled by remote logins
    assert_ok(t.admit("lucas", true, now));   // nor another person
}

static void test_denial_cools_down(void**) {
    PushThrottle t = throttle();
    const std::uint64_t now = 1000 * kSec;
    assert_ok(t.admit("claire", true, now));
    t.denied("claire", true, now + kSec);
    auto r = t.admit("claire", true, now + 2 * kSec);
    assert_reason(r, "ciba_throttled");
    assert_string_equal(r.error().message.c_str(), "next push for this account in 119 s");
    assert_reason(t.admit("claire", true, now + 120 * kSec), "ciba_throttled");
    assert_ok(t.admit("claire", true, now + 121 * kSec));
    assert_ok(t.admit("claire", false, now + 2 * kSec)); // the other side is not cooled
}

static void test_idle_buckets_are_forgotten(void**) {
    PushThrottle t = throttle();
    std::uint64_t now = 1000 * kSec;
    for (int i = 0; i < 5000; ++i)
        assert_ok(t.admit("user" + std::to_string(i), true, now));
    now += 3600 * kSec;
    assert_ok(t.admit("someone", true, now));
    assert_true(t.size() < 100);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_interval),
        cmocka_unit_test(test_storm_cut_at_rate),
        cmocka_unit_test(test_local_seat_keeps_its_pushes),
        cmocka_unit_test(test_denial_cools_down),
        cmocka_unit_test(test_idle_buckets_are_forgotten),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "random.hpp"
#include "testing.hpp"

#include <set>

using namespace psc;

static void test_tokens_are_long_and_distinct(void**) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto t = random_token();
        assert_ok(t);
        assert_int_equal(t->size(), 43); // 256 bits, base64url without padding
        assert_true(seen.insert(*t).second);
    }
}

static void test_random_below_covers_range(void**) {
    // CIBA binding codes are two digits 00-99: every value must be reachable.
    std::set<unsigned> seen;
    for (int i = 0; i < 20000 && seen.size() < 100; ++i) {
        auto v = random_below(100);
        assert_ok(v);
        assert_true(*v < 100);
        seen.insert(*v);
    }
    assert_int_equal(seen.size(), 100);
    assert_reason(random_below(0), "rng");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_are_long_and_distinct),
        cmocka_unit_test(test_random_below_covers_range),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

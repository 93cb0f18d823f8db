// SPDX-License-Identifier: LGPL-2.1-or-later
// The pending-login counters (daemon/login_counts.hpp): the local seat and remote logins have
// separate budgets, remote logins are also limited per source, and removal frees the slot.
#include "login_counts.hpp"
#include "testing.hpp"

using namespace psc;

static void test_remote_logins_never_fill_the_local_seat(void**) {
    LoginCounts c;
    const LoginCountLimits lim{10, 4, 16};
    for (int i = 0; i < 4; ++i) {
        const CountKey k{"claire", "198.51.100." + std::to_string(i)};
        assert_ok(c.admit(k, lim));
        c.add(k);
    }
    assert_reason(c.admit(CountKey{"claire", "198.51.100.9"}, lim), "too_many_user_logins");
    assert_ok(c.admit(CountKey{"claire", ""}, lim));
    assert_int_equal(c.remote(), 4);
    assert_int_equal(c.local(), 0);
}

static void test_per_source_and_total(void**) {
    LoginCounts c;
    const LoginCountLimits lim{5, 4, 3};
    for (const char* u : {"a", "b", "c"}) {
        assert_ok(c.admit(CountKey{u, "203.0.113.7"}, lim));
        c.add(CountKey{u, "203.0.113.7"});
    }
    assert_reason(c.admit(CountKey{"d", "203.0.113.7"}, lim), "too_many_source_logins");
    c.add(CountKey{"d", "203.0.113.8"});
    c.add(CountKey{"e", "203.0.113.9"});
    assert_reason(c.admit(CountKey{"f", "203.0.113.10"}, lim), "too_many_logins");
    assert_ok(c.admit(CountKey{"f", ""}, lim)); // the local budget is separate
    c.remove(CountKey{"a", "203.0.113.7"});
    assert_ok(c.admit(CountKey{"g", "203.0.113.7"}, lim));
    c.remove(CountKey{"zz", "unknown"}); // never added: harmless
    assert_int_equal(c.remote(), 4);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remote_logins_never_fill_the_local_seat),
        cmocka_unit_test(test_per_source_and_total),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
// The real account lookup (getpwnam_r) against test users served by nss_wrapper; meson runs this
// test with LD_PRELOAD=libnss_wrapper.so and NSS_WRAPPER_PASSWD pointing at tests/data/nss.
#include "mapping.hpp"
#include "testing.hpp"

#include <cstdlib>

using namespace psc;

static void test_nss_wrapper_active(void**) {
    // Guard: without the wrapper the test would silently look at the real /etc/passwd.
    assert_non_null(std::getenv("NSS_WRAPPER_PASSWD"));
}

static void test_lookup_existing_user(void**) {
    NssUserDb db;
    auto u = db.lookup("claire");
    assert_ok(u);
    assert_true(u->has_value());
    assert_int_equal((*u)->uid, 1001);
}

static void test_lookup_missing_user(void**) {
    NssUserDb db;
    auto u = db.lookup("nobody-here");
    assert_ok(u);
    assert_false(u->has_value());
}

static void test_decide_with_real_lookup(void**) {
    NssUserDb db;
    auto map = UserMap::parse("810001234567 claire\n810009999999 root\n", "users.map");
    assert_ok(map);
    PscIdentity claire{"810001234567", {}, {{"10", "C"}}, "CARD"};
    assert_ok(decide(claire, "claire", &map.value(), {}, db));
    PscIdentity admin{"810009999999", {}, {{"10", "C"}}, "CARD"};
    assert_reason(decide(admin, "root", &map.value(), {}, db), "system_user");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nss_wrapper_active),
        cmocka_unit_test(test_lookup_existing_user),
        cmocka_unit_test(test_lookup_missing_user),
        cmocka_unit_test(test_decide_with_real_lookup),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "errors.hpp"
#include "testing.hpp"

using namespace psc;

static void test_every_errc_has_a_distinct_dbus_name(void**) {
    const Errc all[] = {Errc::invalid,      Errc::denied,    Errc::timeout, Errc::unavailable,
                        Errc::unknown_user, Errc::cancelled, Errc::busy,    Errc::config,
                        Errc::io,           Errc::internal};
    for (Errc a : all) {
        const auto name = dbus_error_name(a);
        assert_true(name.starts_with("org.psclogin.Auth1.Error."));
        auto back = errc_from_dbus_error_name(name);
        assert_true(back.has_value());
        assert_int_equal(static_cast<int>(*back), static_cast<int>(a));
        for (Errc b : all)
            if (a != b)
                assert_true(dbus_error_name(b) != name);
    }
}

static void test_spec_names(void**) {
    // Names design §5 fixes; the PAM module and operators' scripts rely on them.
    assert_true(dbus_error_name(Errc::denied) == "org.psclogin.Auth1.Error.Denied");
    assert_true(dbus_error_name(Errc::timeout) == "org.psclogin.Auth1.Error.Timeout");
    assert_true(dbus_error_name(Errc::unavailable) == "org.psclogin.Auth1.Error.Unavailable");
    assert_true(dbus_error_name(Errc::unknown_user) == "org.psclogin.Auth1.Error.UnknownUser");
    assert_true(dbus_error_name(Errc::cancelled) == "org.psclogin.Auth1.Error.Cancelled");
    assert_true(dbus_error_name(Errc::invalid) == "org.psclogin.Auth1.Error.Invalid");
    assert_true(dbus_error_name(Errc::busy) == "org.psclogin.Auth1.Error.Busy");
}

static void test_foreign_names_are_unknown(void**) {
    assert_false(
        errc_from_dbus_error_name("org.freedesktop.DBus.Error.ServiceUnknown").has_value());
    assert_false(errc_from_dbus_error_name("org.psclogin.Auth1.Error.").has_value());
    assert_false(errc_from_dbus_error_name("").has_value());
}

static void test_result_carries_value_or_error(void**) {
    Result<int> good = 42;
    assert_true(good.ok());
    assert_int_equal(*good, 42);
    Result<int> bad = make_error(Errc::denied, "category_denied", "students may not log in");
    assert_false(bad.ok());
    assert_string_equal(bad.error().describe().c_str(), "category_denied: students may not log in");
    Status s = make_error(Errc::io, "", "disk on fire");
    assert_false(s.ok());
    assert_string_equal(s.error().describe().c_str(), "disk on fire");
}

static Status propagate(bool fail) {
    PSC_TRY(fail ? Status(make_error(Errc::busy, "too_many")) : Status());
    return make_error(Errc::internal, "reached_end");
}

static void test_try_macro_propagates(void**) {
    assert_reason(propagate(true), "too_many");
    assert_reason(propagate(false), "reached_end");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_errc_has_a_distinct_dbus_name),
        cmocka_unit_test(test_spec_names),
        cmocka_unit_test(test_foreign_names_are_unknown),
        cmocka_unit_test(test_result_carries_value_or_error),
        cmocka_unit_test(test_try_macro_propagates),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
// The one table from the daemon's errors to PAM codes (design §6), how D-Bus errors are read, and
// the account decision.
#include "bus_client.hpp"
#include "decision.hpp"
#include "error_map.hpp"
#include "testing.hpp"

#include <cstring>
#include <security/_pam_types.h>

using namespace psc;
using namespace psc::pam;

static const Errc kAll[] = {Errc::invalid,      Errc::denied,    Errc::timeout, Errc::unavailable,
                            Errc::unknown_user, Errc::cancelled, Errc::busy,    Errc::config,
                            Errc::io,           Errc::internal};

static void test_unavailable_is_authinfo_unavail(void**) {
    assert_int_equal(pam_failure_for(Errc::unavailable).pam_code, PAM_AUTHINFO_UNAVAIL);
}

static void test_unknown_user_is_user_unknown(void**) {
    assert_int_equal(pam_failure_for(Errc::unknown_user).pam_code, PAM_USER_UNKNOWN);
}

static void test_denied_is_perm_denied(void**) {
    assert_int_equal(pam_failure_for(Errc::denied).pam_code, PAM_PERM_DENIED);
}

static void test_timeout_cancelled_busy_invalid_are_auth_err(void**) {
    for (Errc c : {Errc::timeout, Errc::cancelled, Errc::busy, Errc::invalid})
        assert_int_equal(pam_failure_for(c).pam_code, PAM_AUTH_ERR);
}

static void test_config_io_internal_are_system_err(void**) {
    for (Errc c : {Errc::config, Errc::io, Errc::internal})
        assert_int_equal(pam_failure_for(c).pam_code, PAM_SYSTEM_ERR);
}

static void test_no_error_is_success_or_ignore(void**) {
    for (Errc c : kAll) {
        const int code = pam_failure_for(c).pam_code;
        assert_int_not_equal(code, PAM_SUCCESS);
        assert_int_not_equal(code, PAM_IGNORE);
        // Only "unavailable" may reach a break-glass line.
        if (c != Errc::unavailable)
            assert_int_not_equal(code, PAM_AUTHINFO_UNAVAIL);
    }
}

static void test_bus_daemon_error_keeps_class_and_reason(void**) {
    const Error e =
        error_from_bus("org.psclogin.Auth1.Error.Denied", "category_denied: students may not");
    assert_true(e.code == Errc::denied);
    assert_string_equal(e.reason.c_str(), "category_denied");
}

static void test_bus_daemon_error_without_token_uses_label(void**) {
    const Error e = error_from_bus("org.psclogin.Auth1.Error.UnknownUser", "No Such User: x");
    assert_true(e.code == Errc::unknown_user);
    assert_string_equal(e.reason.c_str(), "unknown-user");
}

static void test_bus_service_unknown_is_unavailable(void**) {
    for (const char* name :
         {"org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
          "org.freedesktop.DBus.Error.NoReply", "org.freedesktop.DBus.Error.Disconnected"}) {
        const Error e = error_from_bus(name, "The name is not activatable");
        assert_true(e.code == Errc::unavailable);
        assert_string_equal(e.reason.c_str(), "daemon_unreachable");
    }
}

// Any other bus error is a fault to fix, not an outage: it must not open the break-glass line.
static void test_bus_other_errors_are_not_unavailable(void**) {
    for (const char* name :
         {"org.freedesktop.DBus.Error.InvalidArgs", "org.freedesktop.DBus.Error.AccessDenied",
          "org.freedesktop.DBus.Error.UnknownMethod", "org.freedesktop.DBus.Error.LimitsExceeded",
          "org.freedesktop.DBus.Error.Failed", "com.example.Whatever"}) {
        const Error e = error_from_bus(name, "x");
        assert_true(e.code == Errc::internal);
        assert_string_equal(e.reason.c_str(), "bus_error");
    }
}

static void test_bus_unknown_daemon_error_is_not_unavailable(void**) {
    const Error e = error_from_bus("org.psclogin.Auth1.Error.Future", "new_thing: x");
    assert_true(e.code == Errc::internal);
    assert_string_equal(e.reason.c_str(), "unknown_daemon_error");
}

static void test_bus_error_message_is_sanitised(void**) {
    const Error e = error_from_bus("org.psclogin.Auth1.Error.Invalid", "bad\x1b[31m: x\ny");
    assert_null(strchr(e.message.c_str(), '\x1b'));
    assert_null(strchr(e.message.c_str(), '\n'));
    assert_string_equal(e.reason.c_str(), "invalid"); // "bad?[31m" is not a token
}

// --- account ---

static void test_account_success_for_same_user(void**) {
    const Decision d{"claire", "810001234567", "10", "CARD", ""};
    assert_int_equal(account_result(&d, &d, "claire", AccountMode::ignore), PAM_SUCCESS);
}

static void test_account_other_user_denied(void**) {
    const Decision d{"claire", "810001234567", "10", "CARD", ""};
    assert_int_equal(account_result(nullptr, &d, "lucas", AccountMode::ignore), PAM_PERM_DENIED);
    assert_int_equal(account_result(nullptr, &d, "lucas", AccountMode::require), PAM_PERM_DENIED);
}

static void test_account_decision_under_wrong_key_denied(void**) {
    const Decision d{"claire", "810001234567", "10", "CARD", ""};
    assert_int_equal(account_result(&d, nullptr, "lucas", AccountMode::ignore), PAM_PERM_DENIED);
}

static void test_account_without_decision(void**) {
    assert_int_equal(account_result(nullptr, nullptr, "claire", AccountMode::ignore), PAM_IGNORE);
    assert_int_equal(account_result(nullptr, nullptr, "claire", AccountMode::require),
                     PAM_PERM_DENIED);
}

static void test_decision_key(void**) {
    assert_string_equal(decision_key("claire").c_str(), "pam_psc_decision:claire");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unavailable_is_authinfo_unavail),
        cmocka_unit_test(test_unknown_user_is_user_unknown),
        cmocka_unit_test(test_denied_is_perm_denied),
        cmocka_unit_test(test_timeout_cancelled_busy_invalid_are_auth_err),
        cmocka_unit_test(test_config_io_internal_are_system_err),
        cmocka_unit_test(test_no_error_is_success_or_ignore),
        cmocka_unit_test(test_bus_daemon_error_keeps_class_and_reason),
        cmocka_unit_test(test_bus_daemon_error_without_token_uses_label),
        cmocka_unit_test(test_bus_service_unknown_is_unavailable),
        cmocka_unit_test(test_bus_other_errors_are_not_unavailable),
        cmocka_unit_test(test_bus_unknown_daemon_error_is_not_unavailable),
        cmocka_unit_test(test_bus_error_message_is_sanitised),
        cmocka_unit_test(test_account_success_for_same_user),
        cmocka_unit_test(test_account_other_user_denied),
        cmocka_unit_test(test_account_decision_under_wrong_key_denied),
        cmocka_unit_test(test_account_without_decision),
        cmocka_unit_test(test_decision_key),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

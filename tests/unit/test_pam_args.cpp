// SPDX-License-Identifier: LGPL-2.1-or-later
// pam_psc(8) module arguments: each one sets what it says; unknown ones and bad values are
// reported and leave the defaults in force.
#include "pam_args.hpp"
#include "testing.hpp"

#include <cstring>

using namespace psc::pam;

static ParsedArgs parse(std::vector<const char*> argv) {
    return parse_args(static_cast<int>(argv.size()), argv.data());
}

static void test_defaults(void**) {
    const auto p = parse({});
    assert_false(p.options.debug);
    assert_true(p.options.flows.empty());
    assert_false(p.options.timeout.has_value());
    assert_true(p.options.qr == QrMode::automatic);
    assert_true(p.options.prompt == PromptMode::automatic);
    assert_true(p.options.lang == Lang::automatic);
    assert_false(p.options.env);
    assert_true(p.options.account == AccountMode::ignore);
    assert_true(p.warnings.empty());
}

static void test_every_argument(void**) {
    const auto p = parse({"debug", "flows=ciba,code", "timeout=120", "qr=on", "prompt=always",
                          "lang=fr", "env", "account=require"});
    assert_true(p.warnings.empty());
    assert_true(p.options.debug);
    assert_int_equal(p.options.flows.size(), 2);
    assert_string_equal(p.options.flows[0].c_str(), "ciba");
    assert_string_equal(p.options.flows[1].c_str(), "code");
    assert_int_equal(p.options.timeout->count(), 120);
    assert_true(p.options.qr == QrMode::on);
    assert_true(p.options.prompt == PromptMode::always);
    assert_true(p.options.lang == Lang::fr);
    assert_true(p.options.env);
    assert_true(p.options.account == AccountMode::require);
}

static void test_other_enum_values(void**) {
    const auto p = parse({"qr=off", "prompt=never", "lang=en"});
    assert_true(p.options.qr == QrMode::off);
    assert_true(p.options.prompt == PromptMode::never);
    assert_true(p.options.lang == Lang::en);
    assert_true(parse({"lang=both"}).options.lang == Lang::both);
    assert_true(parse({"qr=on", "qr=auto"}).options.qr == QrMode::automatic); // last one wins
}

static void test_unknown_argument_is_reported_and_ignored(void**) {
    const auto p = parse({"nullok", "qr=off", "use_first_pass"});
    assert_int_equal(p.warnings.size(), 2);
    assert_non_null(strstr(p.warnings[0].c_str(), "unknown argument \"nullok\" ignored"));
    assert_non_null(strstr(p.warnings[1].c_str(), "use_first_pass"));
    assert_true(p.options.qr == QrMode::off); // the known ones still apply
}

static void test_unknown_argument_control_chars_are_not_logged(void**) {
    const auto p = parse({"x\n\x1b[31m"});
    assert_int_equal(p.warnings.size(), 1);
    assert_null(strchr(p.warnings[0].c_str(), '\n'));
    assert_null(strchr(p.warnings[0].c_str(), '\x1b'));
}

static void test_bad_enum_value_keeps_default(void**) {
    const auto p = parse({"qr=maybe", "prompt=", "lang=de", "account=sometimes"});
    assert_int_equal(p.warnings.size(), 4);
    assert_true(p.options.qr == QrMode::automatic);
    assert_true(p.options.prompt == PromptMode::automatic);
    assert_true(p.options.lang == Lang::automatic);
    assert_true(p.options.account == AccountMode::ignore);
}

static void test_timeout_out_of_range_keeps_default(void**) {
    for (const char* a : {"timeout=4", "timeout=3601", "timeout=-5", "timeout=+60", "timeout=60s",
                          "timeout=", "timeout=99999999999999999999"}) {
        const auto p = parse({a});
        assert_int_equal(p.warnings.size(), 1);
        assert_false(p.options.timeout.has_value());
    }
    assert_int_equal(parse({"timeout=5"}).options.timeout->count(), 5);
    assert_int_equal(parse({"timeout=3600"}).options.timeout->count(), 3600);
}

static void test_flows_list_trimmed_and_empty_rejected(void**) {
    auto p = parse({"flows=,ciba,,device,"});
    assert_int_equal(p.options.flows.size(), 2);
    assert_string_equal(p.options.flows[1].c_str(), "device");
    p = parse({"flows=,,"});
    assert_int_equal(p.warnings.size(), 1);
    assert_true(p.options.flows.empty());
}

static void test_key_without_value_is_unknown(void**) {
    const auto p = parse({"timeout", "flows", "debug=1"});
    assert_int_equal(p.warnings.size(), 3);
    assert_false(p.options.debug);
}

static void test_null_argv_entries(void**) {
    const char* argv[] = {nullptr, "debug"};
    const auto p = parse_args(2, argv);
    assert_true(p.options.debug);
    assert_true(parse_args(3, nullptr).warnings.empty());
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_argument),
        cmocka_unit_test(test_other_enum_values),
        cmocka_unit_test(test_unknown_argument_is_reported_and_ignored),
        cmocka_unit_test(test_unknown_argument_control_chars_are_not_logged),
        cmocka_unit_test(test_bad_enum_value_keeps_default),
        cmocka_unit_test(test_timeout_out_of_range_keeps_default),
        cmocka_unit_test(test_flows_list_trimmed_and_empty_rejected),
        cmocka_unit_test(test_key_without_value_is_unknown),
        cmocka_unit_test(test_null_argv_entries),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

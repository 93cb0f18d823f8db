// SPDX-License-Identifier: LGPL-2.1-or-later
#include "json.hpp"
#include "testing.hpp"

using namespace psc;

static void test_parses_object_and_reads_members(void**) {
    auto r = json_parse_object(R"({"iss":"https://x","exp":1700000000,"aud":["a","b"],
                                   "ok":true,"nested":{"k":1}})");
    assert_ok(r);
    auto iss = json_get_string(r->get(), "iss");
    assert_ok(iss);
    assert_true(**iss == "https://x");
    auto exp = json_get_int64(r->get(), "exp");
    assert_ok(exp);
    assert_int_equal(**exp, 1700000000);
    auto aud = json_get_string_or_array(r->get(), "aud");
    assert_ok(aud);
    assert_int_equal((*aud)->size(), 2);
    auto b = json_get_bool(r->get(), "ok");
    assert_ok(b);
    assert_true(**b);
    auto n = json_get_object(r->get(), "nested");
    assert_ok(n);
    assert_non_null(*n);
}

static void test_absent_is_not_an_error(void**) {
    auto r = json_parse_object("{}");
    assert_ok(r);
    auto s = json_get_string(r->get(), "nonce");
    assert_ok(s);
    assert_false(s->has_value());
    auto i = json_get_int64(r->get(), "exp");
    assert_ok(i);
    assert_false(i->has_value());
}

static void test_wrong_types_are_errors(void**) {
    auto r = json_parse_object(R"({"iss":1,"exp":"1700000000","aud":[1],"n":null,"o":[]})");
    assert_ok(r);
    assert_reason(json_get_string(r->get(), "iss"), "json_type");
    assert_reason(json_get_int64(r->get(), "exp"), "json_type"); // no string→number coercion
    assert_reason(json_get_string_or_array(r->get(), "aud"), "json_type");
    assert_reason(json_get_string(r->get(), "n"), "json_type");
    assert_reason(json_get_object(r->get(), "o"), "json_type");
}

static void test_embedded_nul_refused(void**) {
    auto r = json_parse_object(R"({"preferred_username":"alice\u0000root"})");
    assert_ok(r);
    assert_reason(json_get_string(r->get(), "preferred_username"), "json_nul");
}

static void test_numbers(void**) {
    auto r = json_parse_object(R"({"f":1700000000.75,"big":9223372036854775808,"neg":-5})");
    assert_ok(r);
    auto f = json_get_int64(r->get(), "f");
    assert_ok(f);
    assert_int_equal(**f, 1700000000);
    assert_reason(json_get_int64(r->get(), "big"), "json_type");
    auto neg = json_get_int64(r->get(), "neg");
    assert_ok(neg);
    assert_int_equal(**neg, -5);
}

static void test_size_limit_checked_first(void**) {
    JsonLimits lim;
    lim.max_bytes = 10;
    assert_reason(json_parse(R"({"a":"bcdef"})", lim), "json_too_large");
}

static void test_depth_limit(void**) {
    std::string deep(40, '[');
    deep += std::string(40, ']');
    assert_reason(json_parse(deep), "json_too_deep");
    std::string ok(20, '[');
    ok += std::string(20, ']');
    assert_ok(json_parse(ok));
}

static void test_strict_grammar(void**) {
    assert_reason(json_parse(R"({"a":1,})"), "json_syntax");  // trailing comma
    assert_reason(json_parse(R"({'a':1})"), "json_syntax");   // single quotes
    assert_reason(json_parse(R"({"a":1} x)"), "json_syntax"); // trailing data
    assert_reason(json_parse(R"({"a":1}{"b":2})"), "json_syntax");
    assert_reason(json_parse(R"({"a":)"), "json_syntax"); // truncated
    assert_reason(json_parse("null"), "json_syntax");
    assert_reason(json_parse(""), "json_syntax");
    assert_ok(json_parse(" {\"a\":1} \n"));
}

static void test_invalid_utf8_refused(void**) {
    assert_reason(json_parse("{\"a\":\"\xff\xfe\"}"), "json_syntax");
}

static void test_top_level_must_be_object(void**) {
    assert_reason(json_parse_object("[1,2]"), "json_not_object");
    assert_reason(json_parse_object("\"x\""), "json_not_object");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_object_and_reads_members),
        cmocka_unit_test(test_absent_is_not_an_error),
        cmocka_unit_test(test_wrong_types_are_errors),
        cmocka_unit_test(test_embedded_nul_refused),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_size_limit_checked_first),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_strict_grammar),
        cmocka_unit_test(test_invalid_utf8_refused),
        cmocka_unit_test(test_top_level_must_be_object),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "callback.hpp"
#include "testing.hpp"

#include <cstring>

using namespace psc;

namespace {

constexpr const char* kIssuer = "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet";
constexpr const char* kIssEnc =
    "https%3A%2F%2Fauth.esw.esante.gouv.fr%2Fauth%2Frealms%2Fesante-wallet";
constexpr const char* kState = "Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo";

CallbackExpectation expect(std::string_view redirect = "https://bastion.example/callback",
                           bool iss_supported = true) {
    return CallbackExpectation{kState, redirect, kIssuer, iss_supported};
}

std::string target(std::string_view extra = "") {
    return std::string("/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=") + kState +
           "&iss=" + kIssEnc + "&session_state=abc" + std::string(extra);
}

std::string pasted(std::string_view base = "https://bastion.example/callback") {
    return std::string(base) + "?code=SplxlOBeZQQYbYS6WxSbIA&state=" + kState + "&iss=" + kIssEnc;
}

Status check_target(const std::string& t, const CallbackExpectation& e = expect()) {
    auto r = parse_callback_target(t);
    if (!r)
        return std::move(r).error();
    return check_callback(*r, e);
}

Status check_pasted(const std::string& a, const CallbackExpectation& e = expect()) {
    auto r = parse_pasted_callback(a);
    if (!r)
        return std::move(r).error();
    return check_callback(*r, e);
}

std::string error_target(std::string_view error, std::string_view desc) {
    return std::string("/callback?error=") + std::string(error) +
           "&error_description=" + std::string(desc) + "&state=" + kState + "&iss=" + kIssEnc;
}

} // namespace

static void test_listener_target_ok(void**) {
    auto r = parse_callback_target(target());
    assert_ok(r);
    assert_string_equal(r->code.c_str(), "SplxlOBeZQQYbYS6WxSbIA");
    assert_string_equal(r->state.c_str(), kState);
    assert_string_equal(r->iss->c_str(), kIssuer);
    assert_string_equal(r->address.path.c_str(), "/callback");
    assert_false(r->error.has_value());
    assert_ok(check_callback(*r, expect()));
}

static void test_pasted_address_ok(void**) {
    auto r = parse_pasted_callback("  \t" + pasted() + " \r\n");
    assert_ok(r);
    assert_string_equal(r->code.c_str(), "SplxlOBeZQQYbYS6WxSbIA");
    assert_ok(check_callback(*r, expect()));
    // Default port and host case are normalised.
    assert_ok(check_pasted(pasted("https://Bastion.Example:443/callback")));
    // A loopback redirect_uri pasted back from another machine's browser.
    assert_ok(check_pasted(pasted("http://127.0.0.1:8765/callback"),
                           expect("http://127.0.0.1:8765/callback")));
}

static void test_pasted_empty_fragment_ok(void**) {
    assert_ok(check_pasted(pasted() + "#"));
}

static void test_rejects_missing_state(void**) {
    assert_reason(parse_callback_target("/callback?code=abc"), "callback_state_missing");
    assert_reason(parse_callback_target("/callback?code=abc&state="), "callback_state_missing");
}

static void test_rejects_wrong_state(void**) {
    auto e = expect();
    e.state = "another-login-state-Zm9vYmFyYmF6cXV4cXV1eHF1dX";
    assert_reason(check_target(target(), e), "callback_state_mismatch");
    e.state = "";
    assert_reason(check_target(target(), e), "callback_state_mismatch");
}

static void test_rejects_duplicate_parameter(void**) {
    assert_reason(parse_callback_target(target("&code=other")), "callback_duplicate_param");
    assert_reason(parse_pasted_callback(pasted() + "&state=x"), "callback_duplicate_param");
}

static void test_rejects_oversize(void**) {
    assert_reason(parse_callback_target(target("&pad=" + std::string(8192, 'a'))),
                  "callback_too_large");
    assert_reason(parse_pasted_callback(pasted() + "&pad=" + std::string(8192, 'a')),
                  "callback_too_large");
}

static void test_rejects_value_too_long(void**) {
    const std::string t =
        std::string("/callback?state=") + kState + "&code=" + std::string(2049, 'c');
    assert_reason(parse_callback_target(t), "callback_value_too_long");
    assert_ok(parse_callback_target(std::string("/callback?state=") + kState +
                                    "&code=" + std::string(2048, 'c')));
}

static void test_rejects_too_many_params(void**) {
    std::string t = target();
    for (int i = 0; i < 70; ++i)
        t += "&p" + std::to_string(i) + "=1";
    assert_reason(parse_callback_target(t), "callback_too_many_params");
}

static void test_rejects_bad_percent_encoding(void**) {
    assert_reason(parse_callback_target(target("&x=%zz")), "callback_bad_encoding");
    assert_reason(parse_callback_target(target("&x=%00")), "callback_bad_encoding");
    assert_reason(parse_callback_target(target("&x=%C3")), "callback_bad_encoding");
}

static void test_rejects_bad_target(void**) {
    assert_reason(parse_callback_target("callback?code=1&state=2"), "callback_bad_target");
    assert_reason(parse_callback_target(""), "callback_bad_target");
    assert_reason(parse_callback_target("/callback?code=1 &state=2"), "callback_bad_target");
    assert_reason(parse_callback_target("/callback?code=1&state=2#x"), "callback_bad_target");
}

static void test_rejects_fragment_response(void**) {
    assert_reason(parse_pasted_callback(
                      std::string("https://bastion.example/callback#code=1&state=") + kState),
                  "callback_fragment");
    assert_reason(parse_pasted_callback(pasted() + "#x"), "callback_fragment");
}

static void test_rejects_pasted_not_url(void**) {
    assert_reason(parse_pasted_callback("code=1&state=2"), "callback_not_url");
    assert_reason(parse_pasted_callback("javascript:alert(1)"), "callback_not_url");
    assert_reason(parse_pasted_callback("https://user@bastion.example/callback?code=1&state=2"),
                  "callback_not_url");
}

static void test_rejects_pasted_empty(void**) {
    assert_reason(parse_pasted_callback(""), "callback_empty");
    assert_reason(parse_pasted_callback(" \n\t"), "callback_empty");
}

static void test_rejects_neither_code_nor_error(void**) {
    assert_reason(parse_callback_target(std::string("/callback?state=") + kState),
                  "callback_code_missing");
    assert_reason(parse_callback_target(std::string("/callback?code=&state=") + kState),
                  "callback_code_missing");
}

static void test_rejects_code_and_error(void**) {
    assert_reason(parse_callback_target(target("&error=access_denied")), "callback_code_and_error");
}

static void test_rejects_iss_mismatch(void**) {
    const std::string t = std::string("/callback?code=abc&state=") + kState +
                          "&iss=https%3A%2F%2Fevil.example%2Frealms%2Fesante-wallet";
    assert_reason(check_target(t), "callback_iss_mismatch");
    // Byte for byte: a trailing slash is another issuer.
    assert_reason(
        check_target(std::string("/callback?code=abc&state=") + kState + "&iss=" + kIssEnc + "%2F"),
        "callback_iss_mismatch");
}

static void test_iss_missing_rejected_when_advertised(void**) {
    const std::string t = std::string("/callback?code=abc&state=") + kState;
    assert_reason(check_target(t, expect("https://bastion.example/callback", true)),
                  "callback_iss_missing");
}

static void test_iss_missing_accepted_when_not_advertised(void**) {
    const std::string t = std::string("/callback?code=abc&state=") + kState;
    assert_ok(check_target(t, expect("https://bastion.example/callback", false)));
}

static void test_iss_checked_on_error_response(void**) {
    const std::string t = std::string("/callback?error=access_denied&state=") + kState +
                          "&iss=https%3A%2F%2Fevil.example";
    assert_reason(check_target(t), "callback_iss_mismatch");
}

static void test_error_response_access_denied(void**) {
    auto s = check_target(error_target("access_denied", "L%27utilisateur+a+annul%C3%A9"));
    assert_reason(s, "access_denied");
    assert_true(s.error().code == Errc::denied);
    assert_non_null(strstr(s.error().message.c_str(), "L'utilisateur a annulé"));
}

static void test_error_response_sanitised(void**) {
    // Control characters (ESC sequences, NUL-free bell) and markup must not reach a terminal or
    // page.
    auto s = check_target(
        error_target("invalid_scope",
                     "%1B%5B31mred%07+%3Cscript%3Ealert(1)%3C%2Fscript%3E%0A%0Dline2%E2%80%AEx"));
    assert_reason(s, "provider_error");
    const std::string& m = s.error().message;
    for (char c : m) {
        assert_false(static_cast<unsigned char>(c) < 0x20 || c == 0x7f);
        assert_false(c == '<' || c == '>');
    }
    assert_non_null(strstr(m.c_str(), "[31mred scriptalert(1)/script line2x"));
    assert_null(strstr(m.c_str(), "\xE2\x80\xAE")); // RIGHT-TO-LEFT OVERRIDE dropped
    // Zero-width and isolate characters are dropped too (provider text at the prompt, the page).
    assert_string_equal(
        sanitize_provider_text("a\u200bb\u2066c\u2069d\ufeffe\u2028f\u200dg").c_str(), "abcdefg");
}

static void test_error_response_capped(void**) {
    // Through the browser, even the provider's own "server_error" is the user's input: a refusal.
    auto s = check_target(error_target("server_error", std::string(900, 'x')));
    assert_reason(s, "authorization_server_error");
    assert_true(s.error().code == Errc::invalid);
    assert_true(s.error().message.size() < 300);
}

static void test_error_response_login_required(void**) {
    assert_reason(check_target(error_target("login_required", "")), "login_required");
    auto t = check_target(error_target("temporarily_unavailable", ""));
    assert_reason(t, "authorization_server_error");
    assert_true(t.error().code == Errc::invalid);
}

static void test_redirect_mismatch_other_host(void**) {
    assert_reason(check_pasted(pasted("https://evil.example/callback")),
                  "callback_redirect_mismatch");
}

static void test_redirect_mismatch_other_port(void**) {
    assert_reason(check_pasted(pasted("https://bastion.example:8443/callback")),
                  "callback_redirect_mismatch");
}

static void test_redirect_mismatch_other_path(void**) {
    assert_reason(check_pasted(pasted("https://bastion.example/callback2")),
                  "callback_redirect_mismatch");
    assert_reason(check_pasted(pasted("https://bastion.example/")), "callback_redirect_mismatch");
}

static void test_redirect_mismatch_other_scheme(void**) {
    assert_reason(check_pasted(pasted("http://bastion.example/callback")),
                  "callback_redirect_mismatch");
}

static void test_redirect_mismatch_checked_before_error(void**) {
    const std::string a = std::string("https://evil.example/callback?error=access_denied&state=") +
                          kState + "&iss=" + kIssEnc;
    assert_reason(check_pasted(a), "callback_redirect_mismatch");
}

static void test_sanitize_provider_text(void**) {
    assert_string_equal(sanitize_provider_text("a\tb\n\nc").c_str(), "a b c");
    assert_string_equal(sanitize_provider_text("bad\xff byte").c_str(), "bad? byte");
    assert_string_equal(sanitize_provider_text("\xc2\x9b"
                                               "31m")
                            .c_str(),
                        "31m"); // C1 CSI
    assert_string_equal(sanitize_provider_text("abcdef", 3).c_str(), "abc...");
    // Never cuts a multi-byte character in half.
    assert_string_equal(sanitize_provider_text("aé", 2).c_str(), "a...");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener_target_ok),
        cmocka_unit_test(test_pasted_address_ok),
        cmocka_unit_test(test_pasted_empty_fragment_ok),
        cmocka_unit_test(test_rejects_missing_state),
        cmocka_unit_test(test_rejects_wrong_state),
        cmocka_unit_test(test_rejects_duplicate_parameter),
        cmocka_unit_test(test_rejects_oversize),
        cmocka_unit_test(test_rejects_value_too_long),
        cmocka_unit_test(test_rejects_too_many_params),
        cmocka_unit_test(test_rejects_bad_percent_encoding),
        cmocka_unit_test(test_rejects_bad_target),
        cmocka_unit_test(test_rejects_fragment_response),
        cmocka_unit_test(test_rejects_pasted_not_url),
        cmocka_unit_test(test_rejects_pasted_empty),
        cmocka_unit_test(test_rejects_neither_code_nor_error),
        cmocka_unit_test(test_rejects_code_and_error),
        cmocka_unit_test(test_rejects_iss_mismatch),
        cmocka_unit_test(test_iss_missing_rejected_when_advertised),
        cmocka_unit_test(test_iss_missing_accepted_when_not_advertised),
        cmocka_unit_test(test_iss_checked_on_error_response),
        cmocka_unit_test(test_error_response_access_denied),
        cmocka_unit_test(test_error_response_sanitised),
        cmocka_unit_test(test_error_response_capped),
        cmocka_unit_test(test_error_response_login_required),
        cmocka_unit_test(test_redirect_mismatch_other_host),
        cmocka_unit_test(test_redirect_mismatch_other_port),
        cmocka_unit_test(test_redirect_mismatch_other_path),
        cmocka_unit_test(test_redirect_mismatch_other_scheme),
        cmocka_unit_test(test_redirect_mismatch_checked_before_error),
        cmocka_unit_test(test_sanitize_provider_text),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "testing.hpp"
#include "token_response.hpp"

#include <cstring>

using namespace psc;
using std::chrono::seconds;

namespace {

constexpr const char* kTokens =
    R"({"access_token":"at-123","token_type":"Bearer","expires_in":120,"refresh_token":"rt-456",)"
    R"("refresh_expires_in":1800,"id_token":"eyJ.h.s","scope":"openid scope_all","not-before-policy":0})";

OAuthError expect_oauth_error(int status, const std::string& body) {
    auto r = parse_token_response(status, body);
    assert_ok(r);
    assert_true(std::holds_alternative<OAuthError>(*r));
    return std::get<OAuthError>(*r);
}

std::string error_body(const char* code) {
    return std::string(R"({"error":")") + code + R"(","error_description":"d"})";
}

} // namespace

static void test_token_response_ok(void**) {
    auto r = parse_token_response(200, kTokens);
    assert_ok(r);
    const auto& t = std::get<TokenResponse>(*r);
    assert_string_equal(t.access_token.c_str(), "at-123");
    assert_string_equal(t.id_token.c_str(), "eyJ.h.s");
    assert_string_equal(t.refresh_token.c_str(), "rt-456");
    assert_int_equal(*t.expires_in, 120);
    assert_string_equal(t.scope->c_str(), "openid scope_all");
}

static void test_token_type_case_insensitive(void**) {
    auto r =
        parse_token_response(200, R"({"access_token":"a","token_type":"bEARER","id_token":"x"})");
    assert_ok(r);
    assert_false(std::get<TokenResponse>(*r).expires_in.has_value());
}

static void test_rejects_wrong_token_type(void**) {
    assert_reason(
        parse_token_response(200, R"({"access_token":"a","token_type":"DPoP","id_token":"x"})"),
        "token_type_unsupported");
    assert_reason(
        parse_token_response(200, R"({"access_token":"a","token_type":"Bearer2","id_token":"x"})"),
        "token_type_unsupported");
}

static void test_rejects_missing_token_type(void**) {
    assert_reason(parse_token_response(200, R"({"access_token":"a","id_token":"x"})"),
                  "token_type_missing");
}

static void test_rejects_missing_access_token(void**) {
    assert_reason(parse_token_response(200, R"({"token_type":"Bearer","id_token":"x"})"),
                  "access_token_missing");
    assert_reason(
        parse_token_response(200, R"({"access_token":"","token_type":"Bearer","id_token":"x"})"),
        "access_token_missing");
}

static void test_rejects_missing_id_token(void**) {
    const char* body = R"({"access_token":"a","token_type":"Bearer"})";
    assert_reason(parse_token_response(200, body), "id_token_missing");
    // A refresh response may omit it (OIDC Core §12.2).
    assert_ok(parse_token_response(200, body, false));
}

static void test_rejects_bad_expires_in(void**) {
    assert_reason(
        parse_token_response(
            200, R"({"access_token":"a","token_type":"Bearer","id_token":"x","expires_in":0})"),
        "expires_in_invalid");
    assert_reason(
        parse_token_response(
            200, R"({"access_token":"a","token_type":"Bearer","id_token":"x","expires_in":"60"})"),
        "expires_in_invalid");
}

static void test_rejects_wrong_member_type(void**) {
    assert_reason(
        parse_token_response(200, R"({"access_token":1,"token_type":"Bearer","id_token":"x"})"),
        "response_invalid");
}

static void test_rejects_oversize_id_token(void**) {
    const std::string body = R"({"access_token":"a","token_type":"Bearer","id_token":")" +
                             std::string(16 * 1024 + 1, 'x') + "\"}";
    assert_reason(parse_token_response(200, body), "response_invalid");
}

static void test_rejects_non_json(void**) {
    assert_reason(parse_token_response(200, "<html>hello</html>"), "response_not_json");
    assert_reason(parse_token_response(400, "Bad Request"), "response_not_json");
    assert_reason(parse_token_response(200, "[]"), "response_not_json");
}

static void test_unavailable_on_5xx(void**) {
    for (int status : {500, 502, 503, 504}) {
        auto r = parse_token_response(status, error_body("server_error"));
        assert_reason(r, "provider_unavailable");
        assert_true(r.error().code == Errc::unavailable);
    }
}

static void test_unexpected_status(void**) {
    assert_reason(parse_token_response(302, ""), "http_status");
    assert_reason(parse_token_response(204, ""), "http_status");
    assert_reason(parse_token_response(0, kTokens), "http_status");
}

static void test_error_without_error_member(void**) {
    assert_reason(parse_token_response(400, R"({"message":"nope"})"), "response_invalid");
    assert_reason(parse_token_response(401, R"({"error":5})"), "response_invalid");
}

static void test_every_error_code(void**) {
    const std::pair<const char*, OAuthErrorKind> cases[] = {
        {"authorization_pending", OAuthErrorKind::authorization_pending},
        {"slow_down", OAuthErrorKind::slow_down},
        {"access_denied", OAuthErrorKind::access_denied},
        {"expired_token", OAuthErrorKind::expired_token},
        {"invalid_grant", OAuthErrorKind::invalid_grant},
        {"invalid_request", OAuthErrorKind::invalid_request},
        {"invalid_client", OAuthErrorKind::invalid_client},
        {"unauthorized_client", OAuthErrorKind::unauthorized_client},
        {"unknown_user_id", OAuthErrorKind::unknown_user_id},
        {"transaction_failed", OAuthErrorKind::other},
    };
    for (const auto& [code, kind] : cases) {
        auto e = expect_oauth_error(400, error_body(code));
        assert_true(e.kind == kind);
        assert_string_equal(e.error.c_str(), code);
        assert_string_equal(e.description.c_str(), "d");
        assert_int_equal(e.http_status, 400);
        assert_int_equal(oauth_error_is_pending(kind),
                         kind == OAuthErrorKind::authorization_pending ||
                             kind == OAuthErrorKind::slow_down);
    }
    // Keycloak answers invalid_client with 401.
    assert_true(expect_oauth_error(401, error_body("invalid_client")).kind ==
                OAuthErrorKind::invalid_client);
}

static void test_oauth_error_to_error(void**) {
    auto err = [](const char* code) {
        return oauth_error_to_error(expect_oauth_error(400, error_body(code)));
    };
    assert_true(err("access_denied").code == Errc::denied);
    assert_string_equal(err("access_denied").reason.c_str(), "access_denied");
    assert_true(err("expired_token").code == Errc::timeout);
    assert_string_equal(err("expired_token").reason.c_str(), "expired_token");
    assert_true(err("unknown_user_id").code == Errc::unknown_user);
    assert_true(err("invalid_client").code == Errc::config);
    assert_true(err("unauthorized_client").code == Errc::config);
    assert_true(err("invalid_grant").code == Errc::invalid);
    assert_string_equal(err("invalid_request").reason.c_str(), "invalid_request");
    assert_string_equal(err("transaction_failed").reason.c_str(), "provider_error");
}

static void test_error_description_sanitised(void**) {
    auto e = expect_oauth_error(
        400, R"({"error":"access_denied","error_description":"no\u001b[2J<b>way</b>\r\n!"})");
    assert_string_equal(e.description.c_str(), "no[2Jbway/b !");
    auto msg = oauth_error_to_error(e).message;
    assert_null(strchr(msg.c_str(), '\x1b'));
}

static void test_ciba_auth_response_ok(void**) {
    auto r = parse_ciba_auth_response(
        200,
        R"({"auth_req_id":"1c266114-a1be-4252-8ad1-04986c5b9ac1","expires_in":120,"interval":2})");
    assert_ok(r);
    const auto& c = std::get<CibaAuthResponse>(*r);
    assert_string_equal(c.auth_req_id.c_str(), "1c266114-a1be-4252-8ad1-04986c5b9ac1");
    assert_true(c.expires_in == seconds(120));
    assert_true(c.interval == seconds(2));
}

static void test_ciba_interval_default_and_clamp(void**) {
    auto r = parse_ciba_auth_response(200, R"({"auth_req_id":"x","expires_in":120})");
    assert_ok(r);
    assert_true(std::get<CibaAuthResponse>(*r).interval == seconds(5));
    auto z = parse_ciba_auth_response(200, R"({"auth_req_id":"x","expires_in":120,"interval":0})");
    assert_ok(z);
    assert_true(std::get<CibaAuthResponse>(*z).interval == kMinPollInterval);
    auto big =
        parse_ciba_auth_response(200, R"({"auth_req_id":"x","expires_in":120,"interval":86400})");
    assert_ok(big);
    assert_true(std::get<CibaAuthResponse>(*big).interval == kMaxPollInterval);
    assert_reason(
        parse_ciba_auth_response(200, R"({"auth_req_id":"x","expires_in":120,"interval":"5"})"),
        "response_invalid");
}

static void test_ciba_rejects_missing_auth_req_id(void**) {
    assert_reason(parse_ciba_auth_response(200, R"({"expires_in":120})"), "auth_req_id_missing");
    assert_reason(parse_ciba_auth_response(200, R"({"auth_req_id":"","expires_in":120})"),
                  "auth_req_id_missing");
}

static void test_ciba_rejects_bad_expires_in(void**) {
    assert_reason(parse_ciba_auth_response(200, R"({"auth_req_id":"x"})"), "expires_in_invalid");
    assert_reason(parse_ciba_auth_response(200, R"({"auth_req_id":"x","expires_in":0})"),
                  "expires_in_invalid");
    assert_reason(parse_ciba_auth_response(200, R"({"auth_req_id":"x","expires_in":-5})"),
                  "expires_in_invalid");
    assert_reason(parse_ciba_auth_response(200, R"({"auth_req_id":"x","expires_in":99999999})"),
                  "expires_in_invalid");
}

static void test_ciba_auth_error_unknown_user(void**) {
    auto r = parse_ciba_auth_response(400, error_body("unknown_user_id"));
    assert_ok(r);
    assert_true(std::get<OAuthError>(*r).kind == OAuthErrorKind::unknown_user_id);
    assert_reason(parse_ciba_auth_response(503, "Service Unavailable"), "provider_unavailable");
}

static const char* kDevice =
    R"({"device_code":"GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS","user_code":"WDJB-MJHT",)"
    R"("verification_uri":"https://example.com/device",)"
    R"("verification_uri_complete":"https://example.com/device?user_code=WDJB-MJHT",)"
    R"("expires_in":1800,"interval":5})";

static void test_device_response_ok(void**) {
    auto r = parse_device_auth_response(200, kDevice);
    assert_ok(r);
    const auto& d = std::get<DeviceAuthResponse>(*r);
    assert_string_equal(d.device_code.c_str(), "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS");
    assert_string_equal(d.user_code.c_str(), "WDJB-MJHT");
    assert_string_equal(d.verification_uri.c_str(), "https://example.com/device");
    assert_string_equal(d.verification_uri_complete->c_str(),
                        "https://example.com/device?user_code=WDJB-MJHT");
    assert_true(d.expires_in == seconds(1800));
    assert_true(d.interval == seconds(5));
}

static void test_device_rejects_missing_device_code(void**) {
    assert_reason(parse_device_auth_response(
                      200, R"({"user_code":"A","verification_uri":"https://e/d","expires_in":60})"),
                  "device_code_missing");
}

static void test_device_rejects_bad_user_code(void**) {
    assert_reason(
        parse_device_auth_response(
            200, R"({"device_code":"d","verification_uri":"https://e/d","expires_in":60})"),
        "user_code_invalid");
    assert_reason(
        parse_device_auth_response(
            200,
            R"({"device_code":"d","user_code":"A\nB","verification_uri":"https://e/d","expires_in":60})"),
        "user_code_invalid");
}

static void test_device_rejects_bad_verification_uri(void**) {
    assert_reason(
        parse_device_auth_response(200, R"({"device_code":"d","user_code":"A","expires_in":60})"),
        "verification_uri_invalid");
    assert_reason(
        parse_device_auth_response(
            200,
            R"({"device_code":"d","user_code":"A","verification_uri":"javascript:void","expires_in":60})"),
        "verification_uri_invalid");
    assert_reason(
        parse_device_auth_response(
            200,
            R"({"device_code":"d","user_code":"A","verification_uri":"https://e/d","verification_uri_complete":"data:x","expires_in":60})"),
        "verification_uri_invalid");
}

static void test_device_rejects_missing_expires_in(void**) {
    assert_reason(
        parse_device_auth_response(
            200, R"({"device_code":"d","user_code":"A","verification_uri":"https://e/d"})"),
        "expires_in_invalid");
}

static void test_poll_schedule_slow_down(void**) {
    const auto t0 = PollSchedule::Clock::time_point(seconds(1000));
    PollSchedule s(t0, seconds(5), seconds(120));
    assert_true(s.interval() == seconds(5));
    assert_true(s.next_poll(t0) == t0 + seconds(5));
    s.slow_down();
    assert_true(s.interval() == seconds(10));
    s.slow_down();
    assert_true(s.next_poll(t0 + seconds(10)) == t0 + seconds(25));
    for (int i = 0; i < 1000; ++i)
        s.slow_down();
    assert_true(s.interval() == seconds(600));
}

static void test_poll_schedule_deadline(void**) {
    const auto t0 = PollSchedule::Clock::time_point(seconds(1000));
    PollSchedule s(t0, seconds(5), seconds(120));
    assert_true(s.deadline() == t0 + seconds(120));
    assert_false(s.expired(t0 + seconds(119)));
    assert_true(s.expired(t0 + seconds(120)));
    // The last poll is not scheduled past the deadline.
    assert_true(s.next_poll(t0 + seconds(118)) == t0 + seconds(120));
    // A silly interval is clamped.
    PollSchedule z(t0, seconds(0), seconds(60));
    assert_true(z.interval() == kMinPollInterval);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_response_ok),
        cmocka_unit_test(test_token_type_case_insensitive),
        cmocka_unit_test(test_rejects_wrong_token_type),
        cmocka_unit_test(test_rejects_missing_token_type),
        cmocka_unit_test(test_rejects_missing_access_token),
        cmocka_unit_test(test_rejects_missing_id_token),
        cmocka_unit_test(test_rejects_bad_expires_in),
        cmocka_unit_test(test_rejects_wrong_member_type),
        cmocka_unit_test(test_rejects_oversize_id_token),
        cmocka_unit_test(test_rejects_non_json),
        cmocka_unit_test(test_unavailable_on_5xx),
        cmocka_unit_test(test_unexpected_status),
        cmocka_unit_test(test_error_without_error_member),
        cmocka_unit_test(test_every_error_code),
        cmocka_unit_test(test_oauth_error_to_error),
        cmocka_unit_test(test_error_description_sanitised),
        cmocka_unit_test(test_ciba_auth_response_ok),
        cmocka_unit_test(test_ciba_interval_default_and_clamp),
        cmocka_unit_test(test_ciba_rejects_missing_auth_req_id),
        cmocka_unit_test(test_ciba_rejects_bad_expires_in),
        cmocka_unit_test(test_ciba_auth_error_unknown_user),
        cmocka_unit_test(test_device_response_ok),
        cmocka_unit_test(test_device_rejects_missing_device_code),
        cmocka_unit_test(test_device_rejects_bad_user_code),
        cmocka_unit_test(test_device_rejects_bad_verification_uri),
        cmocka_unit_test(test_device_rejects_missing_expires_in),
        cmocka_unit_test(test_poll_schedule_slow_down),
        cmocka_unit_test(test_poll_schedule_deadline),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
// mock-psc's CIBA endpoint and its scripted outcomes, polled the way the daemon polls (the OIDC
// core's builders, parsers and PollSchedule), with the poll record read back from the control
// endpoint to prove `interval` and `slow_down` were honoured.
#include "base64url.hpp"
#include "jwks_cache.hpp"
#include "mock_harness.hpp"
#include "testing.hpp"
#include "token_request.hpp"
#include "url.hpp"

#include <cstdlib>

using namespace psc;
using namespace psc::mocktest;
using namespace std::chrono_literals;

namespace {

constexpr const char* kMedecin = "810001234567";
constexpr const char* kOidc = "/auth/realms/esante-wallet/protocol/openid-connect";

struct Outcome {
    std::optional<TokenResponse> tokens;
    std::optional<OAuthError> error; // the terminal error
    std::string auth_req_id;
    int slow_downs = 0;
};

ClientAuth basic(const MockState& s, const Secret& secret) {
    return ClientAuth{ClientAuthMethod::client_secret_basic, s.client_id, &secret, nullptr,
                      s.issuer};
}

OAuthResult<CibaAuthResponse> start_ciba(MockProcess& m, CibaAuthParams params) {
    const MockState& s = m.state();
    const Secret secret(s.client_secret);
    auto req = build_ciba_auth_request(basic(s, secret), s.base_url + kOidc + "/ext/ciba/auth",
                                       params, std::chrono::system_clock::now());
    assert_ok(req);
    auto c = m.client();
    auto resp = perform(*c, to_http(*req));
    assert_ok(resp);
    return parse_ciba_auth_response(static_cast<int>(resp->status), resp->body);
}

CibaAuthParams params_for(const std::string& idnat) {
    CibaAuthParams p;
    p.scope = "openid scope_all";
    p.acr_values = "eidas1";
    p.login_hint = idnat;
    p.binding_message = "42";
    p.channel = "MOBILE";
    return p;
}

// Starts a CIBA login and polls like the daemon: at the interval, +5 s on slow_down.
Outcome ciba_login(MockProcess& m, const std::string& idnat) {
    Outcome out;
    auto started = start_ciba(m, params_for(idnat));
    assert_ok(started);
    const auto* ok = std::get_if<CibaAuthResponse>(&*started);
    assert_non_null(ok);
    out.auth_req_id = std::string(ok->auth_req_id.view());
    PollSchedule schedule(std::chrono::steady_clock::now(), ok->interval, ok->expires_in);
    const MockState& s = m.state();
    const Secret secret(s.client_secret);
    auto c = m.client();
    for (;;) {
        std::this_thread::sleep_until(schedule.next_poll(std::chrono::steady_clock::now()));
        auto req = build_ciba_token_request(basic(s, secret), s.base_url + kOidc + "/token",
                                            out.auth_req_id, std::chrono::system_clock::now());
        assert_ok(req);
        auto resp = perform(*c, to_http(*req));
        assert_ok(resp);
        auto parsed = parse_token_response(static_cast<int>(resp->status), resp->body);
        assert_ok(parsed);
        if (auto* t = std::get_if<TokenResponse>(&*parsed)) {
            out.tokens = std::move(*t);
            return out;
        }
        const OAuthError& e = std::get<OAuthError>(*parsed);
        if (e.kind == OAuthErrorKind::slow_down) {
            schedule.slow_down();
            ++out.slow_downs;
        } else if (!oauth_error_is_pending(e.kind)) {
            out.error = e;
            return out;
        }
    }
}

struct Poll {
    std::int64_t at_ms;
    std::string answer;
};

std::vector<Poll> poll_record(MockProcess& m, const std::string& id) {
    auto r = m.control("{\"polls\":\"" + id + "\"}");
    assert_ok(r);
    assert_int_equal(r->status, 200);
    auto doc = json_parse_object(r->body);
    assert_ok(doc);
    std::vector<Poll> out;
    json_object* polls = json_member(doc->get(), "polls");
    for (std::size_t i = 0; i < json_object_array_length(polls); ++i) {
        json_object* p = json_object_array_get_idx(polls, i);
        auto at = json_get_int64(p, "at_ms");
        auto answer = json_get_string(p, "answer");
        assert_ok(at);
        assert_ok(answer);
        out.push_back({at->value(), std::string(answer->value())});
    }
    return out;
}

void script_next(MockProcess& m, const std::string& script) {
    auto r = m.control("{\"ciba\":" + script + "}");
    assert_ok(r);
    assert_int_equal(r->status, 200);
}

} // namespace

static void test_ciba_approves_with_identity_default(void**) {
    auto out = ciba_login(shared_mock(), kMedecin);
    assert_true(out.tokens.has_value());
    auto c = shared_mock().client();
    auto keys = fetch_jwks(*c, shared_mock().state().base_url + kOidc + "/certs");
    assert_ok(keys);
    auto id = validate_id_token(out.tokens->id_token.view(), *keys,
                                policy_for(shared_mock().state(), ""), unix_now());
    assert_ok(id);
    assert_true(id->sub.find(kMedecin) != std::string::npos);
    // UserInfo reports the channel asked for as authMode.
    const auto ui = must_get(*c, shared_mock().state().base_url + kOidc + "/userinfo",
                             std::string(out.tokens->access_token.view()));
    assert_true(ui.body.find("\"authMode\":\"MOBILE\"") != std::string::npos);
    // The request is spent once redeemed.
    const Secret secret(shared_mock().state().client_secret);
    auto again = build_ciba_token_request(basic(shared_mock().state(), secret),
                                          shared_mock().state().base_url + kOidc + "/token",
                                          out.auth_req_id, std::chrono::system_clock::now());
    assert_ok(again);
    auto resp = perform(*c, to_http(*again));
    assert_ok(resp);
    assert_true(resp->body.find("invalid_grant") != std::string::npos);
}

static void test_ciba_unknown_user(void**) {
    auto r = start_ciba(shared_mock(), params_for("899999999999"));
    assert_ok(r);
    const auto* e = std::get_if<OAuthError>(&*r);
    assert_non_null(e);
    assert_true(e->kind == OAuthErrorKind::unknown_user_id);
    assert_reason(Status(oauth_error_to_error(*e)), "unknown_user_id");
}

static void test_ciba_binding_message_must_be_two_digits(void**) {
    auto p = params_for(kMedecin);
    p.binding_message = "ABC";
    auto r = start_ciba(shared_mock(), p);
    assert_ok(r);
    const auto* e = std::get_if<OAuthError>(&*r);
    assert_non_null(e);
    assert_string_equal(e->error.c_str(), "invalid_binding_message");
}

static void test_ciba_channel_must_be_mobile_or_card(void**) {
    const MockState& s = shared_mock().state();
    HttpRequest r;
    r.method = HttpMethod::post;
    r.url = s.base_url + kOidc + "/ext/ciba/auth";
    r.headers = {"Content-Type: application/x-www-form-urlencoded",
                 "Authorization: Basic " + base64_encode(s.client_id + ":" + s.client_secret)};
    r.body = "scope=openid+scope_all&login_hint=" + std::string(kMedecin) +
             "&binding_message=42&channel=PIGEON";
    auto c = shared_mock().client();
    auto resp = perform(*c, std::move(r));
    assert_ok(resp);
    assert_int_equal(resp->status, 400);
    assert_true(resp->body.find("\"invalid_request\"") != std::string::npos);
}

static void test_ciba_requires_scope_all(void**) {
    auto p = params_for(kMedecin);
    p.scope = "openid";
    auto r = start_ciba(shared_mock(), p);
    assert_ok(r);
    const auto* e = std::get_if<OAuthError>(&*r);
    assert_non_null(e);
    assert_string_equal(e->error.c_str(), "invalid_scope");
}

static void test_ciba_scripted_deny(void**) {
    script_next(shared_mock(), R"({"outcome":"deny"})");
    auto out = ciba_login(shared_mock(), kMedecin);
    assert_true(out.error.has_value());
    assert_reason(Status(oauth_error_to_error(*out.error)), "access_denied");
}

static void test_ciba_scripted_never_expires(void**) {
    script_next(shared_mock(), R"({"outcome":"never"})");
    auto p = params_for(kMedecin);
    p.requested_expiry = 2;
    auto started = start_ciba(shared_mock(), p);
    assert_ok(started);
    const auto* ok = std::get_if<CibaAuthResponse>(&*started);
    assert_non_null(ok);
    assert_int_equal(ok->expires_in.count(), 2);
    std::this_thread::sleep_for(2100ms);
    const MockState& s = shared_mock().state();
    const Secret secret(s.client_secret);
    auto req = build_ciba_token_request(basic(s, secret), s.base_url + kOidc + "/token",
                                        ok->auth_req_id.view(), std::chrono::system_clock::now());
    assert_ok(req);
    auto c = shared_mock().client();
    auto resp = perform(*c, to_http(*req));
    assert_ok(resp);
    auto parsed = parse_token_response(static_cast<int>(resp->status), resp->body);
    assert_ok(parsed);
    assert_reason(Status(oauth_error_to_error(std::get<OAuthError>(*parsed))), "expired_token");
}

static void test_ciba_approve_after_honours_interval(void**) {
    script_next(shared_mock(), R"({"outcome":"approve","approve_after":2})");
    auto out = ciba_login(shared_mock(), kMedecin);
    assert_true(out.tokens.has_value());
    const auto polls = poll_record(shared_mock(), out.auth_req_id);
    assert_true(polls.size() >= 2);
    assert_string_equal(polls.front().answer.c_str(), "authorization_pending");
    assert_string_equal(polls.back().answer.c_str(), "approved");
    for (std::size_t i = 1; i < polls.size(); ++i)
        assert_true(polls[i].at_ms - polls[i - 1].at_ms >= 1000 - 250); // interval 1 s
}

static void test_ciba_slow_down_on_poll_k(void**) {
    script_next(shared_mock(), R"({"outcome":"approve","approve_after":0,"slow_down_on_poll":1})");
    auto out = ciba_login(shared_mock(), kMedecin);
    assert_true(out.tokens.has_value());
    assert_int_equal(out.slow_downs, 1);
    const auto polls = poll_record(shared_mock(), out.auth_req_id);
    assert_int_equal(polls.size(), 2);
    assert_string_equal(polls[0].answer.c_str(), "slow_down");
    // The client waited interval + 5 s before polling again.
    assert_true(polls[1].at_ms - polls[0].at_ms >= 6000 - 250);
}

static void test_ciba_too_fast_polling_gets_slow_down(void**) {
    script_next(shared_mock(), R"({"outcome":"never"})");
    auto started = start_ciba(shared_mock(), params_for(kMedecin));
    assert_ok(started);
    const auto& ok = std::get<CibaAuthResponse>(*started);
    const MockState& s = shared_mock().state();
    const Secret secret(s.client_secret);
    auto c = shared_mock().client();
    std::vector<std::string> bodies;
    for (int i = 0; i < 2; ++i) { // back to back, ignoring the interval
        auto req =
            build_ciba_token_request(basic(s, secret), s.base_url + kOidc + "/token",
                                     ok.auth_req_id.view(), std::chrono::system_clock::now());
        assert_ok(req);
        auto resp = perform(*c, to_http(*req));
        assert_ok(resp);
        bodies.push_back(resp->body);
    }
    assert_true(bodies[0].find("authorization_pending") != std::string::npos);
    assert_true(bodies[1].find("slow_down") != std::string::npos);
    const auto polls = poll_record(shared_mock(), "last");
    assert_int_equal(polls.size(), 2);
    assert_string_equal(polls[1].answer.c_str(), "slow_down");
}

static void test_ciba_script_an_existing_request(void**) {
    script_next(shared_mock(), R"({"outcome":"never"})");
    auto started = start_ciba(shared_mock(), params_for(kMedecin));
    assert_ok(started);
    const std::string id(std::get<CibaAuthResponse>(*started).auth_req_id.view());
    auto r =
        shared_mock().control("{\"ciba\":{\"outcome\":\"deny\"},\"auth_req_id\":\"" + id + "\"}");
    assert_ok(r);
    assert_int_equal(r->status, 200);
    const MockState& s = shared_mock().state();
    const Secret secret(s.client_secret);
    auto req = build_ciba_token_request(basic(s, secret), s.base_url + kOidc + "/token", id,
                                        std::chrono::system_clock::now());
    assert_ok(req);
    auto c = shared_mock().client();
    auto resp = perform(*c, to_http(*req));
    assert_ok(resp);
    assert_true(resp->body.find("access_denied") != std::string::npos);
    auto unknown =
        shared_mock().control("{\"ciba\":{\"outcome\":\"deny\"},\"auth_req_id\":\"nope\"}");
    assert_ok(unknown);
    assert_int_equal(unknown->status, 404);
}

static void test_ciba_outcome_from_identity_file(void**) {
    // An identity whose file says the professional refuses on the phone.
    char tmpl[] = "/tmp/mock-psc-ids-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    std::ofstream(std::string(tmpl) + "/refuser.json")
        << R"({"idNat":"810009999999","authMode":"MOBILE","ciba":{"outcome":"deny"},
              "userinfo":{"sub":"f:550dc1c8-d97b-4b1e-ac8c-8eb4471cf9dd:810009999999",
                          "SubjectNameID":"810009999999","preferred_username":"810009999999"}})";
    auto m = MockProcess::start({"--identities", tmpl, "--ciba-interval", "1"});
    assert_ok(m);
    auto out = ciba_login(**m, "810009999999");
    assert_true(out.error.has_value());
    assert_true(out.error->kind == OAuthErrorKind::access_denied);
    std::filesystem::remove_all(tmpl);
}

static void test_ciba_with_tls_client_auth_on_alias(void**) {
    const MockState& s = shared_mock().state();
    ClientAuth auth{ClientAuthMethod::tls_client_auth, s.client_id, nullptr, nullptr, s.issuer};
    auto req = build_ciba_auth_request(auth, s.base_url + "/mtls" + kOidc + "/ext/ciba/auth",
                                       params_for(kMedecin), std::chrono::system_clock::now());
    assert_ok(req);
    auto c = shared_mock().client(true);
    auto resp = perform(*c, to_http(*req));
    assert_ok(resp);
    auto parsed = parse_ciba_auth_response(static_cast<int>(resp->status), resp->body);
    assert_ok(parsed);
    assert_non_null(std::get_if<CibaAuthResponse>(&*parsed));
}

static int group_setup(void**) {
    return start_shared_mock({"--ciba-interval", "1", "--ciba-expires-in", "30"});
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ciba_approves_with_identity_default, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_unknown_user, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_binding_message_must_be_two_digits, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_channel_must_be_mobile_or_card, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_requires_scope_all, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_scripted_deny, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_scripted_never_expires, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_approve_after_honours_interval, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_slow_down_on_poll_k, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_too_fast_polling_gets_slow_down, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_script_an_existing_request, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_outcome_from_identity_file, reset_shared_mock),
        cmocka_unit_test_setup(test_ciba_with_tls_client_auth_on_alias, reset_shared_mock),
    };
    return cmocka_run_group_tests(tests, group_setup, stop_shared_mock);
}

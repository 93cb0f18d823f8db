// SPDX-License-Identifier: LGPL-2.1-or-later
// mock-psc, one endpoint at a time, driven by the OIDC core the daemon uses: discovery, JWKS, the
// wallet's authorization page, the token endpoint (every grant and client authentication method),
// UserInfo, introspection, logout, device authorization, the control endpoint and the demo.
#include "auth_request.hpp"
#include "base64url.hpp"
#include "callback.hpp"
#include "discovery.hpp"
#include "jwks_cache.hpp"
#include "keys.hpp"
#include "mock_harness.hpp"
#include "testing.hpp"
#include "token_request.hpp"
#include "url.hpp"

#include <cstring>

using namespace psc;
using namespace psc::mocktest;

namespace {

constexpr const char* kMedecin = "810001234567";
constexpr const char* kRedirect = "http://127.0.0.1:8765/callback";
constexpr const char* kOidc = "/auth/realms/esante-wallet/protocol/openid-connect";

std::unique_ptr<MockProcess> start_mock(std::vector<std::string> args) {
    auto m = MockProcess::start(std::move(args));
    assert_ok(m);
    return std::move(*m);
}

std::string oidc_url(const MockState& s, const std::string& path) {
    return s.base_url + kOidc + path;
}

// An authorization URL with the daemon's parameters plus `extra` (already encoded).
std::string authorize_url(const MockState& s, const std::string& redirect, AuthRequest* out,
                          const std::string& scope = "openid scope_all") {
    AuthRequestParams p;
    p.authorization_endpoint = s.base_url + "/wallet/auth";
    p.client_id = s.client_id;
    p.redirect_uri = redirect;
    p.scope = scope;
    p.acr_values = "eidas1";
    auto r = make_auth_request(p);
    assert_ok(r);
    std::string url = r->url;
    *out = std::move(*r);
    return url;
}

// The wallet's redirect parsed and checked like the daemon does.
Status check_redirect(const MockState& s, const BrowserResponse& b, const AuthRequest& req,
                      const std::string& redirect = kRedirect) {
    auto cb = parse_pasted_callback(b.location);
    if (!cb)
        return std::move(cb).error();
    return check_callback(*cb, {req.state, redirect, s.issuer, true});
}

ClientAuth basic_auth(const MockState& s, const Secret& secret) {
    return ClientAuth{ClientAuthMethod::client_secret_basic, s.client_id, &secret, nullptr,
                      s.issuer};
}

OAuthResult<TokenResponse> send_token(HttpClient& c, const Result<HttpFormRequest>& req) {
    assert_ok(req);
    auto resp = perform(c, to_http(*req));
    assert_ok(resp);
    return parse_token_response(static_cast<int>(resp->status), resp->body);
}

void expect_oauth_error(const OAuthResult<TokenResponse>& r, OAuthErrorKind kind,
                        const char* code) {
    assert_ok(r);
    const auto* e = std::get_if<OAuthError>(&*r);
    assert_non_null(e);
    if (e->error != code)
        print_error("expected %s, got %s (%s)\n", code, e->error.c_str(), e->description.c_str());
    assert_true(e->kind == kind);
    assert_string_equal(e->error.c_str(), code);
}

const TokenResponse& expect_tokens(const OAuthResult<TokenResponse>& r) {
    assert_ok(r);
    const auto* t = std::get_if<TokenResponse>(&*r);
    if (!t)
        print_error("token error: %s\n", std::get<OAuthError>(*r).error.c_str());
    assert_non_null(t);
    return *t;
}

// A fresh code for kMedecin (unattended approval), with its request.
std::string fresh_code(MockProcess& m, AuthRequest* req, const std::string& redirect = kRedirect) {
    const std::string url = authorize_url(m.state(), redirect, req);
    auto b = browser_request(url + "&mock_approve=" + kMedecin, m.state().ca_file);
    assert_ok(b);
    auto cb = parse_pasted_callback(b->location);
    assert_ok(cb);
    return std::string(cb->code.view());
}

} // namespace

static void test_state_file_lists_everything(void**) {
    const MockState& s = shared_mock().state();
    assert_true(s.base_url.rfind("https://127.0.0.1:", 0) == 0);
    assert_string_equal(s.issuer.c_str(), (s.base_url + "/auth/realms/esante-wallet").c_str());
    for (const auto* f : {&s.ca_file, &s.client_cert, &s.client_key})
        assert_true(std::filesystem::exists(*f));
    assert_string_equal(s.client_cert_subject.c_str(), ("CN=" + s.client_id).c_str());
    assert_true(s.control_url.rfind(s.base_url, 0) == 0);
    assert_true(s.control_token.size() >= 43);
}

static void test_discovery_at_wallet_path(void**) {
    const MockState& s = shared_mock().state();
    auto c = shared_mock().client();
    auto md = fetch_discovery(*c, DiscoverySource{s.discovery_url, "", s.issuer, false});
    assert_ok(md);
    assert_true(s.discovery_url.find("/.well-known/wallet-openid-configuration") !=
                std::string::npos);
    assert_true(md->authorization_response_iss_parameter_supported);
    assert_string_equal(md->authorization_endpoint.c_str(), (s.base_url + "/wallet/auth").c_str());
    assert_true(md->backchannel_authentication_endpoint.find("/ext/ciba/auth") !=
                std::string::npos);
    assert_int_equal(md->backchannel_token_delivery_modes_supported.size(), 1);
    assert_string_equal(md->backchannel_token_delivery_modes_supported[0].c_str(), "poll");
    auto alias = endpoint_for(*md, "token_endpoint", true);
    assert_ok(alias);
    assert_true(alias->find("/mtls/") != std::string::npos);
    assert_false(md->device_authorization_endpoint.empty()); // listed, as Keycloak does
}

static void test_standard_discovery_path_is_optional(void**) {
    const MockState& s = shared_mock().state();
    auto c = shared_mock().client();
    const std::string standard = s.issuer + "/.well-known/openid-configuration";
    assert_int_equal(must_get(*c, standard).status, 404);
    auto m = start_mock({"--standard-discovery"});
    auto c2 = m->client();
    auto md = fetch_discovery(
        *c2, DiscoverySource{m->state().issuer + "/.well-known/openid-configuration", "",
                             m->state().issuer, false});
    assert_ok(md);
}

static void test_certs_publish_signing_and_encryption_keys(void**) {
    auto c = shared_mock().client();
    auto keys = fetch_jwks(*c, oidc_url(shared_mock().state(), "/certs"));
    assert_ok(keys);
    assert_int_equal(keys->keys.size(), 1);    // the RS256 signing key
    assert_int_equal(keys->skipped.size(), 1); // the "enc" key (Keycloak publishes one) is skipped
    assert_string_equal(keys->keys[0]->kty.c_str(), "RSA");
    assert_false(keys->keys[0]->kid.empty());
}

static void test_scripted_code_login_completes(void**) {
    auto r = code_login(shared_mock(), kMedecin);
    assert_ok(r.callback_check);
    assert_true(r.tokens.has_value());
    assert_true(r.id_token.has_value());
    assert_ok(*r.id_token);
    const IdToken& t = r.id_token->value();
    assert_string_equal(t.acr->c_str(), "eidas1");
    assert_string_equal(t.kid.c_str(), r.keys.keys[0]->kid.c_str());
    assert_true(t.sub.find(kMedecin) != std::string::npos);
    assert_int_equal(*r.tokens->expires_in, 120); // PSC access tokens live 2 minutes
    auto c = shared_mock().client();
    const auto ui = must_get(*c, oidc_url(shared_mock().state(), "/userinfo"),
                             std::string(r.tokens->access_token.view()));
    auto info = parse_userinfo(ui, UserInfoCheck{t.sub, "", "", nullptr, {}});
    assert_ok(info);
    auto idnat = userinfo_idnat(*info);
    assert_ok(idnat);
    assert_string_equal(idnat->value().c_str(), kMedecin);
    auto mode = userinfo_auth_mode(*info);
    assert_ok(mode);
    assert_string_equal(mode->value().c_str(), "CARD");
}

static void test_login_page_form_flow(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    auto page = browser_request(authorize_url(s, kRedirect, &req), s.ca_file);
    assert_ok(page);
    assert_int_equal(page->status, 200);
    assert_true(page->content_type.rfind("text/html", 0) == 0);
    assert_true(page->body.find("Carte CPS") != std::string::npos);
    assert_true(page->body.find("e-CPS") != std::string::npos);
    const auto at = page->body.find("name=\"login\" value=\"");
    assert_true(at != std::string::npos);
    const auto start = at + std::strlen("name=\"login\" value=\"");
    const std::string login = page->body.substr(start, page->body.find('"', start) - start);
    // An unknown identifier shows the page again with an error.
    const std::string bad = "login=" + login + "&idnat=899999999999&auth_mode=CARD&action=approve";
    auto again = browser_request(s.base_url + "/wallet/auth", s.ca_file, &bad);
    assert_ok(again);
    assert_int_equal(again->status, 200);
    assert_true(again->body.find("inconnu") != std::string::npos);
    const std::string good =
        "login=" + login + "&idnat=" + kMedecin + "&auth_mode=MOBILE&action=approve";
    auto done = browser_request(s.base_url + "/wallet/auth", s.ca_file, &good);
    assert_ok(done);
    assert_int_equal(done->status, 302);
    assert_ok(check_redirect(s, *done, req));
    // The page cannot be submitted twice.
    auto replay = browser_request(s.base_url + "/wallet/auth", s.ca_file, &good);
    assert_ok(replay);
    assert_int_equal(replay->status, 400);
}

static void test_login_page_cancel_is_access_denied(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    auto page = browser_request(authorize_url(s, kRedirect, &req), s.ca_file);
    assert_ok(page);
    const auto at = page->body.find("name=\"login\" value=\"") + 20;
    const std::string body =
        "login=" + page->body.substr(at, page->body.find('"', at) - at) + "&action=cancel";
    auto r = browser_request(s.base_url + "/wallet/auth", s.ca_file, &body);
    assert_ok(r);
    assert_int_equal(r->status, 302);
    assert_reason(check_redirect(s, *r, req), "access_denied");
}

static void test_authorize_unknown_client_gets_error_page(void**) {
    const MockState& s = shared_mock().state();
    auto r = browser_request(s.base_url + "/wallet/auth?response_type=code&client_id=intruder"
                                          "&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback",
                             s.ca_file);
    assert_ok(r);
    assert_int_equal(r->status, 400); // RFC 6749 §4.1.2.1: never redirect for a bad client
    assert_true(r->location.empty());
}

static void test_authorize_unregistered_redirect_gets_error_page(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    auto r = browser_request(authorize_url(s, "https://attacker.example/cb", &req), s.ca_file);
    assert_ok(r);
    assert_int_equal(r->status, 400);
    assert_true(r->location.empty());
    // Exact match: another port on loopback is a different URI unless the rule is enabled.
    auto port = browser_request(authorize_url(s, "http://127.0.0.1:9999/callback", &req) +
                                    "&mock_approve=" + kMedecin,
                                s.ca_file);
    assert_ok(port);
    assert_int_equal(port->status, 400);
}

static void test_authorize_loopback_any_port_rule(void**) {
    auto m = start_mock({"--redirect-loopback-any-port"});
    AuthRequest req;
    const std::string redirect = "http://127.0.0.1:9999/callback";
    auto r =
        browser_request(authorize_url(m->state(), redirect, &req) + "&mock_approve=" + kMedecin,
                        m->state().ca_file);
    assert_ok(r);
    assert_int_equal(r->status, 302);
    assert_ok(check_redirect(m->state(), *r, req, redirect));
    auto other_path = browser_request(authorize_url(m->state(), "http://127.0.0.1:9999/x", &req),
                                      m->state().ca_file);
    assert_ok(other_path);
    assert_int_equal(other_path->status, 400);
}

static void test_authorize_requires_scope_all(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    auto r = browser_request(
        authorize_url(s, kRedirect, &req, "openid") + "&mock_approve=" + kMedecin, s.ca_file);
    assert_ok(r);
    assert_true(r->location.find("error=invalid_scope") != std::string::npos);
    assert_reason(check_redirect(s, *r, req), "provider_error");
}

static void test_authorize_requires_pkce_s256(void**) {
    const MockState& s = shared_mock().state();
    const std::string base = s.base_url +
                             "/wallet/auth?response_type=code&client_id=" + s.client_id +
                             "&redirect_uri=" + percent_encode(kRedirect) +
                             "&scope=openid%20scope_all&state=st&mock_approve=" + kMedecin;
    auto none = browser_request(base, s.ca_file);
    assert_ok(none);
    assert_true(none->location.find("error=invalid_request") != std::string::npos);
    auto plain = browser_request(base + "&code_challenge=" + std::string(43, 'a') +
                                     "&code_challenge_method=plain",
                                 s.ca_file);
    assert_ok(plain);
    assert_true(plain->location.find("error=invalid_request") != std::string::npos);
    assert_true(plain->location.find("state=st") != std::string::npos);
}

static void test_authorize_rejects_other_response_types(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    std::string url = authorize_url(s, kRedirect, &req);
    url.replace(url.find("response_type=code"), 18, "response_type=token");
    auto r = browser_request(url + "&mock_approve=" + kMedecin, s.ca_file);
    assert_ok(r);
    assert_true(r->location.find("error=unsupported_response_type") != std::string::npos);
}

static void test_authorize_prompt_none_is_login_required(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    auto r = browser_request(authorize_url(s, kRedirect, &req) + "&prompt=none", s.ca_file);
    assert_ok(r);
    assert_reason(check_redirect(s, *r, req), "login_required");
}

static void test_code_is_single_use(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    const std::string code = fresh_code(shared_mock(), &req);
    const Secret secret(s.client_secret);
    auto c = shared_mock().client();
    auto build = [&] {
        return build_code_token_request(basic_auth(s, secret), oidc_url(s, "/token"), code,
                                        kRedirect, req.pkce.verifier.view(),
                                        std::chrono::system_clock::now());
    };
    (void)expect_tokens(send_token(*c, build()));
    expect_oauth_error(send_token(*c, build()), OAuthErrorKind::invalid_grant, "invalid_grant");
}

static void test_code_bound_to_pkce_challenge(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    const std::string code = fresh_code(shared_mock(), &req);
    const Secret secret(s.client_secret);
    auto c = shared_mock().client();
    auto other = pkce_generate();
    assert_ok(other);
    expect_oauth_error(
        send_token(*c, build_code_token_request(basic_auth(s, secret), oidc_url(s, "/token"), code,
                                                kRedirect, other->verifier.view(),
                                                std::chrono::system_clock::now())),
        OAuthErrorKind::invalid_grant, "invalid_grant");
}

static void test_code_bound_to_redirect_uri(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    const std::string code = fresh_code(shared_mock(), &req);
    const Secret secret(s.client_secret);
    auto c = shared_mock().client();
    expect_oauth_error(send_token(*c, build_code_token_request(
                                          basic_auth(s, secret), oidc_url(s, "/token"), code,
                                          "http://127.0.0.1:8765/other", req.pkce.verifier.view(),
                                          std::chrono::system_clock::now())),
                       OAuthErrorKind::invalid_grant, "invalid_grant");
}

static void test_codes_and_access_tokens_expire(void**) {
    // 3 s lifetimes: short enough to wait out, long enough for the login itself on a loaded
    // 2-core CI machine (1 s failed there once).
    auto m = start_mock({"--code-ttl", "3", "--access-ttl", "3"});
    const MockState& s = m->state();
    auto login = code_login(*m, kMedecin);
    assert_true(login.tokens.has_value());
    AuthRequest req;
    const std::string code = fresh_code(*m, &req);
    std::this_thread::sleep_for(std::chrono::milliseconds(3600));
    const Secret secret(s.client_secret);
    auto c = m->client();
    expect_oauth_error(
        send_token(*c, build_code_token_request(basic_auth(s, secret), oidc_url(s, "/token"), code,
                                                kRedirect, req.pkce.verifier.view(),
                                                std::chrono::system_clock::now())),
        OAuthErrorKind::invalid_grant, "invalid_grant");
    const auto ui =
        must_get(*c, oidc_url(s, "/userinfo"), std::string(login.tokens->access_token.view()));
    assert_int_equal(ui.status, 401);
}

static void test_client_secret_post(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    const std::string code = fresh_code(shared_mock(), &req);
    const Secret secret(s.client_secret);
    ClientAuth auth{ClientAuthMethod::client_secret_post, s.client_id, &secret, nullptr, s.issuer};
    auto c = shared_mock().client();
    (void)expect_tokens(send_token(*c, build_code_token_request(auth, oidc_url(s, "/token"), code,
                                                                kRedirect, req.pkce.verifier.view(),
                                                                std::chrono::system_clock::now())));
}

static void test_wrong_client_secret_is_invalid_client(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    const std::string code = fresh_code(shared_mock(), &req);
    const Secret wrong("not-the-secret");
    auto c = shared_mock().client();
    expect_oauth_error(
        send_token(*c, build_code_token_request(basic_auth(s, wrong), oidc_url(s, "/token"), code,
                                                kRedirect, req.pkce.verifier.view(),
                                                std::chrono::system_clock::now())),
        OAuthErrorKind::invalid_client, "invalid_client");
}

static void test_two_client_auth_methods_refused(void**) {
    const MockState& s = shared_mock().state();
    const Secret secret(s.client_secret);
    auto req = build_refresh_request(basic_auth(s, secret), oidc_url(s, "/token"), "x", "",
                                     std::chrono::system_clock::now());
    assert_ok(req);
    HttpRequest http = to_http(*req);
    http.body += "&client_secret=" + s.client_secret; // RFC 6749 §2.3: one method only
    auto c = shared_mock().client();
    auto resp = perform(*c, std::move(http));
    assert_ok(resp);
    auto parsed = parse_token_response(static_cast<int>(resp->status), resp->body);
    expect_oauth_error(parsed, OAuthErrorKind::invalid_request, "invalid_request");
}

static void test_tls_client_auth_on_mtls_alias(void**) {
    const MockState& s = shared_mock().state();
    AuthRequest req;
    const std::string code = fresh_code(shared_mock(), &req);
    ClientAuth auth{ClientAuthMethod::tls_client_auth, s.client_id, nullptr, nullptr, s.issuer};
    auto c = shared_mock().client(true);
    const std::string alias = s.base_url + "/mtls" + kOidc + "/token";
    (void)expect_tokens(send_token(*c, build_code_token_request(auth, alias, code, kRedirect,
                                                                req.pkce.verifier.view(),
                                                                std::chrono::system_clock::now())));
    // Without the certificate the same request is unauthenticated.
    const std::string code2 = fresh_code(shared_mock(), &req);
    auto no_cert = build_code_token_request(auth, alias, code2, kRedirect, req.pkce.verifier.view(),
                                            std::chrono::system_clock::now());
    assert_ok(no_cert);
    HttpRequest http = to_http(*no_cert);
    http.client_cert = false;
    auto resp = perform(*c, std::move(http));
    assert_ok(resp);
    expect_oauth_error(parse_token_response(static_cast<int>(resp->status), resp->body),
                       OAuthErrorKind::invalid_client, "invalid_client");
}

static void test_tls_client_auth_checks_subject(void**) {
    auto m = start_mock({"--client-cert-subject", "CN=some-other-service"});
    const MockState& s = m->state();
    AuthRequest req;
    const std::string code = fresh_code(*m, &req);
    ClientAuth auth{ClientAuthMethod::tls_client_auth, s.client_id, nullptr, nullptr, s.issuer};
    auto c = m->client(true);
    expect_oauth_error(send_token(*c, build_code_token_request(auth, oidc_url(s, "/token"), code,
                                                               kRedirect, req.pkce.verifier.view(),
                                                               std::chrono::system_clock::now())),
                       OAuthErrorKind::invalid_client, "invalid_client");
}

static void test_private_key_jwt(void**) {
    auto key = testkeys::generate_key(testkeys::KeyType::P256);
    char tmpl[] = "/tmp/mock-psc-pkjwt-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    const std::string pem = std::string(tmpl) + "/client.pub";
    std::ofstream(pem) << testkeys::public_key_pem(key.get());
    auto m = start_mock({"--client-public-key", pem});
    const MockState& s = m->state();
    const JwsSigningKey sk = testkeys::signing_key(key.get(), JwsAlg::ES256, "rp-1");
    ClientAuth auth{ClientAuthMethod::private_key_jwt, s.client_id, nullptr, &sk, s.issuer};
    auto c = m->client();
    AuthRequest req;
    const std::string code = fresh_code(*m, &req);
    (void)expect_tokens(send_token(*c, build_code_token_request(auth, oidc_url(s, "/token"), code,
                                                                kRedirect, req.pkce.verifier.view(),
                                                                std::chrono::system_clock::now())));
    // A key the mock does not know is refused.
    auto other = testkeys::generate_key(testkeys::KeyType::P256);
    const JwsSigningKey wrong = testkeys::signing_key(other.get(), JwsAlg::ES256, "rp-1");
    ClientAuth bad{ClientAuthMethod::private_key_jwt, s.client_id, nullptr, &wrong, s.issuer};
    const std::string code2 = fresh_code(*m, &req);
    expect_oauth_error(send_token(*c, build_code_token_request(bad, oidc_url(s, "/token"), code2,
                                                               kRedirect, req.pkce.verifier.view(),
                                                               std::chrono::system_clock::now())),
                       OAuthErrorKind::invalid_client, "invalid_client");
    std::filesystem::remove_all(tmpl);
}

static void test_refresh_token_rotates(void**) {
    const MockState& s = shared_mock().state();
    auto login = code_login(shared_mock(), kMedecin);
    assert_true(login.tokens.has_value());
    const Secret secret(s.client_secret);
    auto c = shared_mock().client();
    const std::string rt(login.tokens->refresh_token.view());
    auto build = [&] {
        return build_refresh_request(basic_auth(s, secret), oidc_url(s, "/token"), rt, "",
                                     std::chrono::system_clock::now());
    };
    const auto answer = send_token(*c, build());
    const TokenResponse& fresh = expect_tokens(answer);
    assert_false(fresh.id_token.empty());
    assert_false(fresh.refresh_token.equals(rt));
    auto id = validate_id_token(fresh.id_token.view(), login.keys, policy_for(s, login.nonce),
                                unix_now());
    assert_ok(id); // Keycloak keeps the original nonce in refreshed ID tokens
    expect_oauth_error(send_token(*c, build()), OAuthErrorKind::invalid_grant, "invalid_grant");
}

static void test_userinfo_needs_a_valid_bearer(void**) {
    auto c = shared_mock().client();
    const auto r = must_get(*c, oidc_url(shared_mock().state(), "/userinfo"), "forged-token");
    assert_int_equal(r.status, 401);
    auto info = parse_userinfo(r, UserInfoCheck{"f:x:y", "", "", nullptr, {}});
    assert_reason(info, "userinfo_status");
}

static void test_introspection(void**) {
    const MockState& s = shared_mock().state();
    auto login = code_login(shared_mock(), kMedecin);
    assert_true(login.tokens.has_value());
    auto c = shared_mock().client();
    auto ask = [&](const std::string& token, bool authenticate) {
        HttpRequest r;
        r.method = HttpMethod::post;
        r.url = oidc_url(s, "/token/introspect");
        r.headers.push_back("Content-Type: application/x-www-form-urlencoded");
        if (authenticate)
            r.headers.push_back("Authorization: Basic " +
                                base64_encode(s.client_id + ":" + s.client_secret));
        r.body = "token=" + form_urlencode(token);
        auto resp = perform(*c, std::move(r));
        assert_ok(resp);
        return *resp;
    };
    const auto active = ask(std::string(login.tokens->access_token.view()), true);
    assert_int_equal(active.status, 200);
    assert_true(active.body.find("\"active\":true") != std::string::npos);
    assert_true(active.body.find("\"acr\":\"eidas3\"") != std::string::npos);
    assert_true(ask("garbage", true).body.find("\"active\":false") != std::string::npos);
    assert_int_equal(ask("garbage", false).status, 401);
}

static void test_logout_ends_the_session(void**) {
    const MockState& s = shared_mock().state();
    auto login = code_login(shared_mock(), kMedecin);
    assert_true(login.tokens.has_value());
    const std::string logout = oidc_url(s, "/logout");
    auto bad = browser_request(logout + "?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F",
                               s.ca_file);
    assert_ok(bad);
    assert_int_equal(bad->status, 400);
    auto r =
        browser_request(logout + "?id_token_hint=" + std::string(login.tokens->id_token.view()) +
                            "&post_logout_redirect_uri=" + percent_encode(kRedirect) + "&state=bye",
                        s.ca_file);
    assert_ok(r);
    assert_int_equal(r->status, 302);
    assert_string_equal(r->location.c_str(), (std::string(kRedirect) + "?state=bye").c_str());
    const Secret secret(s.client_secret);
    auto c = shared_mock().client();
    expect_oauth_error(
        send_token(*c, build_refresh_request(basic_auth(s, secret), oidc_url(s, "/token"),
                                             login.tokens->refresh_token.view(), "",
                                             std::chrono::system_clock::now())),
        OAuthErrorKind::invalid_grant, "invalid_grant");
    auto page = browser_request(logout, s.ca_file);
    assert_ok(page);
    assert_int_equal(page->status, 200);
}

static void test_device_grant_off_by_default(void**) {
    const MockState& s = shared_mock().state();
    const Secret secret(s.client_secret);
    auto req =
        build_device_authorization_request(basic_auth(s, secret), oidc_url(s, "/auth/device"),
                                           "openid scope_all", std::chrono::system_clock::now());
    assert_ok(req);
    auto c = shared_mock().client();
    auto resp = perform(*c, to_http(*req));
    assert_ok(resp);
    auto parsed = parse_device_auth_response(static_cast<int>(resp->status), resp->body);
    assert_ok(parsed);
    const auto* e = std::get_if<OAuthError>(&*parsed);
    assert_non_null(e);
    assert_true(e->kind == OAuthErrorKind::unauthorized_client);
}

static void test_device_grant_when_enabled(void**) {
    auto m = start_mock({"--device-grant", "--auto-approve", kMedecin, "--ciba-interval", "1"});
    const MockState& s = m->state();
    const Secret secret(s.client_secret);
    auto c = m->client();
    auto req =
        build_device_authorization_request(basic_auth(s, secret), oidc_url(s, "/auth/device"),
                                           "openid scope_all", std::chrono::system_clock::now());
    assert_ok(req);
    auto resp = perform(*c, to_http(*req));
    assert_ok(resp);
    auto parsed = parse_device_auth_response(static_cast<int>(resp->status), resp->body);
    assert_ok(parsed);
    const auto* d = std::get_if<DeviceAuthResponse>(&*parsed);
    assert_non_null(d);
    assert_int_equal(d->user_code.size(), 9);
    assert_int_equal(d->interval.count(), 1);
    const auto answer = send_token(
        *c, build_device_token_request(basic_auth(s, secret), oidc_url(s, "/token"),
                                       d->device_code.view(), std::chrono::system_clock::now()));
    const TokenResponse& t = expect_tokens(answer);
    auto keys = fetch_jwks(*c, oidc_url(s, "/certs"));
    assert_ok(keys);
    assert_ok(validate_id_token(t.id_token.view(), *keys, policy_for(s, ""), unix_now()));
    // --auto-approve also skips the wallet page of the code flow.
    AuthRequest login;
    auto b = browser_request(authorize_url(s, kRedirect, &login), s.ca_file);
    assert_ok(b);
    assert_int_equal(b->status, 302);
    assert_ok(check_redirect(s, *b, login));
}

static void test_control_requires_its_token(void**) {
    const std::string wrong = "not-the-token";
    auto r = shared_mock().control("{\"reset\":true}", &wrong);
    assert_ok(r);
    assert_int_equal(r->status, 401);
    assert_true(r->body.find("control_unauthorized") != std::string::npos);
    auto c = shared_mock().client();
    assert_int_equal(must_get(*c, shared_mock().state().control_url).status, 401);
    auto unknown = shared_mock().control("{\"dance\":true}");
    assert_ok(unknown);
    assert_int_equal(unknown->status, 400);
    auto runtime_tls = shared_mock().control("{\"fault\":\"tls_untrusted\"}");
    assert_ok(runtime_tls);
    assert_true(runtime_tls->body.find("fault_startup_only") != std::string::npos);
}

static void test_control_request_log(void**) {
    auto c = shared_mock().client();
    (void)must_get(*c, oidc_url(shared_mock().state(), "/certs"));
    auto log = shared_mock().control("{\"log\":true}");
    assert_ok(log);
    assert_int_equal(log->status, 200);
    assert_true(log->body.find("\"endpoint\":\"certs\"") != std::string::npos);
}

static void test_es256_signing(void**) {
    auto m = start_mock({"--es256"});
    auto r = code_login(*m, kMedecin);
    assert_true(r.id_token.has_value());
    assert_ok(*r.id_token);
    assert_true(r.id_token->value().alg == JwsAlg::ES256);
}

static void test_demo_login_in_a_browser(void**) {
    const MockState& s = shared_mock().state();
    auto index = browser_request(s.base_url + "/", s.ca_file);
    assert_ok(index);
    assert_int_equal(index->status, 200);
    auto start = browser_request(s.demo_url, s.ca_file);
    assert_ok(start);
    assert_int_equal(start->status, 302);
    auto page = browser_request(start->location, s.ca_file);
    assert_ok(page);
    const auto at = page->body.find("name=\"login\" value=\"") + 20;
    const std::string body = "login=" + page->body.substr(at, page->body.find('"', at) - at) +
                             "&idnat=" + kMedecin + "&auth_mode=CARD&action=approve";
    auto back = browser_request(s.base_url + "/wallet/auth", s.ca_file, &body);
    assert_ok(back);
    assert_true(back->location.rfind(s.base_url + "/mock/demo/callback?", 0) == 0);
    auto shown = browser_request(back->location, s.ca_file);
    assert_ok(shown);
    assert_int_equal(shown->status, 200);
    assert_true(shown->body.find("Connexion réussie") != std::string::npos);
    assert_true(shown->body.find("SubjectRefPro") != std::string::npos);
}

static void test_sigterm_removes_generated_files(void**) {
    auto m = start_mock({});
    const std::string dir = std::filesystem::path(m->state().ca_file).parent_path();
    assert_true(std::filesystem::exists(dir));
    assert_int_equal(m->stop(), 0);
    assert_false(std::filesystem::exists(dir));
}

static int group_setup(void**) {
    return start_shared_mock({"--ciba-interval", "1"});
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_state_file_lists_everything),
        cmocka_unit_test(test_discovery_at_wallet_path),
        cmocka_unit_test(test_standard_discovery_path_is_optional),
        cmocka_unit_test(test_certs_publish_signing_and_encryption_keys),
        cmocka_unit_test(test_scripted_code_login_completes),
        cmocka_unit_test(test_login_page_form_flow),
        cmocka_unit_test(test_login_page_cancel_is_access_denied),
        cmocka_unit_test(test_authorize_unknown_client_gets_error_page),
        cmocka_unit_test(test_authorize_unregistered_redirect_gets_error_page),
        cmocka_unit_test(test_authorize_loopback_any_port_rule),
        cmocka_unit_test(test_authorize_requires_scope_all),
        cmocka_unit_test(test_authorize_requires_pkce_s256),
        cmocka_unit_test(test_authorize_rejects_other_response_types),
        cmocka_unit_test(test_authorize_prompt_none_is_login_required),
        cmocka_unit_test(test_code_is_single_use),
        cmocka_unit_test(test_code_bound_to_pkce_challenge),
        cmocka_unit_test(test_code_bound_to_redirect_uri),
        cmocka_unit_test(test_codes_and_access_tokens_expire),
        cmocka_unit_test(test_client_secret_post),
        cmocka_unit_test(test_wrong_client_secret_is_invalid_client),
        cmocka_unit_test(test_two_client_auth_methods_refused),
        cmocka_unit_test(test_tls_client_auth_on_mtls_alias),
        cmocka_unit_test(test_tls_client_auth_checks_subject),
        cmocka_unit_test(test_private_key_jwt),
        cmocka_unit_test(test_refresh_token_rotates),
        cmocka_unit_test(test_userinfo_needs_a_valid_bearer),
        cmocka_unit_test(test_introspection),
        cmocka_unit_test(test_logout_ends_the_session),
        cmocka_unit_test(test_device_grant_off_by_default),
        cmocka_unit_test(test_device_grant_when_enabled),
        cmocka_unit_test(test_control_requires_its_token),
        cmocka_unit_test(test_control_request_log),
        cmocka_unit_test(test_es256_signing),
        cmocka_unit_test(test_demo_login_in_a_browser),
        cmocka_unit_test(test_sigterm_removes_generated_files),
    };
    return cmocka_run_group_tests(tests, group_setup, stop_shared_mock);
}

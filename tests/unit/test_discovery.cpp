// SPDX-License-Identifier: LGPL-2.1-or-later
// Provider metadata: the 2021 PSC fixture, the byte-exact issuer rule, URL rules, mTLS aliases and
// the wallet-path / standard-path fetch over a loopback HTTPS server.
#include "discovery.hpp"
#include "https_server.hpp"
#include "json.hpp"
#include "test_ca.hpp"
#include "testing.hpp"

#include <cstdlib>
#include <sys/stat.h>

using namespace psc;
using namespace psc::testing;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<TestCa> g_ca;

constexpr const char* kFixtureIssuer =
    "https://auth.bas.esw.esante.gouv.fr/auth/realms/esante-wallet";
constexpr const char* kSandboxIssuer =
    "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";

std::string fixture_path() {
    const char* dir = std::getenv("PSC_TEST_FIXTURES_DIR");
    return std::string(dir ? dir : "tests/fixtures") + "/psc-discovery-2021-sandbox.json";
}

std::string read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string doc_for(const std::string& issuer, const std::string& extra = {}) {
    return R"({"issuer":")" + issuer + R"(","authorization_endpoint":")" + issuer +
           R"(/auth","token_endpoint":")" + issuer + R"(/token","jwks_uri":")" + issuer +
           R"(/certs","userinfo_endpoint":")" + issuer + R"(/userinfo")" + extra + "}";
}

// A document with member `name` removed or replaced (value_json empty: removed).
std::string doc_with(const char* name, const std::string& value_json) {
    auto parsed = json_parse_object(doc_for("https://idp.example"));
    assert_ok(parsed);
    json_object* obj = parsed->get();
    json_object_object_del(obj, name);
    std::string out = json_to_string(obj);
    if (value_json.empty())
        return out;
    out.pop_back(); // '}'
    return out + ",\"" + name + "\":" + value_json + "}";
}

std::unique_ptr<HttpClient> make_client() {
    HttpOptions o;
    o.ca_file = g_ca->ca().cert_path;
    o.total_timeout = 5s;
    auto c = HttpClient::create(o);
    assert_ok(c);
    return std::move(*c);
}

// A provider at https://127.0.0.1:PORT/realms/test answering on the paths in `served`.
struct Provider {
    std::unique_ptr<HttpsServer> server;
    std::string issuer;
};

Provider provider_serving(std::vector<std::string> served, unsigned other_status = 404) {
    auto issuer = std::make_shared<std::string>();
    HttpsServerOptions o;
    o.cert_pem = g_ca->server().cert_pem;
    o.key_pem = g_ca->server().key_pem;
    auto s =
        HttpsServer::start(std::move(o), [issuer, served, other_status](const ServerRequest& r) {
            for (const auto& p : served)
                if (r.path == "/realms/test" + p)
                    return ServerResponse::json(doc_for(*issuer));
            return ServerResponse::json(R"({"error":"not found"})", other_status);
        });
    assert_ok(s);
    *issuer = (*s)->base_url() + "/realms/test";
    return Provider{std::move(*s), *issuer};
}

} // namespace

static void test_psc_2021_fixture_parses(void**) {
    auto m = parse_discovery(read_text(fixture_path()), kFixtureIssuer, false);
    assert_ok(m);
    assert_string_equal(m->issuer.c_str(), kFixtureIssuer);
    assert_string_equal(m->authorization_endpoint.c_str(),
                        "https://wallet.bas.esw.esante.gouv.fr/auth"); // the wallet host
    assert_string_equal(m->jwks_uri.c_str(), "https://auth.bas.esw.esante.gouv.fr/auth/realms/"
                                             "esante-wallet/protocol/openid-connect/certs");
    assert_false(m->userinfo_endpoint.empty());
    assert_false(m->end_session_endpoint.empty());
    assert_false(m->introspection_endpoint.empty());
    assert_true(m->backchannel_authentication_endpoint.empty());
    assert_false(m->authorization_response_iss_parameter_supported);
    const auto& methods = m->token_endpoint_auth_methods_supported;
    assert_true(std::find(methods.begin(), methods.end(), "tls_client_auth") != methods.end());
    const auto& pkce = m->code_challenge_methods_supported;
    assert_true(std::find(pkce.begin(), pkce.end(), "S256") != pkce.end());
    const auto& scopes = m->scopes_supported;
    assert_true(std::find(scopes.begin(), scopes.end(), "scope_all") != scopes.end());
    assert_int_equal(m->id_token_signing_alg_values_supported.size(), 12);
}

static void test_psc_2021_fixture_rejected_for_current_sandbox_issuer(void**) {
    assert_reason(parse_discovery(read_text(fixture_path()), kSandboxIssuer, false),
                  "discovery_issuer_mismatch");
}

static void test_issuer_compared_byte_for_byte(void**) {
    const std::string doc = doc_for("https://idp.example/realms/r");
    assert_ok(parse_discovery(doc, "https://idp.example/realms/r", false));
    assert_reason(parse_discovery(doc, "https://idp.example/realms/r/", false),
                  "discovery_issuer_mismatch");
    assert_reason(parse_discovery(doc, "https://IDP.example/realms/r", false),
                  "discovery_issuer_mismatch");
    assert_reason(parse_discovery(doc, "https://idp.example:443/realms/r", false),
                  "discovery_issuer_mismatch");
}

static void test_required_members(void**) {
    for (const char* name : {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri"})
        assert_reason(parse_discovery(doc_with(name, ""), "https://idp.example", false),
                      "discovery_missing_member");
    // Optional ones may be absent.
    assert_ok(parse_discovery(doc_with("userinfo_endpoint", ""), "https://idp.example", false));
}

static void test_http_endpoint_refused(void**) {
    const std::string doc = doc_with("token_endpoint", R"("http://idp.example/token")");
    assert_reason(parse_discovery(doc, "https://idp.example", false), "discovery_insecure_url");
    assert_reason(parse_discovery(doc, "https://idp.example", true), "discovery_insecure_url");
    assert_reason(parse_discovery(doc_with("userinfo_endpoint", R"("ftp://idp.example/u")"),
                                  "https://idp.example", false),
                  "discovery_insecure_url");
    assert_reason(
        parse_discovery(doc_with("jwks_uri", R"("https://")"), "https://idp.example", false),
        "discovery_bad_url");
}

static void test_loopback_http_provider_allowed_only_when_insecure_ok(void**) {
    const std::string doc = doc_for("http://127.0.0.1:8080/realms/r");
    assert_ok(parse_discovery(doc, "http://127.0.0.1:8080/realms/r", true));
    assert_reason(parse_discovery(doc, "http://127.0.0.1:8080/realms/r", false),
                  "discovery_insecure_url");
}

static void test_wrong_member_types(void**) {
    const std::string iss = "https://idp.example";
    assert_reason(parse_discovery(doc_with("token_endpoint", "1"), iss, false),
                  "discovery_member_type");
    assert_reason(parse_discovery(doc_with("scopes_supported", R"("openid")"), iss, false),
                  "discovery_member_type");
    assert_reason(
        parse_discovery(doc_with("authorization_response_iss_parameter_supported", R"("true")"),
                        iss, false),
        "discovery_member_type");
    assert_reason(parse_discovery(doc_with("mtls_endpoint_aliases", "[]"), iss, false),
                  "discovery_member_type");
    assert_reason(
        parse_discovery(doc_with("mtls_endpoint_aliases", R"({"token_endpoint":1})"), iss, false),
        "discovery_member_type");
}

static void test_size_and_syntax_limits(void**) {
    std::string big =
        doc_for("https://idp.example", ",\"x\":\"" + std::string(kDiscoveryMaxBytes, 'a') + "\"");
    assert_reason(parse_discovery(big, "https://idp.example", false), "discovery_too_large");
    assert_reason(parse_discovery("{\"issuer\":", "https://idp.example", false), "discovery_json");
    assert_reason(parse_discovery("[]", "https://idp.example", false), "discovery_json");
    std::string deep =
        doc_for("https://idp.example", ",\"x\":" + std::string(40, '[') + std::string(40, ']'));
    assert_reason(parse_discovery(deep, "https://idp.example", false), "discovery_json");
}

static void test_iss_parameter_flag(void**) {
    auto m = parse_discovery(doc_with("authorization_response_iss_parameter_supported", "true"),
                             "https://idp.example", false);
    assert_ok(m);
    assert_true(m->authorization_response_iss_parameter_supported);
}

static void test_mtls_aliases_used_only_with_mtls(void**) {
    auto m = parse_discovery(doc_with("mtls_endpoint_aliases",
                                      R"({"token_endpoint":"https://mtls.idp.example/token",
                     "authorization_endpoint":"https://mtls.idp.example/auth"})"),
                             "https://idp.example", false);
    assert_ok(m);
    auto with = endpoint_for(*m, "token_endpoint", true);
    assert_ok(with);
    assert_string_equal(with->c_str(), "https://mtls.idp.example/token");
    auto without = endpoint_for(*m, "token_endpoint", false);
    assert_ok(without);
    assert_string_equal(without->c_str(), "https://idp.example/token");
    auto ui = endpoint_for(*m, "userinfo_endpoint", true); // no alias: the main endpoint
    assert_ok(ui);
    assert_string_equal(ui->c_str(), "https://idp.example/userinfo");
    auto az = endpoint_for(*m, "authorization_endpoint", true); // browser-facing: never aliased
    assert_ok(az);
    assert_string_equal(az->c_str(), "https://idp.example/auth");
    assert_reason(endpoint_for(*m, "backchannel_authentication_endpoint", true),
                  "discovery_no_endpoint");
    assert_reason(endpoint_for(*m, "no_such_endpoint", false), "discovery_no_endpoint");
    assert_reason(parse_discovery(doc_with("mtls_endpoint_aliases",
                                           R"({"token_endpoint":"http://mtls.idp.example/t"})"),
                                  "https://idp.example", false),
                  "discovery_insecure_url");
}

static void test_discovery_urls(void**) {
    assert_string_equal(discovery_url_for(kSandboxIssuer, true).c_str(),
                        "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/"
                        ".well-known/wallet-openid-configuration");
    assert_string_equal(discovery_url_for("https://idp.example/realms/r/", false).c_str(),
                        "https://idp.example/realms/r/.well-known/openid-configuration");
    auto psc = discovery_source(kSandboxIssuer, "", true, false);
    assert_string_equal(psc.url.c_str(), discovery_url_for(kSandboxIssuer, true).c_str());
    assert_string_equal(psc.fallback_url.c_str(), discovery_url_for(kSandboxIssuer, false).c_str());
    auto generic = discovery_source("https://idp.example", "", false, false);
    assert_true(generic.fallback_url.empty());
    auto configured =
        discovery_source(kSandboxIssuer, "https://mirror.example/d.json", true, false);
    assert_string_equal(configured.url.c_str(), "https://mirror.example/d.json");
    assert_true(configured.fallback_url.empty());
}

static void test_fetch_wallet_path_only(void**) {
    auto p = provider_serving({"/.well-known/wallet-openid-configuration"});
    auto c = make_client();
    auto m = fetch_discovery(*c, discovery_source(p.issuer, "", true, false));
    assert_ok(m);
    assert_string_equal(m->issuer.c_str(), p.issuer.c_str());
    assert_int_equal(p.server->requests(), 1);
}

static void test_fetch_falls_back_to_standard_path_on_404(void**) {
    auto p = provider_serving({"/.well-known/openid-configuration"});
    auto c = make_client();
    auto m = fetch_discovery(*c, discovery_source(p.issuer, "", true, false));
    assert_ok(m);
    const auto seen = p.server->received();
    assert_int_equal(seen.size(), 2);
    assert_string_equal(seen[0].path.c_str(),
                        "/realms/test/.well-known/wallet-openid-configuration");
    assert_string_equal(seen[1].path.c_str(), "/realms/test/.well-known/openid-configuration");
}

static void test_fetch_neither_path_not_found(void**) {
    auto p = provider_serving({});
    auto c = make_client();
    assert_reason(fetch_discovery(*c, discovery_source(p.issuer, "", true, false)),
                  "discovery_not_found");
    assert_int_equal(p.server->requests(), 2);
}

static void test_fetch_generic_has_no_fallback(void**) {
    auto p = provider_serving({"/.well-known/wallet-openid-configuration"});
    auto c = make_client();
    assert_reason(fetch_discovery(*c, discovery_source(p.issuer, "", false, false)),
                  "discovery_not_found");
    assert_int_equal(p.server->requests(), 1);
}

static void test_fetch_server_error_does_not_fall_back(void**) {
    auto p = provider_serving({"/.well-known/openid-configuration"}, 503);
    auto c = make_client();
    assert_reason(fetch_discovery(*c, discovery_source(p.issuer, "", true, false)), "http_status");
    assert_int_equal(p.server->requests(), 1);
}

static void test_fetch_checks_issuer(void**) {
    auto p = provider_serving({"/.well-known/openid-configuration"});
    auto c = make_client();
    auto src = discovery_source(p.issuer, "", false, false);
    src.expected_issuer = p.issuer + "/";
    assert_reason(fetch_discovery(*c, src), "discovery_issuer_mismatch");
}

static void test_fetch_other_client_error_is_status(void**) {
    auto p = provider_serving({}, 403);
    auto c = make_client();
    assert_reason(fetch_discovery(*c, discovery_source(p.issuer, "", true, false)),
                  "discovery_status");
}

static void test_static_metadata_file(void**) {
    const std::string path = g_ca->dir() + "/metadata.json";
    std::ofstream(path) << read_text(fixture_path());
    ::chmod(path.c_str(), 0644);
    assert_ok(load_discovery_file(path, kFixtureIssuer, false));
    assert_reason(load_discovery_file(path, kSandboxIssuer, false), "discovery_issuer_mismatch");
    ::chmod(path.c_str(), 0666);
    assert_reason(load_discovery_file(path, kFixtureIssuer, false), "file_mode");
    assert_reason(load_discovery_file(g_ca->dir() + "/absent.json", kFixtureIssuer, false),
                  "file_open");
}

int main() {
    auto ca = TestCa::create();
    if (!ca) {
        std::fprintf(stderr, "test CA: %s\n", ca.error().describe().c_str());
        return 1;
    }
    g_ca = std::move(*ca);
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_psc_2021_fixture_parses),
        cmocka_unit_test(test_psc_2021_fixture_rejected_for_current_sandbox_issuer),
        cmocka_unit_test(test_issuer_compared_byte_for_byte),
        cmocka_unit_test(test_required_members),
        cmocka_unit_test(test_http_endpoint_refused),
        cmocka_unit_test(test_loopback_http_provider_allowed_only_when_insecure_ok),
        cmocka_unit_test(test_wrong_member_types),
        cmocka_unit_test(test_size_and_syntax_limits),
        cmocka_unit_test(test_iss_parameter_flag),
        cmocka_unit_test(test_mtls_aliases_used_only_with_mtls),
        cmocka_unit_test(test_discovery_urls),
        cmocka_unit_test(test_fetch_wallet_path_only),
        cmocka_unit_test(test_fetch_falls_back_to_standard_path_on_404),
        cmocka_unit_test(test_fetch_neither_path_not_found),
        cmocka_unit_test(test_fetch_generic_has_no_fallback),
        cmocka_unit_test(test_fetch_server_error_does_not_fall_back),
        cmocka_unit_test(test_fetch_checks_issuer),
        cmocka_unit_test(test_fetch_other_client_error_is_status),
        cmocka_unit_test(test_static_metadata_file),
    };
    const int rc = cmocka_run_group_tests(tests, nullptr, nullptr);
    g_ca.reset();
    return rc;
}

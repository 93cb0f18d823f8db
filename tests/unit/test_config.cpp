// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-login.conf(5): the INI dialect, defaults, PSC presets, layering, every rejection (by its
// reason token and line), and the file checks on the config and the secrets it names.
#include "config.hpp"
#include "utf8.hpp"
#include "ini.hpp"
#include "testing.hpp"

#include <cstdlib>
#include <cstring>
#include <optional>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace psc;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kGeneric = "[provider]\n"
                                      "issuer = https://idp.example.org/realms/x\n"
                                      "client_id = psc-login\n"
                                      "client_secret_file = /etc/psc-login/client_secret\n";

constexpr std::string_view kSandbox = "[provider]\n"
                                      "profile = psc-sandbox\n"
                                      "client_id = psc-login\n"
                                      "tls_client_cert = /etc/psc-login/client.crt\n"
                                      "tls_client_key = /etc/psc-login/client.key\n";

Result<Config> text(std::string_view s, ConfigDiagnostics* d = nullptr) {
    return load_config_from_text("/etc/psc-login/psc-login.conf", s, d);
}

std::string with(std::string_view base, std::string_view extra) {
    return std::string(base) + std::string(extra);
}

// Fails unless loading `s` fails with `reason` reported on `line`.
void expect_error_at(std::string_view s, std::string_view reason, unsigned line) {
    ConfigDiagnostics d;
    auto r = text(s, &d);
    assert_reason(r, reason);
    bool found = false;
    for (const auto& e : d.errors)
        found = found || (e.reason == reason && e.line == line);
    if (!found)
        print_error("no \"%.*s\" at line %u; first: %s\n", static_cast<int>(reason.size()),
                    reason.data(), line, d.errors.empty() ? "-" : d.errors[0].text().c_str());
    assert_true(found);
}

bool has_error(const ConfigDiagnostics& d, std::string_view reason, unsigned line) {
    for (const auto& e : d.errors)
        if (e.reason == reason && e.line == line)
            return true;
    return false;
}

bool has_warning(const ConfigDiagnostics& d, std::string_view reason, unsigned line) {
    for (const auto& w : d.warnings)
        if (w.reason == reason && w.line == line)
            return true;
    return false;
}

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/psc-test-config-XXXXXX";
        path = mkdtemp(tmpl);
        ::chmod(path.c_str(), 0755);
    }
    ~TempDir() { fs::remove_all(path); }
    std::string write(const std::string& name, std::string_view content, mode_t mode = 0644) const {
        const std::string p = path + "/" + name;
        int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(::write(fd, content.data(), content.size()),
                         static_cast<ssize_t>(content.size()));
        ::close(fd);
        assert_int_equal(::chmod(p.c_str(), mode), 0);
        return p;
    }
    std::string dropin_dir() const {
        const std::string d = path + "/psc-login.conf.d";
        ::mkdir(d.c_str(), 0755);
        ::chmod(d.c_str(), 0755);
        return d;
    }
    // A valid generic config whose secret really exists, mode 0600.
    std::string good_config(std::string_view extra = {}) const {
        const std::string secret = write("client_secret", "s3cr3t\n", 0600);
        return write("psc-login.conf", "[provider]\nissuer = https://idp.example.org/realms/x\n"
                                       "client_id = psc-login\nclient_secret_file = " +
                                           secret + "\n" + std::string(extra));
    }
};

LoadOptions opts() {
    LoadOptions o;
    o.trusted_owner = ::geteuid();
    return o;
}

} // namespace

// ---- INI dialect ----

static void test_ini_syntax_accepted(void**) {
    ConfigDiagnostics d;
    auto doc = parse_ini("f",
                         "\xef\xbb\xbf# comment\n; other comment\n\n  [ provider ]  \r\n"
                         "  client_id   =  a b = c  \r\n[service:gdm-password.x_1]\nflows = code\n",
                         d);
    assert_true(d.errors.empty());
    assert_int_equal(doc.entries.size(), 2);
    assert_string_equal(doc.entries[0].section.c_str(), "provider");
    assert_string_equal(doc.entries[0].value.c_str(), "a b = c");
    assert_int_equal(doc.entries[0].line, 5);
    assert_string_equal(doc.entries[1].section.c_str(), "service:gdm-password.x_1");
}

static void test_ini_line_too_long(void**) {
    expect_error_at(with(kGeneric, "client_id = " + std::string(kIniMaxLineBytes, 'a') + "\n"),
                    "line_too_long", 5);
}

static void test_ini_nul_byte(void**) {
    expect_error_at(with(kGeneric, std::string("scopes = openid\0x\n", 18)), "nul_byte", 5);
}

static void test_ini_invalid_utf8(void**) {
    expect_error_at(with(kGeneric, "client_id = \xc3\x28\n"), "invalid_utf8", 5);
    expect_error_at(with(kGeneric, "client_id = \xc0\xaf\n"), "invalid_utf8", 5);     // overlong
    expect_error_at(with(kGeneric, "client_id = \xed\xa0\x80\n"), "invalid_utf8", 5); // surrogate
    expect_error_at(with(kGeneric, "client_id = \xe2\x82\n"), "invalid_utf8", 5);     // truncated
    assert_true(is_valid_utf8("Vous pouvez fermer cette fenêtre"));
}

static void test_ini_control_character(void**) {
    expect_error_at(with(kGeneric, "client_id = a\x1b[31m\n"), "control_character", 5);
}

static void test_ini_bad_section(void**) {
    expect_error_at(with(kGeneric, "[login\n"), "bad_section", 5);
    expect_error_at(with(kGeneric, "[Login]\n"), "bad_section", 5);
    expect_error_at(with(kGeneric, "[service:ssh d]\n"), "bad_section", 5);
    expect_error_at(with(kGeneric, "[service:]\n"), "bad_section", 5);
}

static void test_ini_bad_key(void**) {
    expect_error_at(with(kGeneric, "Client-ID = x\n"), "bad_key", 5);
    expect_error_at(with(kGeneric, " = x\n"), "bad_key", 5);
}

static void test_ini_syntax_error(void**) {
    expect_error_at(with(kGeneric, "userinfo yes\n"), "syntax", 5);
}

static void test_ini_key_outside_section(void**) {
    expect_error_at(with("client_id = x\n", kGeneric), "key_outside_section", 1);
}

static void test_ini_duplicate_key_later_wins_with_warning(void**) {
    ConfigDiagnostics d;
    auto r = text(with(kGeneric, "client_id = second\n"), &d);
    assert_ok(r);
    assert_string_equal(r->provider.client_id.c_str(), "second");
    assert_true(has_warning(d, "duplicate_key", 5));
}

static void test_issue_text_format(void**) {
    ConfigDiagnostics d;
    auto r = text(with(kGeneric, "\n\n\n\n\n\n\nacr_missing = maybe\n"), &d);
    assert_reason(r, "unknown_value");
    assert_string_equal(d.errors.at(0).text().c_str(),
                        "/etc/psc-login/psc-login.conf:12: unknown value \"maybe\" for acr_missing "
                        "(expected accept or reject)");
    assert_string_equal(r.error().message.c_str(), d.errors.at(0).text().c_str());
}

static void test_all_errors_reported(void**) {
    ConfigDiagnostics d;
    auto r =
        text(with(kGeneric, "userinfo = maybe\nclock_skew = soon\n[login]\ntimeout = 1\n"), &d);
    assert_reason(r, "bad_bool");
    assert_int_equal(d.errors.size(), 3);
    assert_string_equal(d.errors[1].reason.c_str(), "bad_duration");
    assert_string_equal(d.errors[2].reason.c_str(), "duration_range");
}

// ---- defaults ----

static void test_defaults_generic(void**) {
    auto r = text(kGeneric);
    assert_ok(r);
    const Config& c = *r;
    assert_true(c.provider.profile == Profile::generic);
    assert_string_equal(c.provider.discovery_url.c_str(),
                        "https://idp.example.org/realms/x/.well-known/openid-configuration");
    assert_true(c.provider.scopes == std::vector<std::string>{"openid"});
    assert_true(c.provider.acr_values.empty());
    assert_true(c.provider.acr_accept.empty());                // no acr requirement ...
    assert_true(c.provider.acr_missing == AcrMissing::accept); // ... and a missing acr is fine
    assert_true(c.provider.token_auth_method == TokenAuthMethod::client_secret_basic);
    assert_true((c.provider.id_token_algs == std::vector<std::string>{"RS256", "PS256", "ES256"}));
    assert_true(c.provider.userinfo);
    assert_int_equal(c.provider.clock_skew.count(), 60);
    assert_false(c.provider.allow_insecure_http);
    assert_string_equal(c.callback.listen_host.c_str(), "127.0.0.1");
    assert_int_equal(c.callback.listen_port, 8765);
    assert_true(c.login.flows == std::vector<Flow>{Flow::code});
    assert_int_equal(c.login.timeout.count(), 180);
    assert_true(c.login.ciba_channel == CibaChannel::mobile);
    assert_int_equal(c.login.max_pending, 1024);
    assert_int_equal(c.login.max_pending_per_user, 4);
    assert_string_equal(c.mapping.identity_claim.c_str(), "sub");
    assert_string_equal(c.mapping.map_file.c_str(), "/etc/psc-login/users.map");
    assert_int_equal(c.mapping.min_uid, 1000);
    assert_false(c.mapping.authz.require_auth_mode.has_value());
}

static void test_defaults_limits(void**) {
    auto r = text(kGeneric);
    assert_ok(r);
    assert_int_equal(r->limits.http_max_bytes, 256 * 1024);
    assert_int_equal(r->limits.jwt_max_bytes, 16 * 1024);
    assert_int_equal(r->limits.json_max_depth, 32);
    assert_int_equal(r->limits.callback_max_request, 8 * 1024);
    assert_int_equal(r->limits.dbus_max_string, 1024);
    assert_int_equal(r->limits.jwks_refetch_interval.count(), 60);
}

static void test_limits_set(void**) {
    auto r = text(with(kGeneric, "[limits]\nhttp_max_bytes = 1MiB\njwt_max_bytes = 32K\n"
                                 "json_max_depth = 16\ncallback_max_request = 4096\n"
                                 "dbus_max_string = 2KiB\njwks_refetch_interval = 2min\n"));
    assert_ok(r);
    assert_int_equal(r->limits.http_max_bytes, 1024 * 1024);
    assert_int_equal(r->limits.jwt_max_bytes, 32 * 1024);
    assert_int_equal(r->limits.json_max_depth, 16);
    assert_int_equal(r->limits.callback_max_request, 4096);
    assert_int_equal(r->limits.dbus_max_string, 2048);
    assert_int_equal(r->limits.jwks_refetch_interval.count(), 120);
}

// ---- profiles ----

static void check_psc_preset(const Config& c, std::string_view issuer) {
    assert_true(c.provider.issuer == issuer);
    assert_true(c.provider.discovery_url ==
                std::string(issuer) + "/.well-known/wallet-openid-configuration");
    assert_true((c.provider.scopes == std::vector<std::string>{"openid", "scope_all"}));
    assert_true(c.provider.acr_values == std::vector<std::string>{"eidas1"});
    assert_true(c.provider.acr_accept == std::vector<std::string>{"eidas1"});
    assert_true(c.provider.acr_missing == AcrMissing::reject);
    assert_true(c.provider.token_auth_method == TokenAuthMethod::tls_client_auth);
    assert_true(c.provider.userinfo);
    assert_string_equal(c.mapping.identity_claim.c_str(), "preferred_username");
    assert_string_equal(c.mapping.alias_claim.c_str(), "otherIds");
    assert_true((c.login.flows == std::vector<Flow>{Flow::code, Flow::ciba}));
}

static void test_profile_psc_sandbox(void**) {
    auto r = text(kSandbox);
    assert_ok(r);
    assert_true(r->provider.profile == Profile::psc_sandbox);
    check_psc_preset(*r, "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet");
}

static void test_profile_psc_production(void**) {
    std::string s(kSandbox);
    s.replace(s.find("psc-sandbox"), 11, "psc-production");
    auto r = text(s);
    assert_ok(r);
    assert_true(r->provider.profile == Profile::psc_production);
    check_psc_preset(*r, "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet");
}

static void test_profile_generic_needs_issuer(void**) {
    expect_error_at("[provider]\nprofile = generic\nclient_id = x\nclient_secret_file = /s\n",
                    "missing_issuer", 1);
}

static void test_profile_unknown(void**) {
    expect_error_at(with(kGeneric, "profile = psc\n"), "unknown_value", 5);
}

static void test_explicit_keys_override_preset(void**) {
    // Keys written before the profile line still win: the preset is a layer below every file.
    auto r = text("[login]\nflows = ciba\n[provider]\nscopes = openid scope_all email\n"
                  "acr_missing = accept\n" +
                  std::string(kSandbox.substr(11)) + "issuer = https://psc.example.org/realm/\n");
    assert_ok(r);
    assert_true(r->login.flows == std::vector<Flow>{Flow::ciba});
    assert_int_equal(r->provider.scopes.size(), 3);
    assert_true(r->provider.acr_missing == AcrMissing::accept);
    assert_string_equal(r->provider.discovery_url.c_str(),
                        "https://psc.example.org/realm/.well-known/wallet-openid-configuration");
}

static void test_psc_rejects_device_flow(void**) {
    expect_error_at(with(kSandbox, "[login]\nflows = code device\n"), "flow_not_supported", 7);
    expect_error_at(with(kSandbox, "[service:sshd]\nflows = device\n"), "flow_not_supported", 7);
    assert_ok(text(with(kGeneric, "[login]\nflows = code device\n")));
}

static void test_psc_preset_tls_needs_cert(void**) {
    ConfigDiagnostics d;
    auto r = text("[provider]\nprofile = psc-production\nclient_id = x\n", &d);
    assert_reason(r, "tls_client_auth_incomplete");
    assert_int_equal(d.errors[0].line, 2); // the profile line, where the method came from
    assert_non_null(std::strstr(d.errors[0].message.c_str(), "profile psc-production"));
}

static void test_psc_private_key_jwt_warns(void**) {
    ConfigDiagnostics d;
    assert_ok(text(with(kSandbox, "token_auth_method = private_key_jwt\n"
                                  "client_assertion_key = /etc/psc-login/assertion.key\n"),
                   &d));
    assert_true(has_warning(d, "psc_auth_method", 6));
}

// ---- values ----

static void test_unknown_enum_values(void**) {
    expect_error_at(with(kGeneric, "token_auth_method = client_secret_jwt\n"), "unknown_value", 5);
    expect_error_at(with(kGeneric, "[login]\nciba_channel = mobile\n"), "unknown_value", 6);
    expect_error_at(with(kGeneric, "[login]\nflows = code paste\n"), "unknown_value", 6);
    expect_error_at(with(kGeneric, "[mapping]\nrequire_auth_mode = PIN\n"), "unknown_value", 6);
}

static void test_flows_empty_rejected(void**) {
    expect_error_at(with(kGeneric, "[login]\nflows =\n"), "empty_value", 6);
}

static void test_booleans(void**) {
    for (const char* v : {"yes", "true", "on", "1", "YES"}) {
        auto r = text(with(kGeneric, std::string("userinfo = no\nuserinfo = ") + v + "\n"));
        assert_ok(r);
        assert_true(r->provider.userinfo);
    }
    for (const char* v : {"no", "false", "off", "0"}) {
        auto r = text(with(kGeneric, std::string("userinfo = ") + v + "\n"));
        assert_ok(r);
        assert_false(r->provider.userinfo);
    }
    expect_error_at(with(kGeneric, "userinfo = maybe\n"), "bad_bool", 5);
}

static void test_durations(void**) {
    const std::pair<const char*, long> cases[] = {{"90", 90},    {"90s", 90}, {"90sec", 90},
                                                  {"5min", 300}, {"5m", 300}, {"1h", 3600}};
    for (const auto& [v, secs] : cases) {
        auto r = text(with(kGeneric, std::string("[login]\ntimeout = ") + v + "\n"));
        assert_ok(r);
        assert_int_equal(r->login.timeout.count(), secs);
    }
    expect_error_at(with(kGeneric, "[login]\ntimeout = 3 min\n"), "bad_duration", 6);
    expect_error_at(with(kGeneric, "[login]\ntimeout = -5\n"), "bad_duration", 6);
    expect_error_at(with(kGeneric, "[login]\ntimeout = 99999999999999999999h\n"), "bad_duration",
                    6);
}

static void test_duration_ranges(void**) {
    expect_error_at(with(kGeneric, "[login]\ntimeout = 9\n"), "duration_range", 6);
    expect_error_at(with(kGeneric, "[login]\ntimeout = 2h\n"), "duration_range", 6);
    expect_error_at(with(kGeneric, "clock_skew = 11min\n"), "duration_range", 5);
    expect_error_at(with(kGeneric, "http_timeout = 0\n"), "duration_range", 5);
    assert_ok(text(with(kGeneric, "[login]\ntimeout = 10\n")));
    assert_ok(text(with(kGeneric, "[login]\ntimeout = 1h\n")));
}

static void test_numbers(void**) {
    expect_error_at(with(kGeneric, "[mapping]\nmin_uid = 1e3\n"), "bad_number", 6);
    expect_error_at(with(kGeneric, "[mapping]\nmin_uid = 50\n"), "number_range", 6);
    expect_error_at(with(kGeneric, "[login]\nmax_pending = 0\n"), "number_range", 6);
    expect_error_at(with(kGeneric, "[limits]\njson_max_depth = 1000\n"), "number_range", 6);
    auto r = text(with(kGeneric, "[mapping]\nmin_uid = 500\n"));
    assert_ok(r);
    assert_int_equal(r->mapping.min_uid, 500);
}

static void test_sizes(void**) {
    expect_error_at(with(kGeneric, "[limits]\nhttp_max_bytes = 1G\n"), "bad_size", 6);
    expect_error_at(with(kGeneric, "[limits]\njwt_max_bytes = 100\n"), "size_range", 6);
}

static void test_bad_urls(void**) {
    expect_error_at(with(kGeneric, "issuer = ftp://idp.example.org\n"), "bad_url", 5);
    expect_error_at(with(kGeneric, "issuer = https://user@idp.example.org\n"), "bad_url", 5);
    expect_error_at(with(kGeneric, "issuer = https://idp.example.org/#x\n"), "bad_url", 5);
    expect_error_at(with(kGeneric, "discovery_url = https:///x\n"), "bad_url", 5);
    expect_error_at(with(kGeneric, "discovery_url = https://idp:0/x\n"), "bad_url", 5);
    expect_error_at(with(kGeneric, "[callback]\nredirect_uri = https://a b/\n"), "bad_url", 6);
}

static void test_insecure_urls(void**) {
    expect_error_at(
        with(kGeneric, "issuer = http://idp.example.org/x\nallow_insecure_http = yes\n"),
        "insecure_url", 5);
    expect_error_at(with(kGeneric, "issuer = http://127.0.0.1:8080/x\n"), "insecure_url", 5);
    expect_error_at(with(kGeneric, "discovery_url = http://localhost/d\n"), "insecure_url", 5);
    for (const char* host : {"127.0.0.1:8080", "[::1]:8080", "localhost"}) {
        auto r = text(with(kGeneric, std::string("issuer = http://") + host +
                                         "/x\nallow_insecure_http = yes\n"));
        assert_ok(r);
    }
}

static void test_redirect_uri(void**) {
    expect_error_at(with(kGeneric, "[callback]\nredirect_uri = http://bastion.example.org/cb\n"),
                    "insecure_url", 6);
    assert_ok(text(with(kGeneric, "[callback]\nredirect_uri = http://127.0.0.1:8765/callback\n")));
    assert_ok(text(with(kGeneric, "[callback]\nredirect_uri = https://bastion.example.org/cb\n")));
}

static void test_callback_listen(void**) {
    auto r = text(with(kGeneric, "[callback]\ncallback_listen = [::1]:9000\n"));
    assert_ok(r);
    assert_string_equal(r->callback.listen_host.c_str(), "::1");
    assert_int_equal(r->callback.listen_port, 9000);
    assert_true(r->callback.listen_ipv6);
    for (const char* bad : {"localhost:8765", "127.0.0.1", "127.0.0.1:70000", "::1:80", "[::1]",
                            "[zz]:80", "127.0.0.1:"})
        expect_error_at(with(kGeneric, std::string("[callback]\ncallback_listen = ") + bad + "\n"),
                        "bad_listen", 6);
}

static void test_callback_tls_pair(void**) {
    expect_error_at(with(kGeneric, "[callback]\ncallback_tls_cert = /etc/psc-login/cb.crt\n"),
                    "callback_tls_incomplete", 6);
}

static void test_alg_none_rejected(void**) {
    expect_error_at(with(kGeneric, "id_token_algs = RS256 none\n"), "alg_none", 5);
    expect_error_at(with(kGeneric, "client_assertion_alg = none\n"), "alg_none", 5);
}

static void test_alg_unknown_rejected(void**) {
    expect_error_at(with(kGeneric, "id_token_algs = RS256 RS1\n"), "alg_unknown", 5);
    expect_error_at(with(kGeneric, "id_token_algs = rs256\n"), "alg_unknown", 5);
    expect_error_at(with(kGeneric, "client_assertion_alg = HS256\n"), "alg_unknown", 5);
    expect_error_at(with(kGeneric, "id_token_algs =\n"), "empty_value", 5);
}

static void test_alg_hs_needs_secret(void**) {
    expect_error_at(with(kSandbox, "id_token_algs = RS256 HS256\n"), "alg_hs_needs_secret", 6);
    assert_ok(text(with(kSandbox, "id_token_algs = RS256 HS256\nclient_secret_file = /s\n")));
}

static void test_decryption_keys(void**) {
    auto c = text(with(kSandbox, "id_token_decryption_key = /etc/psc-login/enc.pem\n"));
    assert_ok(c);
    assert_string_equal(c->provider.id_token_decryption_key.c_str(), "/etc/psc-login/enc.pem");
    assert_int_equal(c->provider.id_token_decryption_algs.size(), 2);
    c = text(with(kSandbox, "id_token_decryption_key = /k\nid_token_decryption_algs = RSA-OAEP "
                            "RSA1_5\n"));
    assert_ok(c);
    assert_string_equal(c->provider.id_token_decryption_algs[1].c_str(), "RSA1_5");
    expect_error_at(with(kSandbox, "id_token_decryption_algs = RSA-OAEP\n"),
                    "decryption_algs_without_key", 6);
    expect_error_at(with(kSandbox, "id_token_decryption_key = /k\nid_token_decryption_algs = "
                                   "A128KW\n"),
                    "alg_unknown", 7);
    expect_error_at(with(kSandbox, "id_token_decryption_key = /k\nid_token_decryption_algs = "
                                   "RSA1_5 RSA1_5\n"),
                    "alg_duplicate", 7);
    expect_error_at(with(kSandbox, "id_token_decryption_key = /k\nid_token_decryption_algs =\n"),
                    "alg_list_empty", 7);
    expect_error_at(with(kSandbox, "id_token_decryption_key = enc.pem\n"), "relative_path", 6);
}

static void test_backchannel_action(void**) {
    auto c = text(kSandbox);
    assert_ok(c);
    assert_true(c->callback.backchannel_logout_action == BackchannelAction::none);
    c = text(with(kSandbox, "[callback]\nbackchannel_logout_action = lock\n"));
    assert_ok(c);
    assert_true(c->callback.backchannel_logout_action == BackchannelAction::lock);
    c = text(with(kSandbox, "[callback]\nbackchannel_logout_action = terminate\n"));
    assert_ok(c);
    assert_true(c->callback.backchannel_logout_action == BackchannelAction::terminate);
    assert_false(text(with(kSandbox, "[callback]\nbackchannel_logout_action = kill\n")).ok());
}

static void test_relative_path(void**) {
    expect_error_at(with(kGeneric, "client_secret_file = secret\n"), "relative_path", 5);
    expect_error_at(with(kGeneric, "[mapping]\nmap_file =\n"), "relative_path", 6);
}

static void test_authz_values(void**) {
    expect_error_at(with(kGeneric, "[mapping]\nallow_professions = 10 1\n"), "bad_profession", 6);
    expect_error_at(with(kGeneric, "[mapping]\nallow_professions = 1O\n"), "bad_profession", 6);
    expect_error_at(with(kGeneric, "[mapping]\ndeny_categories = EF\n"), "bad_category", 6);
    expect_error_at(with(kGeneric, "[mapping]\ndeny_categories = e\n"), "bad_category", 6);
    expect_error_at(with(kGeneric, "[mapping]\nallow_idnat = " + std::string(65, '8') + "\n"),
                    "bad_idnat", 6);
    expect_error_at(with(kGeneric, "[mapping]\nallow_system_users = root -x\n"), "bad_user_name",
                    6);
    auto r = text(with(kGeneric, "[mapping]\nallow_professions = 10 21 60\ndeny_categories = E\n"
                                 "allow_idnat = 810001234567 500000001815646/CPAT00045\n"
                                 "require_auth_mode = CARD\nallow_system_users = admin\n"));
    assert_ok(r);
    assert_int_equal(r->mapping.authz.allow_professions.size(), 3);
    assert_true(r->mapping.authz.deny_categories == std::vector<char>{'E'});
    assert_int_equal(r->mapping.authz.allow_idnat.size(), 2);
    assert_true(r->mapping.authz.require_auth_mode == AuthMode::card);
}

static void test_claims(void**) {
    expect_error_at(with(kGeneric, "[mapping]\nidentity_claim =\n"), "bad_claim", 6);
    expect_error_at(with(kGeneric, "[mapping]\nalias_claim = other ids\n"), "bad_claim", 6);
}

static void test_scopes(void**) {
    expect_error_at(with(kGeneric, "scopes = profile email\n"), "scopes_no_openid", 5);
    expect_error_at(with(kGeneric, "scopes = openid a\"b\n"), "bad_scope", 5);
}

static void test_username_template(void**) {
    auto r = text(with(kGeneric, "[mapping]\nusername_template = psc-{idnat_digits}\n"));
    assert_ok(r);
    assert_string_equal(r->mapping.username_template.c_str(), "psc-{idnat_digits}");
    assert_ok(text(with(kGeneric, "[mapping]\nusername_template = {idnat_lower}\n")));
    assert_ok(text(with(kGeneric, "[mapping]\nusername_template = psc-{rpps}\n")));
    for (const char* bad : {"psc-{uid}", "psc-user", "PSC-{idnat}", "{idnat_digits}", "psc-{idnat",
                            "9{idnat}", "psc.{idnat}"})
        expect_error_at(with(kGeneric, std::string("[mapping]\nusername_template = ") + bad + "\n"),
                        "bad_template", 6);
}

// ---- cross-key rules ----

static void test_missing_client_id(void**) {
    expect_error_at("[provider]\nissuer = https://idp.example.org\nclient_secret_file = /s\n",
                    "missing_client_id", 1);
    // No [provider] at all: the issue names the file without a line.
    ConfigDiagnostics d;
    assert_reason(text("[login]\nflows = code\n", &d), "missing_client_id");
    assert_int_equal(d.errors[0].line, 0);
}

static void test_missing_issuer(void**) {
    expect_error_at("# site\n[provider]\nclient_id = x\nclient_secret_file = /s\n",
                    "missing_issuer", 2);
}

static void test_client_auth_requirements(void**) {
    expect_error_at("[provider]\nissuer = https://i\nclient_id = x\n", "missing_client_secret_file",
                    1);
    expect_error_at(with(kSandbox, "token_auth_method = client_secret_post\n"),
                    "missing_client_secret_file", 6);
    expect_error_at(with(kGeneric, "token_auth_method = tls_client_auth\n"),
                    "tls_client_auth_incomplete", 5);
    expect_error_at(with(kGeneric, "token_auth_method = private_key_jwt\n"),
                    "missing_client_assertion_key", 5);
    assert_ok(text(with(kGeneric, "token_auth_method = tls_client_auth\ntls_client_cert = /c\n"
                                  "tls_client_key = /k\n")));
}

static void test_acr_rules(void**) {
    // acr_values alone: acr_accept follows it.
    auto r = text(with(kGeneric, "acr_values = eidas2\n"));
    assert_ok(r);
    assert_true(r->provider.acr_accept == std::vector<std::string>{"eidas2"});
    expect_error_at(with(kSandbox, "acr_accept = eidas3\n"), "acr_inconsistent", 6);
    ConfigDiagnostics d;
    auto r2 = text(with(kSandbox, "acr_accept =\n"), &d);
    assert_ok(r2);
    assert_true(r2->provider.acr_accept.empty());
    assert_true(has_warning(d, "acr_accept_empty", 6));
}

static void test_pending_limits(void**) {
    expect_error_at(with(kGeneric, "[login]\nmax_pending = 2\nmax_pending_per_user = 3\n"),
                    "pending_limits", 7);
}

static void test_mapping_conflict(void**) {
    expect_error_at(with(kGeneric, "[mapping]\nmap_file = /etc/psc-login/users.map\n"
                                   "username_template = psc-{idnat_digits}\n"),
                    "mapping_conflict", 7);
}

// [mapping] source = ldap: the keys it needs, and every key of another source is an error.
constexpr std::string_view kLdap = "[mapping]\n"
                                   "source = ldap\n"
                                   "ldap_uri = ldaps://dir1.example ldap://dir2.example:389\n"
                                   "ldap_base = ou=people,dc=example\n"
                                   "ldap_idnat_attribute = employeeNumber\n";

static void test_ldap_source(void**) {
    auto c = text(with(kGeneric, std::string(kLdap)));
    assert_ok(c);
    const LdapConfig& l = c->mapping.ldap;
    assert_int_equal(static_cast<int>(c->mapping.source), static_cast<int>(MappingSource::ldap));
    assert_int_equal(l.uris.size(), 2);
    assert_string_equal(l.user_attribute.c_str(), "uid");
    assert_string_equal(l.effective_filter().c_str(), "(employeeNumber={idnat})");
    assert_int_equal(l.timeout.count(), 5);
    assert_int_equal(l.cache_ttl.count(), 60);
    assert_true(l.bind_dn.empty());
    c = text(with(kGeneric, std::string(kLdap) +
                                "ldap_filter = (&(objectClass=person)(employeeNumber={idnat}))\n"
                                "ldap_user_attribute = sAMAccountName\n"
                                "ldap_bind_dn = cn=psc,dc=example\n"
                                "ldap_bind_password_file = /etc/psc-login/ldap.pw\n"
                                "ldap_timeout = 3s\nldap_cache_ttl = 0\n"));
    assert_ok(c);
    assert_string_equal(c->mapping.ldap.effective_filter().c_str(),
                        "(&(objectClass=person)(employeeNumber={idnat}))");
    assert_int_equal(c->mapping.ldap.cache_ttl.count(), 0);
    assert_string_equal(std::string(to_string(c->mapping.source)).c_str(), "ldap");
}

static void test_ldap_refusals(void**) {
    const std::string base(kLdap);
    // line numbers: [mapping] is line 5, source 6, ldap_uri 7, base 8, attribute 9, extra 10.
    expect_error_at(with(kGeneric, "[mapping]\nsource = ldap\nldap_base = dc=x\n"
                                   "ldap_idnat_attribute = employeeNumber\n"),
                    "ldap_incomplete", 5); // at [mapping]: the key is missing
    expect_error_at(with(kGeneric, "[mapping]\nldap_uri = ldaps://dir.example\n"),
                    "ldap_without_source", 6);
    expect_error_at(with(kGeneric, "[mapping]\nsource = template\nusername_template = psc-{rpps}\n"
                                   "ldap_base = dc=x\n"),
                    "ldap_without_source", 8);
    expect_error_at(with(kGeneric, "[mapping]\nsource = nis\n"), "unknown_value", 6);
    expect_error_at(with(kGeneric, "[mapping]\nsource = template\n"),
                    "missing_username_template", 5);
    expect_error_at(with(kGeneric, base + "map_file = /etc/psc-login/users.map\n"),
                    "mapping_conflict", 10);
    expect_error_at(with(kGeneric, base + "username_template = psc-{rpps}\n"),
                    "mapping_conflict", 10);
    for (const char* uri : {"https://dir.example", "dir.example", "ldaps://a,ldaps://b"})
        expect_error_at(with(kGeneric, "[mapping]\nsource = ldap\nldap_uri = " +
                                           std::string(uri) + "\n"),
                        "ldap_uri", 7);
    for (const char* f : {"employeeNumber={idnat}", "(employeeNumber=x)", "((a={idnat})",
                          "(a={idnat}))", "(a={idnat})(b=1)", "(a={rpps}{idnat})"})
        expect_error_at(with(kGeneric, base + "ldap_filter = " + f + "\n"), "ldap_filter", 10);
    for (const char* a : {"employee number", "1abc", "-x", "a_b", "ém"})
        expect_error_at(with(kGeneric, base + "ldap_user_attribute = " + a + "\n"),
                        "ldap_attribute", 10);
    assert_ok(text(with(kGeneric, base + "ldap_user_attribute = 0.9.2342.19200300.100.1.1\n")));
    expect_error_at(with(kGeneric, base + "ldap_bind_dn = cn=psc,dc=example\n"),
                    "ldap_bind_incomplete", 10);
    expect_error_at(with(kGeneric, base + "ldap_bind_password_file = /etc/psc-login/ldap.pw\n"),
                    "ldap_bind_incomplete", 10);
    expect_error_at(with(kGeneric, base + "ldap_timeout = 0\n"), "duration_range", 10);
}

static void test_sssd_source(void**) {
    auto c = text(with(kGeneric, "[mapping]\nsource = sssd\nsssd_idnat_attribute = employeeNumber\n"));
    assert_ok(c);
    assert_string_equal(std::string(to_string(c->mapping.source)).c_str(), "sssd");
    assert_string_equal(c->mapping.sssd.idnat_attribute.c_str(), "employeeNumber");
    assert_int_equal(c->mapping.sssd.timeout.count(), 10);
    c = text(with(kGeneric, "[mapping]\nsource = sssd\nsssd_idnat_attribute = pscIdNat\n"
                            "sssd_timeout = 3s\n"));
    assert_ok(c);
    assert_int_equal(c->mapping.sssd.timeout.count(), 3);
    // line numbers: [mapping] is line 5, source 6, then 7, 8.
    expect_error_at(with(kGeneric, "[mapping]\nsource = sssd\n"), "sssd_incomplete", 5);
    expect_error_at(with(kGeneric, "[mapping]\nsssd_idnat_attribute = employeeNumber\n"),
                    "sssd_without_source", 6);
    expect_error_at(with(kGeneric, "[mapping]\nsource = ldap\nldap_uri = ldaps://d\n"
                                   "sssd_timeout = 3s\n"),
                    "sssd_without_source", 8);
    expect_error_at(with(kGeneric, "[mapping]\nsource = sssd\nsssd_idnat_attribute = a b\n"),
                    "ldap_attribute", 7);
    expect_error_at(with(kGeneric, "[mapping]\nsource = sssd\nsssd_idnat_attribute = x\n"
                                   "ldap_base = dc=x\n"),
                    "ldap_without_source", 8);
    expect_error_at(with(kGeneric, "[mapping]\nsource = sssd\nsssd_idnat_attribute = x\n"
                                   "username_template = psc-{rpps}\n"),
                    "mapping_conflict", 8);
    expect_error_at(with(kGeneric, "[mapping]\nsource = sssd\nsssd_idnat_attribute = x\n"
                                   "map_file = /etc/psc-login/users.map\n"),
                    "mapping_conflict", 8);
    expect_error_at(with(kGeneric, "[mapping]\nsource = sssd\nsssd_idnat_attribute = x\n"
                                   "sssd_timeout = 0\n"),
                    "duration_range", 8);
}

static void test_http_timeouts(void**) {
    expect_error_at(with(kGeneric, "http_connect_timeout = 40\nhttp_timeout = 30\n"),
                    "http_timeouts", 5);
}

// ---- sections and keys ----

// design §7: a misspelt key or section is a rule the operator believes applied — an error.
static void test_unknown_key_and_section_are_errors(void**) {
    ConfigDiagnostics d;
    auto r = text(with(kGeneric, "colour = blue\n[theme]\nx = 1\n"), &d);
    assert_false(r.ok());
    assert_int_equal(d.errors.size(), 2); // keys of an unknown section are not repeated
    assert_true(d.warnings.empty());
    assert_true(has_error(d, "unknown_section", 6));
    bool text_ok = false;
    for (const auto& e : d.errors)
        text_ok = text_ok || e.text() == "/etc/psc-login/psc-login.conf:5: unknown key \"colour\" "
                                         "in [provider] (see psc-login.conf(5) for the keys of "
                                         "each section)";
    assert_true(text_ok);
    expect_error_at(with(kGeneric, "[mapping]\ndeny_categorie = E\n"), "unknown_key", 6);
    expect_error_at(with(kGeneric, "[mappings]\nmap_file = /x\n"), "unknown_section", 5);
}

// design §4: a rule that reads UserInfo with userinfo = no is refused, not silently dropped.
static void test_rules_need_userinfo(void**) {
    const std::string no_ui = std::string(kGeneric) + "userinfo = no\n";
    expect_error_at(no_ui + "[mapping]\nallow_professions = 10\n", "rule_needs_userinfo", 7);
    expect_error_at(no_ui + "[mapping]\ndeny_categories = E\n", "rule_needs_userinfo", 7);
    expect_error_at(no_ui + "[mapping]\nrequire_auth_mode = CARD\n", "rule_needs_userinfo", 7);
    expect_error_at(no_ui + "[service:sshd]\ndeny_categories = E\n", "rule_needs_userinfo", 7);
    assert_ok(text(no_ui + "[mapping]\nallow_idnat = 810001234567\n"));
}

// design §4: one placeholder, so a template is one-to-one and invertible.
static void test_template_one_placeholder(void**) {
    expect_error_at(with(kGeneric, "[mapping]\nusername_template = p{rpps}-{idnat_digits}\n"),
                    "bad_template", 6);
    expect_error_at(with(kGeneric, "[mapping]\nusername_template = {rpps}\n"), "bad_template", 6);
}

static void test_key_in_wrong_section(void**) {
    expect_error_at(with(kGeneric, "flows = ciba\n"), "key_wrong_section", 5);
    expect_error_at(with(kGeneric, "[login]\nallow_professions = 10\n"), "key_wrong_section", 6);
}

static void test_key_not_per_service(void**) {
    expect_error_at(with(kGeneric, "[service:sshd]\nmax_pending = 3\n"), "key_not_per_service", 6);
    expect_error_at(with(kGeneric, "[service:sshd]\nissuer = https://x\n"), "key_not_per_service",
                    6);
    expect_error_at(with(kGeneric, "[service:sshd]\nmin_uid = 0\n"), "key_not_per_service", 6);
}

static void test_service_overrides(void**) {
    auto r = text(with(kSandbox, "[login]\ntimeout = 120\nciba_channel = CARD\n"
                                 "[mapping]\nallow_professions = 10 21\nrequire_auth_mode = CARD\n"
                                 "[service:sshd]\nflows = ciba code\n"
                                 "[service:sudo]\ntimeout = 60\nallow_professions = 10\n"
                                 "require_auth_mode =\n"));
    assert_ok(r);
    const auto sshd = r->policy_for("sshd");
    assert_true((sshd.login.flows == std::vector<Flow>{Flow::ciba, Flow::code}));
    assert_int_equal(sshd.login.timeout.count(), 120);
    assert_true(sshd.login.ciba_channel == CibaChannel::card);
    assert_int_equal(sshd.authz.allow_professions.size(), 2);
    const auto sudo = r->policy_for("sudo");
    assert_true((sudo.login.flows == std::vector<Flow>{Flow::code, Flow::ciba}));
    assert_int_equal(sudo.login.timeout.count(), 60);
    assert_true(sudo.authz.allow_professions == std::vector<std::string>{"10"});
    assert_false(sudo.authz.require_auth_mode.has_value());
    const auto other = r->login_for("gdm-password");
    assert_int_equal(other.timeout.count(), 120);
    assert_true(r->policy_for("login").authz.require_auth_mode == AuthMode::card);
    // The service settings are validated like [login].
    expect_error_at(with(kGeneric, "[service:su]\ntimeout = 5\n"), "duration_range", 6);
}

// ---- files ----

// ---- outbound proxy and broker parameters ----

static void test_proxy_keys(void**) {
    auto r = text(with(kGeneric, "https_proxy = http://proxy.chu.example:3128/\n"
                                 "no_proxy = .chu.example, 10.0.0.0/8 intranet\n"));
    assert_ok(r);
    assert_string_equal(r->provider.https_proxy.c_str(), "http://proxy.chu.example:3128");
    assert_true(r->provider.no_proxy ==
                (std::vector<std::string>{".chu.example", "10.0.0.0/8", "intranet"}));
    assert_string_equal(r->provider.proxy_origin.c_str(), "/etc/psc-login/psc-login.conf:5");
    // The scheme may be left out, as in the environment variable; IPv6 in brackets.
    r = text(with(kGeneric, "https_proxy = [2001:db8::1]:8080\n"));
    assert_ok(r);
    assert_string_equal(r->provider.https_proxy.c_str(), "http://[2001:db8::1]:8080");
    r = text(with(kGeneric, "https_proxy = none\n"));
    assert_ok(r);
    assert_true(r->provider.https_proxy.empty() && r->provider.proxy_origin.empty());
    // Default: direct.
    r = text(kGeneric);
    assert_ok(r);
    assert_true(r->provider.https_proxy.empty() && r->provider.no_proxy.empty());
}

static void test_proxy_rejections(void**) {
    // TLS to the proxy, SOCKS: not supported (said, not silently downgraded).
    expect_error_at(with(kGeneric, "https_proxy = https://proxy.example:3128\n"), "bad_proxy", 5);
    expect_error_at(with(kGeneric, "https_proxy = socks5://proxy.example:1080\n"), "bad_proxy",
                    5);
    // curl would guess port 1080: the port is required.
    expect_error_at(with(kGeneric, "https_proxy = http://proxy.example\n"), "bad_proxy", 5);
    expect_error_at(with(kGeneric, "https_proxy = http://proxy.example:0\n"), "bad_proxy", 5);
    expect_error_at(with(kGeneric, "https_proxy = http://proxy.example:3128/path\n"), "bad_proxy",
                    5);
    expect_error_at(with(kGeneric, "https_proxy = http://proxy.example:3128?x=1\n"), "bad_proxy",
                    5);
    expect_error_at(with(kGeneric, "https_proxy = http://a b:3128\n"), "bad_proxy", 5);
    expect_error_at(with(kGeneric, "https_proxy = http://\n"), "bad_proxy", 5);
    // A password in a world-readable file.
    expect_error_at(with(kGeneric, "https_proxy = http://user:pw@proxy.example:3128\n"),
                    "proxy_credentials", 5);
    expect_error_at(with(kGeneric, "no_proxy = good.example bad;host\n"), "bad_no_proxy", 5);
    expect_error_at(with(kGeneric, "no_proxy = a\"b\n"), "bad_no_proxy", 5);
}

// Sets (or unsets, with nullptr) an environment variable for one test, restoring it after.
struct EnvVar {
    std::string name;
    std::optional<std::string> old;
    EnvVar(const char* n, const char* v) : name(n) {
        if (const char* o = std::getenv(n))
            old = o;
        if (v)
            ::setenv(n, v, 1);
        else
            ::unsetenv(n);
    }
    ~EnvVar() {
        if (old)
            ::setenv(name.c_str(), old->c_str(), 1);
        else
            ::unsetenv(name.c_str());
    }
};

static void test_proxy_environment(void**) {
    TempDir t;
    const auto p = t.good_config();
    EnvVar a("https_proxy", nullptr), b("HTTPS_PROXY", "proxy.chu.example:3128"),
        c("no_proxy", "intranet,.chu.example"), d("NO_PROXY", nullptr);
    LoadOptions o = opts();
    // The PAM module's view (and the default): the environment is not the daemon's to obey.
    auto r = load_config(p, o);
    assert_ok(r);
    assert_true(r->provider.https_proxy.empty() && r->provider.no_proxy.empty());
    o.proxy_environment = true;
    r = load_config(p, o);
    assert_ok(r);
    assert_string_equal(r->provider.https_proxy.c_str(), "http://proxy.chu.example:3128");
    assert_string_equal(r->provider.proxy_origin.c_str(), "environment variable HTTPS_PROXY");
    assert_true(r->provider.no_proxy == (std::vector<std::string>{"intranet", ".chu.example"}));
    {
        // Lower case first, as curl reads them.
        EnvVar lower("https_proxy", "http://other.example:8080");
        r = load_config(p, o);
        assert_ok(r);
        assert_string_equal(r->provider.https_proxy.c_str(), "http://other.example:8080");
    }
    {
        // The file wins, and "none" means direct whatever the environment says.
        TempDir t2;
        r = load_config(t2.good_config("https_proxy = none\nno_proxy = only.example\n"), o);
        assert_ok(r);
        assert_true(r->provider.https_proxy.empty());
        assert_true(r->provider.no_proxy == std::vector<std::string>{"only.example"});
    }
    {
        // A bad environment value is an error, like a bad key.
        EnvVar bad("HTTPS_PROXY", "http://user:secret@proxy.example:3128");
        ConfigDiagnostics diag;
        r = load_config(p, o, &diag);
        assert_reason(r, "proxy_credentials");
        assert_false(diag.errors.empty());
        assert_string_equal(diag.errors[0].file.c_str(), "environment");
        assert_null(std::strstr(diag.errors[0].text().c_str(), "secret"));
    }
}

// The implicit and hybrid flows are refused by name, with the reason, wherever a configuration
// could ask for them (RFC 9700 §2.1.2).
static void test_implicit_and_hybrid_refused(void**) {
    assert_ok(text(with(kGeneric, "response_type = code\n")));
    for (const char* v : {"id_token", "token", "code id_token", "code token", "id_token token",
                          "code id_token token"})
        expect_error_at(with(kGeneric, "response_type = " + std::string(v) + "\n"), "flow_refused",
                        5);
    expect_error_at(with(kGeneric, "response_type = none\n"), "unknown_value", 5);
    for (const char* v : {"implicit", "hybrid", "code implicit"})
        expect_error_at(with(kGeneric, "[login]\nflows = " + std::string(v) + "\n"), "flow_refused",
                        6);
    expect_error_at(with(kGeneric, "[service:sshd]\nflows = hybrid\n"), "flow_refused", 6);
    expect_error_at(with(kGeneric, "extra_auth_params = response_type=id_token\n"), "flow_refused",
                    5);
    ConfigDiagnostics d;
    assert_false(text(with(kGeneric, "response_type = code id_token\n"), &d).ok());
    assert_true(d.errors.size() == 1 &&
                d.errors[0].message.find("RFC 9700") != std::string::npos &&
                d.errors[0].message.find("authorization code flow with PKCE") != std::string::npos);
}

static void test_logout_on_session_close(void**) {
    auto r = text(with(kGeneric, "[login]\nlogout_on_session_close = yes\n[service:sudo]\n"
                                 "logout_on_session_close = no\n"));
    assert_ok(r);
    assert_true(r->login_for("sshd").logout_on_session_close);
    assert_false(r->login_for("sudo").logout_on_session_close);
    auto d = text(with(kGeneric, ""));
    assert_ok(d);
    assert_false(d->login_for("sshd").logout_on_session_close); // off by default
    expect_error_at(with(kGeneric, "[login]\nlogout_on_session_close = maybe\n"), "bad_bool",
                    6);
}

static void test_extra_auth_params(void**) {
    auto r = text(with(kGeneric, "extra_auth_params = kc_idp_hint=psc ui_locales=fr-FR\n"));
    assert_ok(r);
    const std::vector<std::pair<std::string, std::string>> want = {{"kc_idp_hint", "psc"},
                                                                   {"ui_locales", "fr-FR"}};
    assert_true(r->provider.extra_auth_params == want);
    // Parameters psc-login sets, or that would change the flow or its protections.
    for (const char* reserved : {"state", "nonce", "redirect_uri", "response_type", "scope",
                                 "code_challenge_method", "response_mode", "request_uri", "prompt",
                                 "acr_values", "Client_ID"}) {
        expect_error_at(with(kGeneric, "extra_auth_params = kc_idp_hint=psc " +
                                           std::string(reserved) + "=x\n"),
                        "auth_param_reserved", 5);
    }
    expect_error_at(with(kGeneric, "extra_auth_params = kc_idp_hint\n"), "bad_auth_param", 5);
    expect_error_at(with(kGeneric, "extra_auth_params = kc_idp_hint=\n"), "bad_auth_param", 5);
    expect_error_at(with(kGeneric, "extra_auth_params = =psc\n"), "bad_auth_param", 5);
    expect_error_at(with(kGeneric, "extra_auth_params = a/b=psc\n"), "bad_auth_param", 5);
    expect_error_at(with(kGeneric, "extra_auth_params = a=1 a=2\n"), "bad_auth_param", 5);
}

static void test_load_file_ok(void**) {
    TempDir t;
    const auto p = t.good_config();
    ConfigDiagnostics d;
    auto r = load_config(p, opts(), &d);
    assert_ok(r);
    assert_true(d.errors.empty() && d.warnings.empty());
    assert_true(r->files == std::vector<std::string>{p});
}

static void test_dropins_order_and_override(void**) {
    TempDir t;
    const auto p = t.good_config("[login]\ntimeout = 100\n");
    const auto d = t.dropin_dir();
    t.write("psc-login.conf.d/20-b.conf", "[login]\ntimeout = 200\nflows = ciba\n");
    t.write("psc-login.conf.d/10-a.conf", "[login]\ntimeout = 150\nflows = code ciba device\n");
    t.write("psc-login.conf.d/Z.conf", "[login]\ntimeout = 300\n"); // 'Z' < 'a' in byte order
    t.write("psc-login.conf.d/a.conf", "[login]\ntimeout = 400\n");
    t.write("psc-login.conf.d/b.conf.disabled", "[login]\ntimeout = oops\n");
    t.write("psc-login.conf.d/.hidden.conf", "[login]\ntimeout = oops\n");
    t.write("psc-login.conf.d/c.conf~", "[login]\ntimeout = oops\n");
    auto r = load_config(p, opts());
    assert_ok(r);
    assert_int_equal(r->login.timeout.count(), 400);
    assert_true(r->login.flows == std::vector<Flow>{Flow::ciba});
    const std::vector<std::string> files = {p, d + "/10-a.conf", d + "/20-b.conf", d + "/Z.conf",
                                            d + "/a.conf"};
    assert_true(r->files == files);
}

static void test_dropin_profile_and_service(void**) {
    TempDir t;
    const auto secret = t.write("client_secret", "s", 0600);
    const auto p = t.write("psc-login.conf",
                           "[provider]\nclient_id = x\ntoken_auth_method = client_secret_basic\n"
                           "client_secret_file = " +
                               secret + "\n");
    t.dropin_dir();
    t.write("psc-login.conf.d/50-psc.conf", "[provider]\nprofile = psc-sandbox\n"
                                            "[service:sshd]\nflows = ciba\n");
    auto r = load_config(p, opts());
    assert_ok(r);
    assert_true(r->provider.profile == Profile::psc_sandbox);
    // The main file's explicit method beats the preset even though the profile came later.
    assert_true(r->provider.token_auth_method == TokenAuthMethod::client_secret_basic);
    assert_true(r->login_for("sshd").flows == std::vector<Flow>{Flow::ciba});
}

static void test_dropin_overridden_bad_value_not_reported(void**) {
    TempDir t;
    const auto p = t.good_config("[login]\ntimeout = never\n");
    t.dropin_dir();
    t.write("psc-login.conf.d/10-fix.conf", "[login]\ntimeout = 60\n");
    assert_ok(load_config(p, opts()));
}

static void test_dropin_error_names_dropin_file(void**) {
    TempDir t;
    const auto p = t.good_config();
    const auto d = t.dropin_dir();
    t.write("psc-login.conf.d/10-x.conf", "# x\n[login]\nciba_channel = SMS\n");
    ConfigDiagnostics diag;
    assert_reason(load_config(p, opts(), &diag), "unknown_value");
    assert_string_equal(diag.errors[0].text().c_str(),
                        (d +
                         "/10-x.conf:3: unknown value \"SMS\" for ciba_channel (expected MOBILE "
                         "or CARD)")
                            .c_str());
}

static void test_dropin_dir_missing_is_fine(void**) {
    TempDir t;
    assert_ok(load_config(t.good_config(), opts()));
}

static void test_dropin_symlink_refused(void**) {
    TempDir t;
    const auto p = t.good_config();
    const auto d = t.dropin_dir();
    const auto target = t.write("elsewhere.conf", "[login]\ntimeout = 60\n");
    assert_int_equal(::symlink(target.c_str(), (d + "/10-link.conf").c_str()), 0);
    assert_reason(load_config(p, opts()), "file_symlink");
}

static void test_dropin_dir_symlink_refused(void**) {
    TempDir t;
    const auto p = t.good_config();
    const std::string real = t.path + "/real.d";
    assert_int_equal(::mkdir(real.c_str(), 0755), 0);
    assert_int_equal(::symlink(real.c_str(), (t.path + "/psc-login.conf.d").c_str()), 0);
    assert_reason(load_config(p, opts()), "dropin_dir");
}

static void test_dropin_dir_writable_refused(void**) {
    TempDir t;
    const auto p = t.good_config();
    const auto d = t.dropin_dir();
    assert_int_equal(::chmod(d.c_str(), 0777), 0);
    assert_reason(load_config(p, opts()), "file_mode");
}

static void test_config_symlink_refused(void**) {
    TempDir t;
    const auto p = t.good_config();
    const std::string link = t.path + "/link.conf";
    assert_int_equal(::symlink(p.c_str(), link.c_str()), 0);
    assert_reason(load_config(link, opts()), "file_symlink");
}

static void test_config_group_writable_refused(void**) {
    TempDir t;
    const auto p = t.good_config();
    assert_int_equal(::chmod(p.c_str(), 0664), 0);
    assert_reason(load_config(p, opts()), "file_mode");
}

static void test_config_owner_refused(void**) {
    if (geteuid() != 0)
        skip(); // chown to another uid needs root; CI runs as root.
    TempDir t;
    const auto p = t.good_config();
    assert_int_equal(::chown(p.c_str(), 4242, 4242), 0);
    assert_reason(load_config(p, LoadOptions{}), "file_owner");
    LoadOptions o;
    o.trusted_owner = 4242;
    assert_ok(load_config(p, o));
}

static void test_config_not_regular(void**) {
    TempDir t;
    const auto p = t.good_config();
    assert_reason(load_config(t.path, opts()), "file_not_regular");
    const auto d = t.dropin_dir();
    assert_int_equal(::mkdir((d + "/10-dir.conf").c_str(), 0755), 0);
    assert_reason(load_config(p, opts()), "file_not_regular");
}

static void test_config_missing(void**) {
    TempDir t;
    ConfigDiagnostics d;
    assert_reason(load_config(t.path + "/none.conf", opts(), &d), "file_open");
    assert_int_equal(d.errors[0].line, 0);
}

static void test_config_size_cap(void**) {
    TempDir t;
    const auto p = t.good_config();
    std::string big = "[provider]\n";
    while (big.size() <= kIniMaxFileBytes)
        big += "# padding padding padding padding padding padding padding padding\n";
    t.write("psc-login.conf", big);
    assert_reason(load_config(p, opts()), "file_too_large");
    assert_reason(text(big), "file_too_large");
}

static void test_secret_mode_refused(void**) {
    TempDir t;
    const auto p = t.good_config();
    assert_int_equal(::chmod((t.path + "/client_secret").c_str(), 0640), 0);
    ConfigDiagnostics d;
    assert_reason(load_config(p, opts(), &d), "file_mode");
    assert_int_equal(d.errors[0].line, 4);
    assert_non_null(std::strstr(d.errors[0].message.c_str(), "chmod 600"));
    assert_null(std::strstr(d.errors[0].text().c_str(), "s3cr3t"));
}

static void test_secret_owner_refused(void**) {
    if (geteuid() != 0)
        skip(); // chown to another uid needs root; CI runs as root.
    TempDir t;
    const auto p = t.good_config();
    const auto secret = t.path + "/client_secret";
    assert_int_equal(::chown(secret.c_str(), 4242, 4242), 0);
    ConfigDiagnostics d;
    assert_reason(load_config(p, LoadOptions{}, &d), "file_owner");
    assert_non_null(std::strstr(d.errors[0].message.c_str(), "chown root"));
    assert_reason(read_config_secret(secret, 0), "file_owner");
}

static void test_secret_symlink_refused(void**) {
    TempDir t;
    const auto real = t.write("real_secret", "x", 0600);
    const std::string link = t.path + "/secret_link";
    assert_int_equal(::symlink(real.c_str(), link.c_str()), 0);
    const auto p =
        t.write("psc-login.conf", with(kGeneric.substr(0, kGeneric.rfind("client_secret_file")),
                                       "client_secret_file = " + link + "\n"));
    assert_reason(load_config(p, opts()), "file_symlink");
}

static void test_secret_missing(void**) {
    TempDir t;
    const auto p = t.write("psc-login.conf", kGeneric); // /etc/psc-login/client_secret: absent
    LoadOptions o = opts();
    ConfigDiagnostics d;
    assert_reason(load_config(p, o, &d), "file_open");
    o.check_files = false;
    assert_ok(load_config(p, o));
}

static void test_key_and_cert_files_checked(void**) {
    TempDir t;
    const auto key = t.write("client.key", "-----BEGIN PRIVATE KEY-----\n", 0644);
    const auto crt = t.write("client.crt", "-----BEGIN CERTIFICATE-----\n", 0666);
    const auto p = t.write("psc-login.conf", "[provider]\nprofile = psc-sandbox\nclient_id = x\n"
                                             "tls_client_cert = " +
                                                 crt + "\ntls_client_key = " + key + "\n");
    ConfigDiagnostics d;
    assert_reason(load_config(p, opts(), &d), "file_mode");
    assert_int_equal(d.errors.size(), 2);
    assert_int_equal(d.errors[0].line, 5); // the key: group/world readable
    assert_non_null(std::strstr(d.errors[0].message.c_str(), "chmod 600"));
    assert_int_equal(d.errors[1].line, 4); // the certificate: world writable
    assert_non_null(std::strstr(d.errors[1].message.c_str(), "chmod go-w"));
    assert_int_equal(::chmod(key.c_str(), 0600), 0);
    assert_int_equal(::chmod(crt.c_str(), 0644), 0);
    assert_ok(load_config(p, opts()));
}

static void test_load_client_secret(void**) {
    TempDir t;
    auto r = load_config(t.good_config(), opts());
    assert_ok(r);
    auto s = load_client_secret(*r, ::geteuid());
    assert_ok(s);
    assert_true(s->view() == "s3cr3t");
    auto none = text(kSandbox);
    assert_ok(none);
    assert_reason(load_client_secret(*none), "missing_client_secret_file");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ini_syntax_accepted),
        cmocka_unit_test(test_ini_line_too_long),
        cmocka_unit_test(test_ini_nul_byte),
        cmocka_unit_test(test_ini_invalid_utf8),
        cmocka_unit_test(test_ini_control_character),
        cmocka_unit_test(test_ini_bad_section),
        cmocka_unit_test(test_ini_bad_key),
        cmocka_unit_test(test_ini_syntax_error),
        cmocka_unit_test(test_ini_key_outside_section),
        cmocka_unit_test(test_ini_duplicate_key_later_wins_with_warning),
        cmocka_unit_test(test_issue_text_format),
        cmocka_unit_test(test_all_errors_reported),
        cmocka_unit_test(test_defaults_generic),
        cmocka_unit_test(test_defaults_limits),
        cmocka_unit_test(test_limits_set),
        cmocka_unit_test(test_profile_psc_sandbox),
        cmocka_unit_test(test_profile_psc_production),
        cmocka_unit_test(test_profile_generic_needs_issuer),
        cmocka_unit_test(test_profile_unknown),
        cmocka_unit_test(test_explicit_keys_override_preset),
        cmocka_unit_test(test_psc_rejects_device_flow),
        cmocka_unit_test(test_psc_preset_tls_needs_cert),
        cmocka_unit_test(test_psc_private_key_jwt_warns),
        cmocka_unit_test(test_unknown_enum_values),
        cmocka_unit_test(test_flows_empty_rejected),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_duration_ranges),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_insecure_urls),
        cmocka_unit_test(test_redirect_uri),
        cmocka_unit_test(test_callback_listen),
        cmocka_unit_test(test_callback_tls_pair),
        cmocka_unit_test(test_alg_none_rejected),
        cmocka_unit_test(test_alg_unknown_rejected),
        cmocka_unit_test(test_alg_hs_needs_secret),
        cmocka_unit_test(test_decryption_keys),
        cmocka_unit_test(test_backchannel_action),
        cmocka_unit_test(test_relative_path),
        cmocka_unit_test(test_authz_values),
        cmocka_unit_test(test_claims),
        cmocka_unit_test(test_scopes),
        cmocka_unit_test(test_username_template),
        cmocka_unit_test(test_missing_client_id),
        cmocka_unit_test(test_missing_issuer),
        cmocka_unit_test(test_client_auth_requirements),
        cmocka_unit_test(test_acr_rules),
        cmocka_unit_test(test_pending_limits),
        cmocka_unit_test(test_mapping_conflict),
        cmocka_unit_test(test_http_timeouts),
        cmocka_unit_test(test_ldap_source),
        cmocka_unit_test(test_ldap_refusals),
        cmocka_unit_test(test_sssd_source),
        cmocka_unit_test(test_unknown_key_and_section_are_errors),
        cmocka_unit_test(test_rules_need_userinfo),
        cmocka_unit_test(test_template_one_placeholder),
        cmocka_unit_test(test_key_in_wrong_section),
        cmocka_unit_test(test_key_not_per_service),
        cmocka_unit_test(test_service_overrides),
        cmocka_unit_test(test_proxy_keys),
        cmocka_unit_test(test_proxy_rejections),
        cmocka_unit_test(test_proxy_environment),
        cmocka_unit_test(test_extra_auth_params),
        cmocka_unit_test(test_implicit_and_hybrid_refused),
        cmocka_unit_test(test_logout_on_session_close),
        cmocka_unit_test(test_load_file_ok),
        cmocka_unit_test(test_dropins_order_and_override),
        cmocka_unit_test(test_dropin_profile_and_service),
        cmocka_unit_test(test_dropin_overridden_bad_value_not_reported),
        cmocka_unit_test(test_dropin_error_names_dropin_file),
        cmocka_unit_test(test_dropin_dir_missing_is_fine),
        cmocka_unit_test(test_dropin_symlink_refused),
        cmocka_unit_test(test_dropin_dir_symlink_refused),
        cmocka_unit_test(test_dropin_dir_writable_refused),
        cmocka_unit_test(test_config_symlink_refused),
        cmocka_unit_test(test_config_group_writable_refused),
        cmocka_unit_test(test_config_owner_refused),
        cmocka_unit_test(test_config_not_regular),
        cmocka_unit_test(test_config_missing),
        cmocka_unit_test(test_config_size_cap),
        cmocka_unit_test(test_secret_mode_refused),
        cmocka_unit_test(test_secret_owner_refused),
        cmocka_unit_test(test_secret_symlink_refused),
        cmocka_unit_test(test_secret_missing),
        cmocka_unit_test(test_key_and_cert_files_checked),
        cmocka_unit_test(test_load_client_secret),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

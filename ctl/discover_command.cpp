// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl discover: fetch the provider's discovery document and JWKS as psc-authd would (same
// HTTP options, same parsers and checks) and show what came back.
#include "cli_args.hpp"
#include "http_config.hpp"
#include "commands.hpp"
#include "discovery.hpp"
#include "http_client.hpp"
#include "jwk.hpp"
#include "jwks_cache.hpp"
#include "output.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace psc::ctl {
namespace {

constexpr const char* kUsage =
    "Usage: pscctl discover [--config PATH] [--json]\n\n"
    "Fetches the provider's discovery document and JWKS per the configuration and checks them.\n"
    "Exit status: 0 all checks pass, 1 a fetch or check failed, 2 bad usage or invalid config.\n";

bool is_psc(const ProviderConfig& p) {
    return p.profile == Profile::psc_production || p.profile == Profile::psc_sandbox;
}

std::string join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : " ") + s;
    return strip_control(out.empty() ? "(none)" : out);
}

void line(const char* name, const std::string& value) {
    std::printf("%-40s %s\n", name, strip_control(value.empty() ? "-" : value).c_str());
}

// GET the discovery document the way DiscoveryFetch does (wallet path, then the standard path on
// a 404 only), remembering which address answered.
// GET the discovery document the way DiscoveryFetch does (wallet path, then the standard path on
// a 404 only), remembering which address answered.
Result<ProviderMetadata> fetch(HttpClient& http, const Config& cfg, std::string& used,
                               std::vector<std::string>& notes) {
    const auto& p = cfg.provider;
    auto src = discovery_source(p.issuer, p.discovery_url, is_psc(p), p.allow_insecure_http);
    src.json_max_depth = cfg.limits.json_max_depth;
    for (const std::string* url : {&src.url, &src.fallback_url}) {
        if (url->empty())
            break;
        HttpRequest req;
        req.url = *url;
        req.headers = {"Accept: application/json"};
        auto resp = perform(http, std::move(req));
        if (!resp)
            return std::move(resp).error();
        used = *url;
        if (resp->status == 404 && url == &src.url && !src.fallback_url.empty()) {
            notes.push_back(*url + " answered 404, trying " + src.fallback_url);
            continue;
        }
        return discovery_from_response(*resp, src.expected_issuer, src.insecure_ok,
                                       src.json_max_depth);
    }
    return make_error(Errc::unavailable, "discovery_not_found", "no discovery address answered");
}

// A check's outcome: "ok", "fail", "note" (worth knowing, not a failure) or "skipped".
struct Check {
    std::string name, outcome, detail;
};

// Everything discover found, printed for a person or as JSON.
struct Report {
    std::string source; // the address that answered, or "metadata_file PATH"
    std::vector<std::string> notes;
    std::optional<ProviderMetadata> metadata;
    std::vector<Check> checks;
    std::optional<JwkSet> keys;
    std::optional<Error> error; // the fetch or check that stopped the run
    [[nodiscard]] bool ok() const {
        return !error && std::none_of(checks.begin(), checks.end(),
                                      [](const Check& c) { return c.outcome == "fail"; });
    }
};

void print_metadata(const ProviderMetadata& m) {
    line("issuer", m.issuer);
    line("authorization_endpoint", m.authorization_endpoint);
    line("token_endpoint", m.token_endpoint);
    line("userinfo_endpoint", m.userinfo_endpoint);
    line("jwks_uri", m.jwks_uri);
    line("backchannel_authentication_endpoint", m.backchannel_authentication_endpoint);
    line("device_authorization_endpoint", m.device_authorization_endpoint);
    line("end_session_endpoint", m.end_session_endpoint);
    for (const auto& [name, url] : m.mtls_endpoint_aliases)
        line(("mtls " + name).c_str(), url);
    line("id_token_signing_alg_values_supported", join(m.id_token_signing_alg_values_supported));
    line("token_endpoint_auth_methods_supported", join(m.token_endpoint_auth_methods_supported));
    line("grant_types_supported", join(m.grant_types_supported));
    line("backchannel_token_delivery_modes", join(m.backchannel_token_delivery_modes_supported));
}

void print_keys(const JwkSet& keys) {
    for (const auto& k : keys.keys)
        std::printf("key kid=%s kty=%s%s%s bits=%d alg=%s\n",
                    strip_control(k->kid.empty() ? "(none)" : k->kid).c_str(), k->kty.c_str(),
                    k->crv.empty() ? "" : " crv=", k->crv.c_str(), k->bits,
                    strip_control(k->alg.empty() ? "-" : k->alg).c_str());
    for (const auto& s : keys.skipped)
        std::printf("key skipped: %s\n", strip_control(s).c_str());
}

// Our id_token_algs must meet what the provider says it signs with (when it says).
Check check_algs(const Config& cfg, const ProviderMetadata& m) {
    const auto& offered = m.id_token_signing_alg_values_supported;
    if (offered.empty())
        return {"algs", "skipped", "provider lists none (not checked)"};
    for (const auto& a : cfg.provider.id_token_algs)
        if (std::find(offered.begin(), offered.end(), a) != offered.end())
            return {"algs", "ok", a + " accepted and offered"};
    return {"algs", "fail",
            "none of id_token_algs (" + join(cfg.provider.id_token_algs) + ") is offered"};
}

Result<JwkSet> load_keys(HttpClient& http, const Config& cfg, const ProviderMetadata& m,
                         std::vector<std::string>& notes) {
    if (!cfg.provider.jwks_file.empty()) {
        notes.push_back("jwks from jwks_file " + cfg.provider.jwks_file);
        auto cache = JwksCache::from_file(cfg.provider.jwks_file, cfg.limits.json_max_depth);
        if (!cache)
            return std::move(cache).error();
        return cache->keys();
    }
    return fetch_jwks(http, m.jwks_uri);
}

Report run(const Config& cfg) {
    Report r;
    auto http = HttpClient::create(http_options(cfg));
    if (!http) {
        r.error = http.error();
        return r;
    }
    const auto& p = cfg.provider;
    auto md = p.metadata_file.empty()
                  ? fetch(**http, cfg, r.source, r.notes)
                  : load_discovery_file(p.metadata_file, p.issuer, p.allow_insecure_http,
                                        cfg.limits.json_max_depth);
    if (!p.metadata_file.empty())
        r.source = "metadata_file " + p.metadata_file;
    if (!md) {
        r.error = md.error();
        return r;
    }
    r.metadata = std::move(*md);
    // parse_discovery() refuses any other issuer; reaching here means byte-equal (OIDC Discovery
    // §4.3).
    r.checks.push_back({"issuer", "ok", "byte-equal to the configured issuer"});
    if (is_psc(p) && p.metadata_file.empty()) {
        if (r.source == discovery_url_for(p.issuer, true))
            r.checks.push_back({"psc_wallet_path", "ok", ".well-known/wallet-openid-configuration"});
        else
            r.checks.push_back({"psc_wallet_path", "note",
                                "not the wallet path (standard or configured discovery_url)"});
    }
    r.checks.push_back(check_algs(cfg, *r.metadata));
    auto keys = load_keys(**http, cfg, *r.metadata, r.notes);
    if (!keys) {
        r.checks.push_back({"jwks", "fail", keys.error().describe()});
        return r;
    }
    r.checks.push_back({"jwks", "ok", std::to_string(keys->keys.size()) + " usable key(s)"});
    r.keys = std::move(*keys);
    return r;
}

void print_report(const Report& r) {
    for (const auto& n : r.notes)
        std::printf("note: %s\n", strip_control(n).c_str());
    if (!r.source.empty())
        std::printf("discovery: %s\n", strip_control(r.source).c_str());
    if (r.error) {
        std::printf("%s: %s\n", paint(stdout, Tone::bad, "FAIL").c_str(),
                    strip_control(r.error->describe()).c_str());
        return;
    }
    print_metadata(*r.metadata);
    for (const auto& c : r.checks) {
        if (c.name == "jwks" && r.keys)
            print_keys(*r.keys);
        const std::string name = c.name == "psc_wallet_path" ? "PSC wallet path" : c.name;
        const std::string detail = strip_control(c.detail);
        if (c.outcome == "ok")
            std::printf("check %s: %s (%s)\n", name.c_str(),
                        paint(stdout, Tone::good, "OK").c_str(), detail.c_str());
        else if (c.outcome == "fail")
            std::printf("check %s: %s: %s\n", name.c_str(),
                        paint(stdout, Tone::bad, "FAIL").c_str(), detail.c_str());
        else if (c.outcome == "note")
            std::printf("check %s: %s: %s\n", name.c_str(),
                        paint(stdout, Tone::warn, "note").c_str(), detail.c_str());
        else
            std::printf("check %s: %s\n", name.c_str(), detail.c_str());
    }
}

JsonPtr metadata_json(const ProviderMetadata& m) {
    auto o = json_new_object();
    json_put_string(o.get(), "issuer", m.issuer);
    json_put_string(o.get(), "authorization_endpoint", m.authorization_endpoint);
    json_put_string(o.get(), "token_endpoint", m.token_endpoint);
    json_put_string(o.get(), "userinfo_endpoint", m.userinfo_endpoint);
    json_put_string(o.get(), "jwks_uri", m.jwks_uri);
    json_put_string(o.get(), "backchannel_authentication_endpoint",
                    m.backchannel_authentication_endpoint);
    json_put_string(o.get(), "device_authorization_endpoint", m.device_authorization_endpoint);
    json_put_string(o.get(), "end_session_endpoint", m.end_session_endpoint);
    auto mtls = json_new_object();
    for (const auto& [name, url] : m.mtls_endpoint_aliases)
        json_put_string(mtls.get(), name.c_str(), url);
    json_put(o.get(), "mtls_endpoint_aliases", std::move(mtls));
    json_put_strings(o.get(), "id_token_signing_alg_values_supported",
                     m.id_token_signing_alg_values_supported);
    json_put_strings(o.get(), "token_endpoint_auth_methods_supported",
                     m.token_endpoint_auth_methods_supported);
    json_put_strings(o.get(), "grant_types_supported", m.grant_types_supported);
    json_put_strings(o.get(), "backchannel_token_delivery_modes_supported",
                     m.backchannel_token_delivery_modes_supported);
    return o;
}

void print_json(const Report& r) {
    auto doc = json_new_object();
    json_put_bool(doc.get(), "ok", r.ok());
    json_put_string(doc.get(), "discovery_source", r.source);
    json_put_strings(doc.get(), "notes", r.notes);
    if (r.error)
        json_put(doc.get(), "error", json_error(*r.error));
    if (r.metadata)
        json_put(doc.get(), "metadata", metadata_json(*r.metadata));
    auto checks = json_new_object();
    for (const auto& c : r.checks) {
        auto o = json_new_object();
        json_put_string(o.get(), "outcome", c.outcome);
        json_put_string(o.get(), "detail", c.detail);
        json_put(checks.get(), c.name.c_str(), std::move(o));
    }
    json_put(doc.get(), "checks", std::move(checks));
    auto keys = json_new_array();
    if (r.keys)
        for (const auto& k : r.keys->keys) {
            auto o = json_new_object();
            json_put_string(o.get(), "kid", k->kid);
            json_put_string(o.get(), "kty", k->kty);
            json_put_string(o.get(), "crv", k->crv);
            json_put_int(o.get(), "bits", k->bits);
            json_put_string(o.get(), "alg", k->alg);
            json_append(keys.get(), std::move(o));
        }
    json_put(doc.get(), "keys", std::move(keys));
    json_put_strings(doc.get(), "keys_skipped", r.keys ? r.keys->skipped : std::vector<std::string>{});
    json_print(doc.get());
}

} // namespace

int cmd_discover(int argc, char** argv) {
    const auto a = parse_args(argc, argv, {"--config"}, {"--json"});
    if (a.help) {
        std::fputs(kUsage, stdout);
        return kExitOk;
    }
    if (!a.error.empty() || !a.positional.empty()) {
        std::fprintf(stderr, "pscctl discover: invalid arguments\n%s", kUsage);
        return kExitUsage;
    }
    auto cfg = load_config_for_cli(option(a, "--config").value_or(std::string(kDefaultConfigPath)));
    if (!cfg)
        return kExitUsage;
    const Report r = run(*cfg);
    if (has_flag(a, "--json"))
        print_json(r);
    else
        print_report(r);
    return r.ok() ? kExitOk : kExitRejected;
}

} // namespace psc::ctl

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
#include "strutil.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace psc::ctl {
namespace {

constexpr const char* kUsage =
    "Usage: pscctl discover [--config PATH]\n\n"
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
Result<ProviderMetadata> fetch(HttpClient& http, const Config& cfg, std::string& used) {
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
            std::printf("note: %s answered 404, trying %s\n", url->c_str(),
                        src.fallback_url.c_str());
            continue;
        }
        return discovery_from_response(*resp, src.expected_issuer, src.insecure_ok,
                                       src.json_max_depth);
    }
    return make_error(Errc::unavailable, "discovery_not_found", "no discovery address answered");
}

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
bool check_algs(const Config& cfg, const ProviderMetadata& m) {
    const auto& offered = m.id_token_signing_alg_values_supported;
    if (offered.empty()) {
        std::puts("check algs: provider lists none (not checked)");
        return true;
    }
    for (const auto& a : cfg.provider.id_token_algs)
        if (std::find(offered.begin(), offered.end(), a) != offered.end()) {
            std::printf("check algs: OK (%s accepted and offered)\n", a.c_str());
            return true;
        }
    std::printf("check algs: FAIL: none of id_token_algs (%s) is offered\n",
                join(cfg.provider.id_token_algs).c_str());
    return false;
}

Result<JwkSet> load_keys(HttpClient& http, const Config& cfg, const ProviderMetadata& m) {
    if (!cfg.provider.jwks_file.empty()) {
        std::printf("jwks: from jwks_file %s\n", cfg.provider.jwks_file.c_str());
        auto cache = JwksCache::from_file(cfg.provider.jwks_file, cfg.limits.json_max_depth);
        if (!cache)
            return std::move(cache).error();
        return cache->keys();
    }
    return fetch_jwks(http, m.jwks_uri);
}

} // namespace

int cmd_discover(int argc, char** argv) {
    const auto a = parse_args(argc, argv, {"--config"});
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
    auto http = HttpClient::create(http_options(*cfg));
    if (!http) {
        std::printf("FAIL: %s\n", strip_control(http.error().describe()).c_str());
        return kExitRejected;
    }
    const auto& p = cfg->provider;
    std::string used;
    auto md = p.metadata_file.empty()
                  ? fetch(**http, *cfg, used)
                  : load_discovery_file(p.metadata_file, p.issuer, p.allow_insecure_http,
                                        cfg->limits.json_max_depth);
    if (!p.metadata_file.empty())
        used = "metadata_file " + p.metadata_file;
    std::printf("discovery: %s\n", used.c_str());
    if (!md) {
        std::printf("FAIL: %s\n", strip_control(md.error().describe()).c_str());
        return kExitRejected;
    }
    print_metadata(*md);
    // parse_discovery() refuses any other issuer; reaching here means byte-equal (OIDC Discovery
    // §4.3).
    std::printf("check issuer: OK (byte-equal to the configured issuer)\n");
    if (is_psc(p) && p.metadata_file.empty())
        std::printf("check PSC wallet path: %s\n",
                    used == discovery_url_for(p.issuer, true)
                        ? "OK (.well-known/wallet-openid-configuration)"
                        : "note: not the wallet path (standard or configured discovery_url)");
    bool ok = check_algs(*cfg, *md);
    auto keys = load_keys(**http, *cfg, *md);
    if (!keys) {
        std::printf("check jwks: FAIL: %s\n", strip_control(keys.error().describe()).c_str());
        return kExitRejected;
    }
    print_keys(*keys);
    std::printf("check jwks: OK (%zu usable key(s))\n", keys->keys.size());
    return ok ? kExitOk : kExitRejected;
}

} // namespace psc::ctl

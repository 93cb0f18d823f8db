// SPDX-License-Identifier: LGPL-2.1-or-later
#include "discovery.hpp"

#include "file_io.hpp"
#include "json.hpp"
#include "strutil.hpp"

#include <json-c/json_object_iterator.h>
#include <optional>
#include <unistd.h>
#include <utility>

namespace psc {
namespace {

Error doc_error(std::string reason, std::string message) {
    return make_error(Errc::unavailable, std::move(reason), std::move(message));
}

Error member_type_error(const Error& e) {
    return doc_error("discovery_member_type", "discovery document: " + e.message);
}

Status check_endpoint(const char* name, const std::string& url, bool insecure_ok) {
    auto ok = http_check_url(url, insecure_ok);
    if (ok)
        return {};
    const bool insecure = ok.error().reason == "http_insecure_url";
    return doc_error(insecure ? "discovery_insecure_url" : "discovery_bad_url",
                     std::string("discovery member \"") + name + "\": " + ok.error().message);
}

// A URL member: absent → "" (or an error when required); present → string and acceptable URL.
Status read_url(const json_object* doc, const char* name, bool required, bool insecure_ok,
                std::string& out) {
    auto v = json_get_string(doc, name);
    if (!v)
        return member_type_error(v.error());
    if (!v->has_value()) {
        if (required)
            return doc_error("discovery_missing_member",
                             std::string("discovery document has no \"") + name + "\"");
        return {};
    }
    out = std::string(**v);
    return check_endpoint(name, out, insecure_ok);
}

Status read_list(const json_object* doc, const char* name, std::vector<std::string>& out) {
    auto v = json_get_string_array(doc, name);
    if (!v)
        return member_type_error(v.error());
    if (v->has_value())
        out = std::move(**v);
    return {};
}

Status read_aliases(const json_object* doc, bool insecure_ok,
                    std::map<std::string, std::string>& out) {
    auto obj = json_get_object(doc, "mtls_endpoint_aliases");
    if (!obj)
        return member_type_error(obj.error());
    if (!*obj)
        return {};
    json_object_iterator it = json_object_iter_begin(*obj);
    const json_object_iterator end = json_object_iter_end(*obj);
    for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
        const char* name = json_object_iter_peek_name(&it);
        std::string url;
        PSC_TRY(read_url(*obj, name, true, insecure_ok, url));
        out.emplace(name, std::move(url));
    }
    return {};
}

Status read_optional_urls(const json_object* doc, bool insecure_ok, ProviderMetadata& m) {
    const std::pair<const char*, std::string*> optional[] = {
        {"userinfo_endpoint", &m.userinfo_endpoint},
        {"end_session_endpoint", &m.end_session_endpoint},
        {"introspection_endpoint", &m.introspection_endpoint},
        {"backchannel_authentication_endpoint", &m.backchannel_authentication_endpoint},
        {"device_authorization_endpoint", &m.device_authorization_endpoint},
    };
    for (const auto& [name, field] : optional)
        PSC_TRY(read_url(doc, name, false, insecure_ok, *field));
    return {};
}

Status read_lists(const json_object* doc, ProviderMetadata& m) {
    const std::pair<const char*, std::vector<std::string>*> lists[] = {
        {"code_challenge_methods_supported", &m.code_challenge_methods_supported},
        {"token_endpoint_auth_methods_supported", &m.token_endpoint_auth_methods_supported},
        {"backchannel_token_delivery_modes_supported",
         &m.backchannel_token_delivery_modes_supported},
        {"id_token_signing_alg_values_supported", &m.id_token_signing_alg_values_supported},
        {"grant_types_supported", &m.grant_types_supported},
        {"scopes_supported", &m.scopes_supported},
    };
    for (const auto& [name, field] : lists)
        PSC_TRY(read_list(doc, name, *field));
    return {};
}

Status read_issuer(const json_object* doc, std::string_view expected, bool insecure_ok,
                   std::string& out) {
    PSC_TRY(read_url(doc, "issuer", true, insecure_ok, out));
    // OIDC Discovery §4.3 / RFC 8414 §3.3: exact match, no normalisation (a trailing slash, case
    // or default port difference is a different issuer; mix-up attacks rely on lax comparison).
    if (out != expected)
        return doc_error("discovery_issuer_mismatch", "discovery issuer \"" + strip_control(out) +
                                                          "\" is not the configured issuer \"" +
                                                          strip_control(expected) + "\"");
    return {};
}

} // namespace

Result<ProviderMetadata> parse_discovery(std::string_view json, std::string_view expected_issuer,
                                         bool insecure_ok, int json_max_depth) {
    if (json.size() > kDiscoveryMaxBytes)
        return doc_error("discovery_too_large",
                         "discovery document of " + std::to_string(json.size()) + " bytes");
    auto doc = json_parse_object(json, JsonLimits{kDiscoveryMaxBytes, json_max_depth});
    if (!doc)
        return doc_error("discovery_json", "discovery document: " + doc.error().describe());
    const json_object* d = doc->get();
    ProviderMetadata m;
    PSC_TRY(read_issuer(d, expected_issuer, insecure_ok, m.issuer));
    PSC_TRY(read_url(d, "authorization_endpoint", true, insecure_ok, m.authorization_endpoint));
    PSC_TRY(read_url(d, "token_endpoint", true, insecure_ok, m.token_endpoint));
    PSC_TRY(read_url(d, "jwks_uri", true, insecure_ok, m.jwks_uri));
    PSC_TRY(read_optional_urls(d, insecure_ok, m));
    PSC_TRY(read_aliases(d, insecure_ok, m.mtls_endpoint_aliases));
    PSC_TRY(read_lists(d, m));
    auto iss_param = json_get_bool(d, "authorization_response_iss_parameter_supported");
    if (!iss_param)
        return member_type_error(iss_param.error());
    m.authorization_response_iss_parameter_supported = iss_param->value_or(false);
    return m;
}

std::string discovery_url_for(std::string_view issuer, bool psc_wallet_path) {
    while (!issuer.empty() && issuer.back() == '/')
        issuer.remove_suffix(1);
    return std::string(issuer) + (psc_wallet_path ? "/.well-known/wallet-openid-configuration"
                                                  : "/.well-known/openid-configuration");
}

DiscoverySource discovery_source(std::string_view issuer, std::string_view configured_url,
                                 bool psc_wallet_path, bool insecure_ok) {
    DiscoverySource s;
    s.url = configured_url.empty() ? discovery_url_for(issuer, psc_wallet_path)
                                   : std::string(configured_url);
    if (psc_wallet_path && s.url == discovery_url_for(issuer, true))
        s.fallback_url = discovery_url_for(issuer, false);
    s.expected_issuer = std::string(issuer);
    s.insecure_ok = insecure_ok;
    return s;
}

Result<ProviderMetadata> discovery_from_response(const HttpResponse& response,
                                                 std::string_view expected_issuer, bool insecure_ok,
                                                 int json_max_depth) {
    if (response.status == 404)
        return doc_error("discovery_not_found", "discovery document not found (HTTP 404)");
    if (response.status != 200)
        return doc_error("discovery_status",
                         "discovery answered HTTP " + std::to_string(response.status));
    return parse_discovery(response.body, expected_issuer, insecure_ok, json_max_depth);
}

DiscoveryFetch::DiscoveryFetch(HttpClient& client, DiscoverySource source)
    : client_(client), source_(std::move(source)) {}

Status DiscoveryFetch::start(Done done) {
    done_ = std::move(done);
    return issue(source_.url, false);
}

Status DiscoveryFetch::issue(const std::string& url, bool is_fallback) {
    HttpRequest req;
    req.url = url;
    req.headers = {"Accept: application/json"};
    auto id = client_.start(std::move(req), [this, is_fallback](Result<HttpResponse> r) {
        // docs/pro-sante-connect.md: the standard path may or may not answer; only a 404 moves on
        // to it.
        if (r && r->status == 404 && !is_fallback && !source_.fallback_url.empty()) {
            if (auto again = issue(source_.fallback_url, true); !again)
                done_(std::move(again).error());
            return;
        }
        // done_ may destroy this object: nothing touches members after it.
        done_(r ? discovery_from_response(*r, source_.expected_issuer, source_.insecure_ok,
                                          source_.json_max_depth)
                : Result<ProviderMetadata>(std::move(r).error()));
    });
    if (!id)
        return std::move(id).error();
    pending_ = ScopedHttpRequest(client_, *id);
    return {};
}

Result<ProviderMetadata> fetch_discovery(HttpClient& client, const DiscoverySource& source) {
    if (!client.has_private_loop())
        return make_error(Errc::internal, "http_loop_external",
                          "fetch_discovery() needs a client with its own loop");
    std::optional<Result<ProviderMetadata>> out;
    DiscoveryFetch fetch(client, source);
    PSC_TRY(fetch.start([&out](Result<ProviderMetadata> r) { out.emplace(std::move(r)); }));
    while (!out)
        PSC_TRY(client.run_private_loop_once(std::chrono::milliseconds(1000)));
    return std::move(*out);
}

Result<ProviderMetadata> load_discovery_file(const std::string& path,
                                             std::string_view expected_issuer, bool insecure_ok,
                                             int json_max_depth) {
    FileRules rules;
    rules.max_bytes = kDiscoveryMaxBytes;
    rules.required_owner = static_cast<long>(::geteuid());
    rules.refuse_group_world_writable = true;
    auto f = read_file_checked(path, rules);
    if (!f)
        return std::move(f).error();
    return parse_discovery(f->content, expected_issuer, insecure_ok, json_max_depth);
}

Result<std::string> endpoint_for(const ProviderMetadata& m, std::string_view name, bool mtls) {
    if (mtls && name != "authorization_endpoint") {
        const auto it = m.mtls_endpoint_aliases.find(std::string(name));
        if (it != m.mtls_endpoint_aliases.end())
            return it->second;
    }
    const std::pair<std::string_view, const std::string*> all[] = {
        {"authorization_endpoint", &m.authorization_endpoint},
        {"token_endpoint", &m.token_endpoint},
        {"userinfo_endpoint", &m.userinfo_endpoint},
        {"jwks_uri", &m.jwks_uri},
        {"end_session_endpoint", &m.end_session_endpoint},
        {"introspection_endpoint", &m.introspection_endpoint},
        {"backchannel_authentication_endpoint", &m.backchannel_authentication_endpoint},
        {"device_authorization_endpoint", &m.device_authorization_endpoint},
    };
    for (const auto& [n, url] : all)
        if (n == name && !url->empty())
            return *url;
    return make_error(Errc::unavailable, "discovery_no_endpoint",
                      "the provider publishes no " + std::string(name));
}

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// Provider metadata: OpenID Connect Discovery 1.0 / RFC 8414 documents, fetched or loaded from a
// static file (design §3). The document's `issuer` must equal the configured issuer byte for byte
// (OIDC Discovery §4.3), every endpoint must be https (or loopback http for a test provider), and
// PSC publishes its document at a non-standard path (docs/pro-sante-connect.md).
#pragma once

#include "http_client.hpp"
#include "json.hpp"
#include "result.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// A Keycloak discovery document is ~5–10 KiB; 128 KiB leaves room for any provider's extensions.
inline constexpr std::size_t kDiscoveryMaxBytes = 128 * 1024;

struct ProviderMetadata {
    std::string issuer;
    std::string authorization_endpoint;
    std::string token_endpoint;
    std::string userinfo_endpoint;
    std::string jwks_uri;
    std::string end_session_endpoint;
    std::string introspection_endpoint;
    std::string backchannel_authentication_endpoint;
    std::string device_authorization_endpoint;
    std::map<std::string, std::string> mtls_endpoint_aliases;    // RFC 8705 §5
    bool authorization_response_iss_parameter_supported = false; // RFC 9207
    std::vector<std::string> code_challenge_methods_supported;
    std::vector<std::string> token_endpoint_auth_methods_supported;
    std::vector<std::string> backchannel_token_delivery_modes_supported;
    std::vector<std::string> id_token_signing_alg_values_supported;
    std::vector<std::string> grant_types_supported;
    std::vector<std::string> scopes_supported;
};

// Parses a discovery document. Errors are Errc::unavailable (the provider cannot be used as is).
// Reasons: discovery_too_large, discovery_json, discovery_issuer_mismatch,
// discovery_missing_member (issuer, authorization_endpoint, token_endpoint, jwks_uri),
// discovery_member_type, discovery_insecure_url, discovery_bad_url.
[[nodiscard]] Result<ProviderMetadata> parse_discovery(std::string_view json,
                                                       std::string_view expected_issuer,
                                                       bool insecure_ok,
                                                       int json_max_depth = kJsonMaxDepth);

// "<issuer>/.well-known/wallet-openid-configuration" (PSC) or
// "<issuer>/.well-known/openid-configuration" (OIDC Discovery §4: a trailing '/' of the issuer is
// removed first; Keycloak-style providers append to the issuer path).
[[nodiscard]] std::string discovery_url_for(std::string_view issuer, bool psc_wallet_path);

struct DiscoverySource {
    std::string url;          // tried first
    std::string fallback_url; // tried when url answers 404; empty: none
    std::string expected_issuer;
    bool insecure_ok = false;
    int json_max_depth = kJsonMaxDepth; // [limits] json_max_depth
};

// configured_url empty → derived from the issuer. With the PSC wallet path, the standard path is
// the 404 fallback (docs/pro-sante-connect.md: whether PSC serves it is unsure).
[[nodiscard]] DiscoverySource discovery_source(std::string_view issuer,
                                               std::string_view configured_url,
                                               bool psc_wallet_path, bool insecure_ok);

// Interprets one HTTP answer. Reasons: discovery_not_found (404), discovery_status (other
// non-200), plus parse_discovery's.
[[nodiscard]] Result<ProviderMetadata> discovery_from_response(const HttpResponse& response,
                                                               std::string_view expected_issuer,
                                                               bool insecure_ok,
                                                               int json_max_depth = kJsonMaxDepth);

// Asynchronous fetch for the daemon's event loop; destroying it cancels the request.
class DiscoveryFetch {
public:
    using Done = std::function<void(Result<ProviderMetadata>)>;
    DiscoveryFetch(HttpClient& client, DiscoverySource source);
    // done is called once (unless this object is destroyed first).
    [[nodiscard]] Status start(Done done);

private:
    [[nodiscard]] Status issue(const std::string& url, bool is_fallback);
    HttpClient& client_;
    DiscoverySource source_;
    Done done_;
    ScopedHttpRequest pending_;
};

// Blocking fetch on a client with a private loop (pscctl discover, tests).
[[nodiscard]] Result<ProviderMetadata> fetch_discovery(HttpClient& client,
                                                       const DiscoverySource& source);

// Static metadata from a file (read_file_checked: regular file, not a symlink, not writable by
// group/others, ≤ kDiscoveryMaxBytes), same checks as a fetched document.
[[nodiscard]] Result<ProviderMetadata> load_discovery_file(const std::string& path,
                                                           std::string_view expected_issuer,
                                                           bool insecure_ok,
                                                           int json_max_depth = kJsonMaxDepth);

// The endpoint to call: with mTLS, the RFC 8705 alias when the provider lists one (never for the
// browser-facing authorization_endpoint). name is the metadata member name ("token_endpoint").
// Reasons: discovery_no_endpoint (absent or unknown name).
[[nodiscard]] Result<std::string> endpoint_for(const ProviderMetadata& metadata,
                                               std::string_view name, bool mtls);

} // namespace psc

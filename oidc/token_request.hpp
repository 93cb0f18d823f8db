// SPDX-License-Identifier: LGPL-2.1-or-later
// Requests to the provider's back channel: the token endpoint (authorization_code, refresh_token,
// CIBA and device polls), the CIBA backchannel authentication endpoint (OpenID CIBA Core §7.1)
// and the device authorization endpoint (RFC 8628 §3.1), each with client authentication
// (design §3). Builders only describe the HTTP request; the daemon hands it to the HTTP client.
#pragma once

#include "http_client.hpp"
#include "jws.hpp"
#include "result.hpp"
#include "secret.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

enum class ClientAuthMethod {
    client_secret_basic,
    client_secret_post,
    tls_client_auth,
    private_key_jwt
};

// Config names (RFC 8414 token_endpoint_auth_method values); unknown → nullopt.
[[nodiscard]] std::optional<ClientAuthMethod>
client_auth_method_from_name(std::string_view n) noexcept;
[[nodiscard]] std::string_view client_auth_method_name(ClientAuthMethod m) noexcept;

// Borrowed: the credentials must outlive the builder call.
struct ClientAuth {
    ClientAuthMethod method = ClientAuthMethod::client_secret_basic;
    std::string client_id;
    const Secret* client_secret = nullptr;      // client_secret_basic / client_secret_post
    const JwsSigningKey* signing_key = nullptr; // private_key_jwt
    // private_key_jwt "aud": the issuer identifier. OIDC Core §9 once said "token endpoint", but
    // the 2025 audience-injection fixes (RFC 7523bis, OIDC Core errata) require the issuer as a
    // single string, CIBA §7.1 already said so for the backchannel endpoint, and Keycloak (PSC)
    // accepts the issuer at every endpoint. One value for all endpoints.
    std::string assertion_audience;
    std::chrono::seconds assertion_lifetime{60}; // exp = iat + this (capped to 300 s)
};

struct HttpHeader {
    std::string name;
    Secret value; // Authorization carries the client secret
};

// A plain description of one HTTP request; the body is application/x-www-form-urlencoded.
struct HttpFormRequest {
    std::string method = "POST";
    std::string url;
    std::vector<HttpHeader> headers;
    Secret body;
    bool mtls = false; // present the client certificate (tls_client_auth, RFC 8705 §2)

    [[nodiscard]] const HttpHeader*
    header(std::string_view name) const noexcept; // ASCII case-insensitive
};

// The same request for HttpClient (oidc/http_client.hpp). Note that HttpRequest holds plain
// strings: the copy of the secret-bearing header/body lives as long as that request.
[[nodiscard]] HttpRequest to_http_request(const HttpFormRequest& form);

using SystemTime = std::chrono::system_clock::time_point;

// Reasons shared by all builders: request_bad_endpoint (not an http(s) URL, or has a fragment),
// client_id_missing, client_secret_missing, client_signing_key_missing, client_audience_missing,
// plus jws_sign's and random_token's.

// RFC 6749 §4.1.3 (+ RFC 7636 §4.5 code_verifier). Reason: token_request_invalid (empty value).
[[nodiscard]] Result<HttpFormRequest>
build_code_token_request(const ClientAuth& auth, std::string_view token_endpoint,
                         std::string_view code, std::string_view redirect_uri,
                         std::string_view code_verifier, SystemTime now);

// RFC 6749 §6; scope optional (empty → omitted).
[[nodiscard]] Result<HttpFormRequest> build_refresh_request(const ClientAuth& auth,
                                                            std::string_view token_endpoint,
                                                            std::string_view refresh_token,
                                                            std::string_view scope, SystemTime now);

struct CibaAuthParams {
    std::string scope = "openid"; // PSC: "openid scope_all"
    std::string acr_values;       // PSC: "eidas1"; omitted when empty
    std::string login_hint;       // PSC: the idNat
    std::string binding_message;  // two digits, see make_binding_message()
    std::string channel;          // PSC-specific: "MOBILE" or "CARD"; omitted when empty
    std::optional<std::int64_t> requested_expiry; // seconds, > 0
};

// OpenID CIBA Core §7.1. Reasons: ciba_login_hint_missing, ciba_bad_binding_message (empty, over
// 64 bytes or with control characters), ciba_bad_channel, ciba_bad_expiry, token_request_invalid.
[[nodiscard]] Result<HttpFormRequest> build_ciba_auth_request(const ClientAuth& auth,
                                                              std::string_view backchannel_endpoint,
                                                              const CibaAuthParams& params,
                                                              SystemTime now);

// CIBA Core §10.1: grant_type=urn:openid:params:grant-type:ciba.
[[nodiscard]] Result<HttpFormRequest> build_ciba_token_request(const ClientAuth& auth,
                                                               std::string_view token_endpoint,
                                                               std::string_view auth_req_id,
                                                               SystemTime now);

// RFC 8628 §3.1; scope optional.
[[nodiscard]] Result<HttpFormRequest>
build_device_authorization_request(const ClientAuth& auth, std::string_view device_endpoint,
                                   std::string_view scope, SystemTime now);

// RFC 8628 §3.4: grant_type=urn:ietf:params:oauth:grant-type:device_code.
[[nodiscard]] Result<HttpFormRequest> build_device_token_request(const ClientAuth& auth,
                                                                 std::string_view token_endpoint,
                                                                 std::string_view device_code,
                                                                 SystemTime now);

// The private_key_jwt client assertion alone (RFC 7523 §3, OIDC Core §9): iss = sub = client_id,
// aud = auth.assertion_audience, fresh jti, iat = now, exp = now + lifetime.
[[nodiscard]] Result<std::string> make_client_assertion(const ClientAuth& auth, SystemTime now);

// CIBA binding_message shown at the login prompt and on the phone: two digits "00"-"99".
[[nodiscard]] Result<std::string> make_binding_message();

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// The authorization request of the code flow (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) with PKCE
// (RFC 7636). Every login gets its own state, nonce and code_verifier; the verifier is a Secret
// because whoever holds it and the code can redeem tokens.
#pragma once

#include "result.hpp"
#include "secret.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace psc {

struct Pkce {
    Secret verifier;       // 43 characters from the RFC 7636 §4.1 alphabet (256 bits)
    std::string challenge; // BASE64URL(SHA256(ASCII(verifier))), method S256
};

// RFC 7636 §4.2 S256. The verifier must be 43-128 characters of [A-Za-z0-9-._~]
// (reason pkce_verifier_invalid).
[[nodiscard]] Result<std::string> pkce_challenge_s256(std::string_view verifier);
// A fresh verifier from the CSPRNG and its challenge.
[[nodiscard]] Result<Pkce> pkce_generate();

struct AuthRequestParams {
    std::string authorization_endpoint;
    std::string client_id;
    std::string redirect_uri;
    std::string scope = "openid"; // PSC: "openid scope_all"
    std::string acr_values;       // PSC: "eidas1"; omitted when empty
    std::optional<std::int64_t> max_age;
    std::string prompt;     // omitted when empty
    std::string login_hint; // omitted when empty
    // extra_auth_params, appended last in this order (names checked against ours again).
    std::vector<std::pair<std::string, std::string>> extra;
};

// The authorization URL with exactly these values (deterministic; used by make_auth_request and
// tests). Values are percent-encoded per RFC 3986 (space as %20, which both form and plain
// decoders read as a space). Reasons: auth_endpoint_invalid (not an http(s) URL, or it has a
// fragment, RFC 6749 §3.1), auth_endpoint_param_conflict (its query already sets one of our
// parameters), auth_request_invalid (client_id/redirect_uri/scope empty, negative max_age, an
// extra parameter that is one of ours or repeated).
[[nodiscard]] Result<std::string> build_authorization_url(const AuthRequestParams& p,
                                                          std::string_view state,
                                                          std::string_view nonce,
                                                          std::string_view code_challenge);

// Everything one pending code-flow login must remember.
struct AuthRequest {
    std::string state; // 256 bits, base64url
    std::string nonce; // 256 bits, base64url
    Pkce pkce;
    std::string url;
};

[[nodiscard]] Result<AuthRequest> make_auth_request(const AuthRequestParams& p);

} // namespace psc

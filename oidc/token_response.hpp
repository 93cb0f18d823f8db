// SPDX-License-Identifier: LGPL-2.1-or-later
// Answers from the provider's back channel: the token response (RFC 6749 §5.1, OIDC Core §3.1.3.3),
// OAuth error responses (RFC 6749 §5.2, CIBA Core §11/§13, RFC 8628 §3.5), the CIBA
// authentication response (CIBA Core §7.3) and the device authorization response (RFC 8628 §3.2),
// plus the poll schedule both decoupled flows share.
#pragma once

#include "json.hpp"
#include "result.hpp"
#include "secret.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace psc {

struct TokenResponse {
    Secret access_token;
    std::string token_type; // "Bearer" (checked case-insensitively, RFC 6749 §7.1)
    Secret id_token;        // empty only when not required (refresh, OIDC Core §12.2)
    std::optional<std::int64_t> expires_in;
    Secret refresh_token; // empty when absent
    std::optional<std::string> scope;
};

enum class OAuthErrorKind {
    authorization_pending,
    slow_down,
    access_denied,
    expired_token,
    invalid_grant,
    invalid_request,
    invalid_client,
    unauthorized_client,
    unknown_user_id,
    other,
};

struct OAuthError {
    OAuthErrorKind kind = OAuthErrorKind::other;
    std::string error;       // the code as sent (sanitised)
    std::string description; // sanitised, capped; may be empty
    int http_status = 0;
};

[[nodiscard]] OAuthErrorKind oauth_error_kind(std::string_view code) noexcept;
// authorization_pending and slow_down: keep polling; anything else ends the flow.
[[nodiscard]] bool oauth_error_is_pending(OAuthErrorKind kind) noexcept;
// The terminal Error for an OAuth error; reason = the OAuth code for the known kinds
// ("access_denied" → denied, "expired_token" → timeout, "unknown_user_id" → unknown_user,
// "invalid_client"/"unauthorized_client" → config, "invalid_grant"/"invalid_request" → invalid,
// pending/slow_down → timeout) and "provider_error" (invalid) for others.
[[nodiscard]] Error oauth_error_to_error(const OAuthError& e);

template <class T>
using OAuthResult = Result<std::variant<T, OAuthError>>;

// Shared HTTP handling: 200 → the success document; 4xx with an OAuth error JSON → OAuthError;
// 5xx → provider_unavailable (unavailable); anything else → http_status (unavailable); a body
// that is not a JSON object → response_not_json (invalid); a 4xx object without a string
// "error" → response_invalid (invalid).
// Token response reasons: access_token_missing, token_type_missing, token_type_unsupported,
// id_token_missing, expires_in_invalid, response_invalid (wrong member types, oversize tokens).
// json_max_depth: [limits] json_max_depth (every parser below takes it the same way).
[[nodiscard]] OAuthResult<TokenResponse> parse_token_response(int http_status,
                                                              std::string_view body,
                                                              bool require_id_token = true,
                                                              int json_max_depth = kJsonMaxDepth);

struct CibaAuthResponse {
    Secret auth_req_id;
    std::chrono::seconds expires_in{0};
    std::chrono::seconds interval{5}; // CIBA §7.3: 5 s when absent
};
// Reasons: auth_req_id_missing, expires_in_invalid (absent, ≤ 0 or over a day), response_invalid.
[[nodiscard]] OAuthResult<CibaAuthResponse>
parse_ciba_auth_response(int http_status, std::string_view body,
                         int json_max_depth = kJsonMaxDepth);

struct DeviceAuthResponse {
    Secret device_code;
    std::string user_code;
    std::string verification_uri;
    std::optional<std::string> verification_uri_complete;
    std::chrono::seconds expires_in{0};
    std::chrono::seconds interval{5}; // RFC 8628 §3.2: 5 s when absent
};
// Reasons: device_code_missing, user_code_invalid (absent, over 64 bytes, non-printable),
// verification_uri_invalid (absent or not an http(s) URL), expires_in_invalid, response_invalid.
[[nodiscard]] OAuthResult<DeviceAuthResponse>
parse_device_auth_response(int http_status, std::string_view body,
                           int json_max_depth = kJsonMaxDepth);

// Server intervals are clamped to [kMinPollInterval, kMaxPollInterval]: 0 would hammer the
// provider, an hour would silently outlive the login.
inline constexpr std::chrono::seconds kMinPollInterval{1};
inline constexpr std::chrono::seconds kMaxPollInterval{60};
// CIBA §11 / RFC 8628 §3.5: slow_down adds 5 s to the interval for this and all later polls.
inline constexpr std::chrono::seconds kSlowDownStep{5};

// When to poll next and when to give up, from the server's interval and expires_in; time is
// injected (steady clock).
class PollSchedule {
public:
    using Clock = std::chrono::steady_clock;
    PollSchedule(Clock::time_point start, std::chrono::seconds interval,
                 std::chrono::seconds expires_in) noexcept;

    void slow_down() noexcept; // + 5 s, capped at 10 minutes
    [[nodiscard]] std::chrono::seconds interval() const noexcept { return interval_; }
    [[nodiscard]] Clock::time_point deadline() const noexcept { return deadline_; }
    [[nodiscard]] bool expired(Clock::time_point now) const noexcept { return now >= deadline_; }
    // now + interval, never past the deadline.
    [[nodiscard]] Clock::time_point next_poll(Clock::time_point now) const noexcept;

private:
    std::chrono::seconds interval_;
    Clock::time_point deadline_;
};

} // namespace psc

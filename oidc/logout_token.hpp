// SPDX-License-Identifier: LGPL-2.1-or-later
// Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6): the provider tells the
// relying party, server to server, that a session ended. Validated like an ID token where the
// specification says so (signature with the local algorithm list, iss, aud, iat, exp when
// present), plus what makes it a logout token and not a replayed ID token: the `events` member
// with the back-channel logout event, `sid` and/or `sub`, no `nonce`, and a `jti` never seen
// before (JtiCache).
#pragma once

#include "json.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace psc {

inline constexpr std::string_view kBackchannelLogoutEvent =
    "http://schemas.openid.net/event/backchannel-logout";

struct LogoutTokenPolicy {
    std::string issuer;
    std::string client_id;
    std::chrono::seconds clock_skew{60};
    std::chrono::seconds max_token_age{600}; // iat older than this (+ skew) is refused
    JwsVerifyPolicy jws;                     // logout_typ is set by validate_logout_token
    int json_max_depth = kJsonMaxDepth;
};

struct LogoutToken {
    std::string iss, jti;
    std::optional<std::string> sub, sid;
    std::int64_t iat = 0;
};

// Reasons (Errc::invalid): jws_* and jwe_* of jws_verify, logout_token_json (payload not an
// object), logout_token_claim_type (a claim of the wrong JSON type), logout_token_iss,
// logout_token_aud, logout_token_iat (missing, in the future or too old), logout_token_exp
// (expired), logout_token_jti (missing, empty or > 255 bytes), logout_token_events (no events
// object with the back-channel logout member, or that member is not an object),
// logout_token_subject (neither sid nor sub, or one empty / > 255 bytes), logout_token_nonce
// (a nonce: an ID token passed off as a logout token). Errc::config: logout_token_policy.
[[nodiscard]] Result<LogoutToken> validate_logout_token(std::string_view compact,
                                                        const JwkSet& keys,
                                                        const LogoutTokenPolicy& policy,
                                                        std::int64_t now);

// The jti of every logout token accepted, until it could no longer be accepted anyway (iat too
// old): a replayed token is refused. Bounded: at most kMaxEntries, the oldest forgotten first.
class JtiCache {
public:
    static constexpr std::size_t kMaxEntries = 16384;
    // Records (iss, jti) until `forget_at` (Unix seconds). False when it is already there (a
    // replay) — then nothing changes.
    [[nodiscard]] bool remember(std::string_view iss, std::string_view jti,
                                std::int64_t forget_at, std::int64_t now);
    [[nodiscard]] std::size_t size() const noexcept { return by_key_.size(); }

private:
    void expire(std::int64_t now);
    std::unordered_map<std::string, std::int64_t> by_key_;
    std::deque<std::pair<std::int64_t, std::string>> order_; // insertion order
};

} // namespace psc

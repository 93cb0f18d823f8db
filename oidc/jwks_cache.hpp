// SPDX-License-Identifier: LGPL-2.1-or-later
// The provider's signing keys (design §3): fetched from jwks_uri and refreshed on a timer, or
// loaded once from a static jwks_file. A token whose kid is unknown triggers one rate-limited
// refetch (key rotation; design §9: at most once per 60 s). A failed fetch keeps the old keys, and
// no new key is trusted without a successful fetch.
//
// The daemon drives it asynchronously (stale(), should_refetch_for_unknown_kid(), note_attempt(),
// replace()); verify_with_refetch() is the blocking form for tests and pscctl.
#pragma once

#include "http_client.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace psc {

struct JwksCacheOptions {
    std::chrono::seconds refresh_interval{3600};
    std::chrono::seconds min_refetch_interval{60}; // design §9
};

class JwksCache {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    explicit JwksCache(JwksCacheOptions options = {}) : options_(options) {}
    // A static key set from jwks_file (read_file_checked: no symlink, not group/world writable,
    // ≤ kJwksMaxBytes). Never refetched.
    [[nodiscard]] static Result<JwksCache> from_file(const std::string& path,
                                                     int json_max_depth = kJsonMaxDepth);

    [[nodiscard]] bool is_static() const noexcept { return static_; }
    [[nodiscard]] bool has_keys() const noexcept { return !keys_.keys.empty(); }
    [[nodiscard]] const JwkSet& keys() const noexcept { return keys_; }
    [[nodiscard]] std::optional<TimePoint> fetched_at() const noexcept { return fetched_at_; }

    // Time for the periodic refresh (never for a static set; always before a first fetch).
    [[nodiscard]] bool stale(TimePoint now) const noexcept;
    // Whether a token with an unknown kid may trigger a fetch now: not static, and no fetch was
    // attempted (successfully or not) within min_refetch_interval.
    [[nodiscard]] bool should_refetch_for_unknown_kid(TimePoint now) const noexcept;
    // Records a fetch attempt (call when starting one) for the rate limit.
    void note_attempt(TimePoint now) noexcept { last_attempt_ = now; }
    // A successful fetch: the new set replaces the old one entirely (removed keys stop verifying).
    void replace(JwkSet keys, TimePoint now);

private:
    JwksCacheOptions options_;
    JwkSet keys_;
    bool static_ = false;
    std::optional<TimePoint> fetched_at_;
    std::optional<TimePoint> last_attempt_;
};

// Interprets a jwks_uri answer: 200 and a parseable JWKS. Errors are Errc::unavailable; reasons:
// jwks_status, and parse_jwks's (jwks_json, jwks_no_usable_key, ...).
[[nodiscard]] Result<JwkSet> jwks_from_response(const HttpResponse& response,
                                                int json_max_depth = kJsonMaxDepth);
// Blocking GET of jwks_uri (client with a private loop).
[[nodiscard]] Result<JwkSet> fetch_jwks(HttpClient& client, const std::string& jwks_uri);

// Verifies token with the cached keys, refreshing a stale set first (a failure there keeps the old
// keys) and refetching once on jws_unknown_kid when the rate limit allows. A failed refetch is
// returned as is (Errc::unavailable: the provider is unreachable, the token is not accepted).
[[nodiscard]] Result<VerifiedJws> verify_with_refetch(JwksCache& cache, HttpClient& client,
                                                      const std::string& jwks_uri,
                                                      std::string_view token,
                                                      const JwsVerifyPolicy& policy,
                                                      JwksCache::TimePoint now);

} // namespace psc

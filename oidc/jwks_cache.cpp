// SPDX-License-Identifier: LGPL-2.1-or-later
#include "jwks_cache.hpp"

#include "file_io.hpp"

#include <unistd.h>
#include <utility>

namespace psc {

Result<JwksCache> JwksCache::from_file(const std::string& path, int json_max_depth) {
    FileRules rules;
    rules.max_bytes = kJwksMaxBytes;
    rules.required_owner = static_cast<long>(::geteuid());
    rules.refuse_group_world_writable = true; // these keys decide who gets in
    auto f = read_file_checked(path, rules);
    if (!f)
        return std::move(f).error();
    auto keys = parse_jwks(f->content, JsonLimits{kJwksMaxBytes, json_max_depth});
    if (!keys) {
        Error e = std::move(keys).error();
        e.code = Errc::config;
        e.message = path + ": " + e.message;
        return e;
    }
    JwksCache cache;
    cache.keys_ = std::move(*keys);
    cache.static_ = true;
    return cache;
}

bool JwksCache::stale(TimePoint now) const noexcept {
    if (static_)
        return false;
    return !fetched_at_ || now - *fetched_at_ >= options_.refresh_interval;
}

bool JwksCache::should_refetch_for_unknown_kid(TimePoint now) const noexcept {
    if (static_)
        return false;
    return !last_attempt_ || now - *last_attempt_ >= options_.min_refetch_interval;
}

void JwksCache::replace(JwkSet keys, TimePoint now) {
    keys_ = std::move(keys);
    fetched_at_ = now;
    last_attempt_ = now;
}

Result<JwkSet> jwks_from_response(const HttpResponse& response, int json_max_depth) {
    if (response.status != 200)
        return make_error(Errc::unavailable, "jwks_status",
                          "jwks_uri answered HTTP " + std::to_string(response.status));
    auto keys = parse_jwks(response.body, JsonLimits{kJwksMaxBytes, json_max_depth});
    if (!keys) {
        // A provider publishing garbage is unusable, not "the user's token is invalid".
        Error e = std::move(keys).error();
        e.code = Errc::unavailable;
        return e;
    }
    return keys;
}

Result<JwkSet> fetch_jwks(HttpClient& client, const std::string& jwks_uri) {
    HttpRequest req;
    req.url = jwks_uri;
    req.headers = {"Accept: application/json, application/jwk-set+json"};
    auto resp = perform(client, std::move(req));
    if (!resp)
        return std::move(resp).error();
    return jwks_from_response(*resp);
}

namespace {

// One fetch, rate-limited by the caller; success replaces the keys, failure keeps them.
Status refetch(JwksCache& cache, HttpClient& client, const std::string& jwks_uri,
               JwksCache::TimePoint now) {
    cache.note_attempt(now);
    auto keys = fetch_jwks(client, jwks_uri);
    if (!keys)
        return std::move(keys).error();
    cache.replace(std::move(*keys), now);
    return {};
}

} // namespace

Result<VerifiedJws> verify_with_refetch(JwksCache& cache, HttpClient& client,
                                        const std::string& jwks_uri, std::string_view token,
                                        const JwsVerifyPolicy& policy, JwksCache::TimePoint now) {
    if (cache.stale(now) && cache.should_refetch_for_unknown_kid(now)) {
        auto r = refetch(cache, client, jwks_uri, now);
        if (!r && !cache.has_keys())
            return std::move(r).error();
    }
    if (!cache.has_keys())
        return make_error(Errc::unavailable, "jwks_unavailable",
                          "no provider keys yet and the fetch is rate-limited");
    auto verified = jws_verify(token, cache.keys(), policy);
    if (verified || verified.error().reason != "jws_unknown_kid" ||
        !cache.should_refetch_for_unknown_kid(now))
        return verified;
    // design §3: an unknown kid means the provider may have rotated its keys: one refetch.
    PSC_TRY(refetch(cache, client, jwks_uri, now));
    return jws_verify(token, cache.keys(), policy);
}

} // namespace psc

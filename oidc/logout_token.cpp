// SPDX-License-Identifier: LGPL-2.1-or-later
#include "logout_token.hpp"

#include "strutil.hpp"

#include <algorithm>

namespace psc {
namespace {

constexpr std::size_t kClaimMaxBytes = 255;

Error reject(std::string reason, std::string message) {
    return make_error(Errc::invalid, std::move(reason), "logout token: " + std::move(message));
}

Result<std::optional<std::string>> string_claim(const json_object* c, const char* name) {
    auto v = json_get_string(c, name);
    if (!v)
        return reject("logout_token_claim_type",
                      std::string("claim \"") + name + "\" is not a string");
    if (!v->has_value())
        return std::optional<std::string>{};
    return std::optional<std::string>(std::string(**v));
}

Result<std::optional<std::int64_t>> int_claim(const json_object* c, const char* name) {
    auto v = json_get_int64(c, name);
    if (!v)
        return reject("logout_token_claim_type",
                      std::string("claim \"") + name + "\" is not an integer");
    return *v;
}

bool usable_id(const std::optional<std::string>& s) {
    return !s || (!s->empty() && s->size() <= kClaimMaxBytes);
}

Status check_events(const json_object* c) {
    const json_object* events = json_member(c, "events");
    if (!events || !json_object_is_type(events, json_type_object))
        return reject("logout_token_events", "no \"events\" object");
    const json_object* ev = json_member(events, std::string(kBackchannelLogoutEvent).c_str());
    if (!ev || !json_object_is_type(ev, json_type_object))
        return reject("logout_token_events", "\"events\" has no back-channel logout event object");
    return {};
}

Status check_times(const json_object* c, const LogoutTokenPolicy& p, std::int64_t now,
                   LogoutToken& t) {
    const std::int64_t skew = p.clock_skew.count();
    auto iat = int_claim(c, "iat");
    if (!iat)
        return std::move(iat).error();
    if (!iat->has_value())
        return reject("logout_token_iat", "no \"iat\"");
    if (**iat > now + skew)
        return reject("logout_token_iat", "issued in the future");
    if (**iat < now - p.max_token_age.count() - skew)
        return reject("logout_token_iat", "issued more than max_token_age ago");
    t.iat = **iat;
    auto exp = int_claim(c, "exp");
    if (!exp)
        return std::move(exp).error();
    if (exp->has_value() && **exp < now - skew)
        return reject("logout_token_exp", "expired");
    return {};
}

} // namespace

Result<LogoutToken> validate_logout_token(std::string_view compact, const JwkSet& keys,
                                          const LogoutTokenPolicy& policy, std::int64_t now) {
    if (policy.issuer.empty() || policy.client_id.empty())
        return make_error(Errc::config, "logout_token_policy", "issuer and client_id must be set");
    JwsVerifyPolicy jp = policy.jws;
    jp.logout_typ = true;
    auto jws = jws_verify(compact, keys, jp);
    if (!jws)
        return std::move(jws).error();
    auto claims = json_parse_object(jws->payload, JsonLimits{jp.max_bytes, policy.json_max_depth});
    if (!claims)
        return reject("logout_token_json", claims.error().describe());
    const json_object* c = claims->get();
    LogoutToken t;
    auto iss = string_claim(c, "iss");
    if (!iss)
        return std::move(iss).error();
    if (!iss->has_value() || **iss != policy.issuer)
        return reject("logout_token_iss", "\"iss\" is not " + policy.issuer);
    t.iss = std::move(**iss);
    auto aud = json_get_string_or_array(c, "aud");
    if (!aud)
        return reject("logout_token_claim_type", "claim \"aud\" is not a string or an array");
    if (!aud->has_value() ||
        std::find((*aud)->begin(), (*aud)->end(), policy.client_id) == (*aud)->end())
        return reject("logout_token_aud", "\"aud\" does not contain " + policy.client_id);
    PSC_TRY(check_times(c, policy, now, t));
    auto jti = string_claim(c, "jti");
    if (!jti)
        return std::move(jti).error();
    if (!jti->has_value() || !usable_id(*jti))
        return reject("logout_token_jti", "no usable \"jti\"");
    t.jti = std::move(**jti);
    PSC_TRY(check_events(c));
    // §2.4: an ID token carries a nonce, a logout token never does.
    if (json_member(c, "nonce"))
        return reject("logout_token_nonce", "a logout token must not carry \"nonce\"");
    auto sub = string_claim(c, "sub");
    if (!sub)
        return std::move(sub).error();
    auto sid = string_claim(c, "sid");
    if (!sid)
        return std::move(sid).error();
    if ((!sub->has_value() && !sid->has_value()) || !usable_id(*sub) || !usable_id(*sid))
        return reject("logout_token_subject", "neither a usable \"sid\" nor \"sub\"");
    t.sub = std::move(*sub);
    t.sid = std::move(*sid);
    return t;
}

bool JtiCache::remember(std::string_view iss, std::string_view jti, std::int64_t forget_at,
                        std::int64_t now) {
    expire(now);
    std::string key;
    key.reserve(iss.size() + 1 + jti.size());
    key.append(iss).append(1, '\0').append(jti);
    if (by_key_.count(key))
        return false;
    while (by_key_.size() >= kMaxEntries && !order_.empty()) {
        by_key_.erase(order_.front().second);
        order_.pop_front();
    }
    by_key_.emplace(key, forget_at);
    order_.emplace_back(forget_at, std::move(key));
    return true;
}

void JtiCache::expire(std::int64_t now) {
    // Entries are forgotten in insertion order; one that lives longer than a newer one stays
    // until that one goes (forget_at differs only by the tokens' iat: seconds apart).
    while (!order_.empty() && order_.front().first < now) {
        by_key_.erase(order_.front().second);
        order_.pop_front();
    }
}

} // namespace psc

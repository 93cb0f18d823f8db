// SPDX-License-Identifier: LGPL-2.1-or-later
#include "id_token.hpp"

#include "digest.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <openssl/crypto.h>

namespace psc {
namespace {

Error reject(std::string reason, std::string message) {
    return make_error(Errc::invalid, std::move(reason), std::move(message));
}

Error type_error(const char* claim, const Error& e) {
    return reject("claim_type", std::string("claim \"") + claim + "\": " + e.message);
}

// Short, printable excerpt of a token value for operator messages (never secrets: claims only).
std::string shown(std::string_view v) {
    return "\"" + strip_control(v.substr(0, 80)) + "\"";
}

Result<std::optional<std::string>> opt_string(const json_object* c, const char* claim) {
    auto s = json_get_string(c, claim);
    if (!s)
        return type_error(claim, s.error());
    if (!s->has_value())
        return std::optional<std::string>{};
    return std::optional<std::string>{std::string(**s)};
}

Result<std::optional<std::int64_t>> opt_time(const json_object* c, const char* claim) {
    auto t = json_get_int64(c, claim);
    if (!t)
        return type_error(claim, t.error());
    return *t;
}

bool same_secret(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status check_iss_sub(IdToken& t, const IdTokenPolicy& p) {
    auto iss = opt_string(t.claims.get(), "iss");
    if (!iss)
        return std::move(iss).error();
    if (!iss->has_value())
        return reject("iss_missing", "the ID token has no \"iss\"");
    if (**iss != p.issuer) // byte for byte: no normalisation (trailing slash, case)
        return reject("iss_mismatch", "issuer " + shown(**iss) + " is not " + shown(p.issuer));
    t.iss = std::move(**iss);
    auto sub = opt_string(t.claims.get(), "sub");
    if (!sub)
        return std::move(sub).error();
    if (!sub->has_value())
        return reject("sub_missing", "the ID token has no \"sub\"");
    if ((*sub)->empty() || (*sub)->size() > kSubMaxBytes) // Core §2: at most 255 ASCII characters
        return reject("sub_invalid", "\"sub\" is empty or longer than 255 bytes");
    t.sub = std::move(**sub);
    return {};
}

// Core §3.1.3.7 items 3–5: client_id among the audiences; other audiences only if trusted, and
// then azp must name us; azp, when present, must name us anyway.
Status check_aud_azp(IdToken& t, const IdTokenPolicy& p) {
    auto aud = json_get_string_or_array(t.claims.get(), "aud");
    if (!aud)
        return type_error("aud", aud.error());
    if (!aud->has_value())
        return reject("aud_missing", "the ID token has no \"aud\"");
    t.aud = std::move(**aud);
    auto azp = opt_string(t.claims.get(), "azp");
    if (!azp)
        return std::move(azp).error();
    t.azp = std::move(*azp);
    if (std::find(t.aud.begin(), t.aud.end(), p.client_id) == t.aud.end())
        return reject("aud_mismatch", "audience does not contain client_id " + shown(p.client_id));
    bool others = false;
    for (const auto& a : t.aud) {
        if (a == p.client_id)
            continue;
        others = true;
        if (std::find(p.trusted_audiences.begin(), p.trusted_audiences.end(), a) ==
            p.trusted_audiences.end())
            return reject("aud_untrusted", "untrusted extra audience " + shown(a));
    }
    if (others && !t.azp)
        return reject("azp_missing", "several audiences and no \"azp\"");
    if (t.azp && *t.azp != p.client_id)
        return reject("azp_mismatch", "\"azp\" " + shown(*t.azp) + " is not the client_id");
    return {};
}

Status check_times(IdToken& t, const IdTokenPolicy& p, std::int64_t now) {
    const std::int64_t skew = p.clock_skew.count();
    auto exp = opt_time(t.claims.get(), "exp");
    if (!exp)
        return std::move(exp).error();
    if (!exp->has_value())
        return reject("exp_missing", "the ID token has no \"exp\"");
    if (**exp <= now - skew)
        return reject("exp_expired", "token expired " + std::to_string(now - **exp) +
                                         " s ago (clock skew " + std::to_string(skew) + " s)");
    t.exp = **exp;
    auto iat = opt_time(t.claims.get(), "iat");
    if (!iat)
        return std::move(iat).error();
    if (!iat->has_value())
        return reject("iat_missing", "the ID token has no \"iat\"");
    if (**iat > now + skew)
        return reject("iat_future", "token issued " + std::to_string(**iat - now) +
                                        " s in the future (clock skew " + std::to_string(skew) +
                                        " s)");
    if (**iat < now - p.max_token_age.count() - skew)
        return reject("iat_too_old", "token issued " + std::to_string(now - **iat) +
                                         " s ago (limit " +
                                         std::to_string(p.max_token_age.count()) + " s)");
    t.iat = **iat;
    auto nbf = opt_time(t.claims.get(), "nbf");
    if (!nbf)
        return std::move(nbf).error();
    if (nbf->has_value() && **nbf > now + skew)
        return reject("nbf_future",
                      "token not valid for another " + std::to_string(**nbf - now) + " s");
    t.nbf = *nbf;
    return {};
}

Status check_nonce(IdToken& t, const IdTokenPolicy& p) {
    auto nonce = opt_string(t.claims.get(), "nonce");
    if (!nonce)
        return std::move(nonce).error();
    t.nonce = std::move(*nonce);
    if (!p.nonce) // CIBA sends no nonce; a token that carries one anyway is fine
        return {};
    if (!t.nonce)
        return reject("nonce_missing", "a nonce was sent but the ID token has none");
    if (!same_secret(*t.nonce, *p.nonce))
        return reject("nonce_mismatch", "the ID token nonce differs from the one sent");
    return {};
}

Status check_acr(IdToken& t, const IdTokenPolicy& p) {
    auto acr = opt_string(t.claims.get(), "acr");
    if (!acr)
        return std::move(acr).error();
    t.acr = std::move(*acr);
    if (!t.acr) {
        if (p.acr_missing_accept)
            return {};
        return reject("acr_missing", "the ID token has no \"acr\" (acr_missing = reject)");
    }
    if (!p.acr_any_value &&
        std::find(p.acr_accept.begin(), p.acr_accept.end(), *t.acr) == p.acr_accept.end())
        return reject("acr_not_accepted", "acr " + shown(*t.acr) + " is not accepted");
    return {};
}

Status check_auth_time(IdToken& t, const IdTokenPolicy& p, std::int64_t now) {
    const std::int64_t skew = p.clock_skew.count();
    auto at = opt_time(t.claims.get(), "auth_time");
    if (!at)
        return std::move(at).error();
    t.auth_time = *at;
    if (t.auth_time && *t.auth_time > now + skew)
        return reject("auth_time_future", "auth_time is in the future");
    if (!p.max_age)
        return {};
    if (!t.auth_time)
        return reject("auth_time_missing", "max_age was requested but there is no auth_time");
    if (*t.auth_time < now - p.max_age->count() - skew)
        return reject("auth_time_too_old", "authentication " + std::to_string(now - *t.auth_time) +
                                               " s ago exceeds max_age " +
                                               std::to_string(p.max_age->count()) + " s");
    return {};
}

} // namespace

Result<IdToken> validate_id_token_claims(JsonPtr claims, const IdTokenPolicy& policy,
                                         std::int64_t now) {
    if (policy.issuer.empty() || policy.client_id.empty())
        return make_error(Errc::config, "id_token_policy", "issuer and client_id must be set");
    if (!claims || !json_object_is_type(claims.get(), json_type_object))
        return reject("claims_json", "the ID token payload is not a JSON object");
    IdToken t;
    t.claims = std::move(claims);
    PSC_TRY(check_iss_sub(t, policy));
    PSC_TRY(check_aud_azp(t, policy));
    PSC_TRY(check_times(t, policy, now));
    PSC_TRY(check_nonce(t, policy));
    PSC_TRY(check_acr(t, policy));
    PSC_TRY(check_auth_time(t, policy, now));
    return t;
}

namespace {

// at_hash / c_hash (OIDC Core §3.1.3.8, §3.3.2.11): checked when the token has the claim and the
// value it hashes is known (true then means it matches). The hash is the one of the algorithm the
// signature was verified with.
Result<bool> token_hash_matches(const IdToken& t, const char* claim, std::string_view value) {
    if (value.empty())
        return true;
    auto got = opt_string(t.claims.get(), claim);
    if (!got)
        return std::move(got).error();
    if (!got->has_value())
        return true;
    auto want = oidc_token_hash(jws_alg_name(t.alg), value);
    if (!want)
        return std::move(want).error();
    return same_secret(**got, *want);
}

std::string hash_mismatch(const IdToken& t, const char* claim, const char* what) {
    return std::string("\"") + claim + "\" does not match the " + what +
           " (hashed with the digest of " + std::string(jws_alg_name(t.alg)) + ")";
}

} // namespace

Result<IdToken> validate_id_token(std::string_view compact, const JwkSet& keys,
                                  const IdTokenPolicy& policy, std::int64_t now) {
    if (policy.issuer.empty() || policy.client_id.empty())
        return make_error(Errc::config, "id_token_policy", "issuer and client_id must be set");
    auto jws = jws_verify(compact, keys, policy.jws);
    if (!jws)
        return std::move(jws).error();
    auto claims =
        json_parse_object(jws->payload, JsonLimits{policy.jws.max_bytes, policy.json_max_depth});
    if (!claims)
        return reject("claims_json", "ID token payload: " + claims.error().describe());
    auto t = validate_id_token_claims(std::move(*claims), policy, now);
    if (!t)
        return t;
    t->header = std::move(jws->header);
    t->alg = jws->alg;
    t->kid = std::move(jws->kid);
    t->signed_token = std::move(jws->signed_compact);
    t->jwe_alg = std::move(jws->jwe_alg);
    t->jwe_enc = std::move(jws->jwe_enc);
    auto at = token_hash_matches(*t, "at_hash", policy.access_token);
    if (!at)
        return std::move(at).error();
    if (!*at)
        return reject("at_hash_mismatch", hash_mismatch(*t, "at_hash", "access token"));
    auto c = token_hash_matches(*t, "c_hash", policy.code);
    if (!c)
        return std::move(c).error();
    if (!*c)
        return reject("c_hash_mismatch", hash_mismatch(*t, "c_hash", "authorization code"));
    return t;
}

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// ID tokens shaped like Keycloak's (the claims PSC was seen sending), and every claim or signature
// fault applied to them.
#include "base64url.hpp"
#include "digest.hpp"
#include "jwe.hpp"
#include "provider.hpp"
#include "random.hpp"

#include <openssl/evp.h>

namespace psc::mock {

namespace {

constexpr std::int64_t kWeek = 7 * 24 * 3600;
constexpr const char* kOtherAudience = "mock-psc-other-audience";

// OIDC Core §3.1.3.6: at_hash = base64url(left half of hash(access_token)), the hash of the
// signing algorithm (c_hash likewise for a code).
std::string token_hash(JwsAlg alg, std::string_view value) {
    auto h = oidc_token_hash(jws_alg_name(alg), value);
    return h ? *h : std::string();
}

// aud and azp (OIDC Core §2: azp names the client when there are several audiences).
void set_audience(json_object* c, const std::string& client_id, FaultBoard& faults) {
    constexpr Endpoint at = Endpoint::token;
    std::string azp = client_id;
    if (faults.take(Fault::id_token_wrong_aud, at)) {
        json_set(c, "aud", kOtherAudience);
        azp = kOtherAudience;
    } else if (faults.take(Fault::id_token_missing_aud, at)) {
        // no aud at all
    } else if (faults.take(Fault::id_token_extra_aud_with_azp, at)) {
        json_set_strings(c, "aud", {client_id, kOtherAudience});
    } else if (faults.take(Fault::id_token_extra_aud_without_azp, at)) {
        json_set_strings(c, "aud", {client_id, kOtherAudience});
        azp.clear();
    } else {
        json_set(c, "aud", client_id);
    }
    if (!azp.empty())
        json_set(c, "azp", azp);
}

Forgery forgery_for(FaultBoard& faults) {
    constexpr Endpoint at = Endpoint::token;
    if (faults.take(Fault::id_token_bad_signature, at))
        return Forgery::bad_signature;
    if (faults.take(Fault::id_token_alg_none, at))
        return Forgery::alg_none;
    if (faults.take(Fault::id_token_hs256_rsa_pubkey, at))
        return Forgery::hs256_with_public_key;
    if (faults.take(Fault::id_token_unknown_kid, at))
        return Forgery::unknown_kid;
    return Forgery::none;
}

} // namespace

Result<std::string> Provider::mint_id_token(const Grant& g, std::string_view access_token) {
    constexpr Endpoint at = Endpoint::token;
    auto take = [&](Fault f) { return faults_.take(f, at); };
    if (take(Fault::key_rotation))
        PSC_TRY(signer_.rotate());
    const Identity* who = identity(g.idnat);
    auto jti = random_token(16);
    if (!who || !jti)
        return make_error(Errc::internal, "mint", "unknown identity or no randomness");

    std::int64_t iat = now_unix();
    if (take(Fault::id_token_iat_future))
        iat += 3600;
    std::int64_t exp = iat + cfg_.options.access_ttl.count();
    if (take(Fault::id_token_iat_week_old))
        iat -= kWeek; // exp stays in the future: only the age gives it away
    if (take(Fault::id_token_expired)) {
        iat = now_unix() - 3600;
        exp = now_unix() - 600; // well past any clock skew
    }

    JsonPtr c = json_new_object();
    json_set(c.get(), "exp", exp);
    json_set(c.get(), "iat", iat);
    json_set(c.get(), "auth_time", g.auth_time);
    json_set(c.get(), "jti", *jti);
    if (!take(Fault::id_token_missing_iss))
        json_set(c.get(), "iss",
                 take(Fault::id_token_wrong_iss) ? base_url_ + "/auth/realms/other-realm"
                                                 : issuer_);
    set_audience(c.get(), g.client_id, faults_);
    if (!take(Fault::id_token_missing_sub))
        json_set(c.get(), "sub", who->sub);
    json_set(c.get(), "typ", "ID");
    if (take(Fault::id_token_wrong_nonce))
        json_set(c.get(), "nonce", "mock-psc-forged-nonce");
    else if (g.nonce && !take(Fault::id_token_missing_nonce))
        json_set(c.get(), "nonce", *g.nonce);
    json_set(c.get(), "session_state", g.sid);
    json_set(c.get(), "at_hash",
             token_hash(signer_.alg(), take(Fault::id_token_bad_at_hash)
                                           ? std::string_view("mock-psc-another-access-token")
                                           : access_token));
    if (take(Fault::id_token_bad_c_hash))
        json_set(c.get(), "c_hash", token_hash(signer_.alg(), "mock-psc-another-code"));
    if (take(Fault::id_token_acr_eidas3))
        json_set(c.get(), "acr", "eidas3");
    else if (take(Fault::id_token_acr_unlisted))
        json_set(c.get(), "acr", "urn:mock-psc:acr:unlisted");
    else if (!take(Fault::id_token_acr_missing))
        json_set(c.get(), "acr", "eidas1");
    json_set(c.get(), "sid", g.sid);
    last_sid_[g.idnat] = g.sid;
    json_set(c.get(), "preferred_username", g.idnat);

    const std::string claims = json_to_string(c.get());
    auto jwt = signer_.sign(claims, "JWT", forgery_for(faults_));
    if (!jwt)
        return jwt;
    return encrypt_for_client(std::move(*jwt), claims, at);
}

Result<std::string> Provider::encrypt_for_client(std::string jwt, std::string_view claims,
                                                 Endpoint at) {
    auto take = [&](Fault f) { return faults_.take(f, at); };
    if (!cfg_.encrypt_to)
        return jwt;
    const auto alg = jwe_alg_from_name(cfg_.options.encrypt_alg);
    const auto enc = jwe_enc_from_name(cfg_.options.encrypt_enc);
    if (!alg || !enc)
        return make_error(Errc::config, "encrypt", "unknown --encrypt-alg or --encrypt-enc");
    const std::string kid = take(Fault::id_token_encryption_wrong_kid)
                                ? std::string("mock-psc-unregistered-key")
                                : cfg_.options.encrypt_kid;
    const std::string_view inner = take(Fault::id_token_encrypted_unsigned)
                                       ? claims
                                       : std::string_view(jwt);
    auto jwe = jwe_encrypt(inner, cfg_.encrypt_to.get(), *alg, *enc, kid, "JWT");
    if (!jwe || !take(Fault::id_token_encryption_bad_tag))
        return jwe;
    // The tag is the last part: flip one bit of its first byte, keeping base64url canonical.
    const auto dot = jwe->rfind('.');
    auto tag = base64url_decode(std::string_view(*jwe).substr(dot + 1));
    if (!tag || tag->empty())
        return make_error(Errc::internal, "encrypt", "cannot read the JWE tag");
    (*tag)[0] = static_cast<char>((*tag)[0] ^ 0x01);
    return jwe->substr(0, dot + 1) + base64url_encode(*tag);
}

} // namespace psc::mock

// SPDX-License-Identifier: LGPL-2.1-or-later
// JWS verification, ID-token and logout-token validation on arbitrary bytes, against a fixed JWKS
// (RSA, P-256, Ed25519; the private keys were thrown away after signing the seeds in corpus/jwt/)
// with every algorithm allowed. Two modes per input: the bytes as a compact token, and, when they
// contain two newlines, the three newline-separated pieces base64url-encoded and joined with dots,
// so the fuzzer reaches header and claims parsing directly. The claims piece is also fed to the
// claim checks as if its signature had verified.
#include "base64url.hpp"
#include "id_token.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "logout_token.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr const char* kJwks =
    R"({"keys":[{"kty":"RSA","n":"xq7ZzMGybcpXo1qfdZgw5zif9vHoE6U3nwJQ9qmgA7XG9RvuaZTTb6tDkZWuI5Qg-k6FvsoZvTuoVSIu3qg53-uBN5sII4gyf3vesuHWUU9KOHS4wLHQasB6JgVPbUXpuJeplUGkfwvqKlsT8Jh17eXFgL-la2N-w9n-FFu7hYVOWDBbt4XGK2nknYMpQ546-uFalDnU1vbn6I95--TQYZymouSIFzaZMlPPkHGV3Lo2_6bcq5KGcQh6XunAPIZpQcGP15SdOkPfyNk5O42UXwNydSiXmFAoxUb8_zq0ttvxlZJbcVgcM88jl0UdN8g2sTUYNTM07Se_DpvOEfKMuw","e":"AQAB","kid":"rsa-1","alg":"RS256","use":"sig"},{"kty":"EC","crv":"P-256","x":"TL5XHr8fslmy1EBu0i2BjDUMJdjVzfshKkHahz7QlTM","y":"DJL9W1yXaW8DbH8pfMU8L3WmLKjh7Vqd-K5-afu-ZNM","kid":"ec-1"},{"kty":"OKP","crv":"Ed25519","x":"76UanSvbJrjjsmOXb8Z7lCHrEasP41l-1SOfmZH-o8c","kid":"ed-1","use":"sig"}]})";
constexpr std::int64_t kNow = 1700000000;

struct Fixture {
    psc::JwkSet keys;
    psc::Secret secret{"fuzz-hmac-secret-0123456789abcdef"};
    psc::IdTokenPolicy policy;
};

const Fixture& fixture() {
    static const Fixture* f = [] {
        auto* fx = new Fixture;
        auto keys = psc::parse_jwks(kJwks);
        if (!keys.ok())
            __builtin_trap();
        fx->keys = std::move(*keys);
        fx->policy.issuer = "https://idp.fuzz.example";
        fx->policy.client_id = "fuzz-client";
        fx->policy.nonce = "fuzz-nonce";
        fx->policy.trusted_audiences = {"other"};
        fx->policy.max_age = std::chrono::seconds(300);
        fx->policy.jws.allowed_algs = {psc::JwsAlg::RS256, psc::JwsAlg::RS384, psc::JwsAlg::RS512,
                                       psc::JwsAlg::PS256, psc::JwsAlg::PS384, psc::JwsAlg::PS512,
                                       psc::JwsAlg::ES256, psc::JwsAlg::ES384, psc::JwsAlg::ES512,
                                       psc::JwsAlg::EdDSA, psc::JwsAlg::HS256, psc::JwsAlg::HS384,
                                       psc::JwsAlg::HS512};
        fx->policy.jws.hmac_secret = &fx->secret;
        return fx;
    }();
    return *f;
}

void check(std::string_view token) {
    const Fixture& f = fixture();
    auto v = psc::jws_verify(token, f.keys, f.policy.jws);
    // A verified token always has an allowed algorithm and respected the size cap.
    if (v.ok() && (token.size() > f.policy.jws.max_bytes ||
                   std::find(f.policy.jws.allowed_algs.begin(), f.policy.jws.allowed_algs.end(),
                             v->alg) == f.policy.jws.allowed_algs.end()))
        __builtin_trap();
    auto t = psc::validate_id_token(token, f.keys, f.policy, kNow);
    if (t.ok() && t->iss != f.policy.issuer)
        __builtin_trap();
    // The same bytes as a back-channel logout token.
    psc::LogoutTokenPolicy lp;
    lp.issuer = f.policy.issuer;
    lp.client_id = f.policy.client_id;
    lp.jws = f.policy.jws;
    auto l = psc::validate_logout_token(token, f.keys, lp, kNow);
    if (l.ok() && (l->iss != lp.issuer || l->jti.empty() || (!l->sid && !l->sub)))
        __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    check(in);
    const auto n1 = in.find('\n');
    const auto n2 = n1 == std::string_view::npos ? n1 : in.find('\n', n1 + 1);
    if (n2 == std::string_view::npos)
        return 0;
    const std::string_view header = in.substr(0, n1);
    const std::string_view claims = in.substr(n1 + 1, n2 - n1 - 1);
    const std::string_view sig = in.substr(n2 + 1);
    check(psc::base64url_encode(header) + "." + psc::base64url_encode(claims) + "." +
          psc::base64url_encode(sig));
    if (auto obj = psc::json_parse_object(claims); obj.ok()) {
        auto t = psc::validate_id_token_claims(std::move(*obj), fixture().policy, kNow);
        if (t.ok() && (t->sub.empty() || t->sub.size() > psc::kSubMaxBytes))
            __builtin_trap();
    }
    return 0;
}

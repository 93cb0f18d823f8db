// SPDX-License-Identifier: LGPL-2.1-or-later
// Client authentication at the token, CIBA, device and introspection endpoints: RFC 6749 §2.3.1
// (client_secret_basic / client_secret_post), RFC 7523 + OIDC Core §9 (private_key_jwt) and
// RFC 8705 §2.1 (tls_client_auth, PKI method: the certificate chains to the test CA and its subject
// is the registered one).
#include "base64url.hpp"
#include "jws.hpp"
#include "provider.hpp"
#include "secret.hpp"

#include <openssl/evp.h>

namespace psc::mock {

namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

Error invalid_client(std::string message) {
    return make_error(Errc::invalid, "invalid_client", std::move(message));
}

// Standard base64 (RFC 4648 §4) of an HTTP Basic credential.
Result<std::string> base64_decode(std::string_view in) {
    if (in.empty() || in.size() % 4 != 0 || in.size() > 4096)
        return invalid_client("malformed Basic credentials");
    std::string out(in.size() / 4 * 3, '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(in.data()),
                                  static_cast<int>(in.size()));
    if (n < 0)
        return invalid_client("malformed Basic credentials");
    std::size_t len = static_cast<std::size_t>(n);
    for (std::size_t i = in.size(); i > 0 && in[i - 1] == '='; --i)
        --len; // EVP_DecodeBlock counts padding as zero bytes
    out.resize(len);
    return out;
}

struct BasicCredentials {
    std::string id;
    std::string secret;
};

Result<BasicCredentials> parse_basic(std::string_view header) {
    auto raw = base64_decode(header.substr(6));
    if (!raw)
        return std::move(raw).error();
    const auto colon = raw->find(':');
    if (colon == std::string::npos)
        return invalid_client("Basic credentials without ':'");
    // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    auto id = percent_decode(std::string_view(*raw).substr(0, colon));
    auto secret = percent_decode(std::string_view(*raw).substr(colon + 1));
    secure_wipe(*raw);
    if (!id || !secret)
        return invalid_client("Basic credentials are not form-urlencoded");
    return BasicCredentials{std::move(*id), std::move(*secret)};
}

// The kid of a JWS header, or "" (only to name the registered key; verification is jws_verify's).
std::string header_kid(std::string_view jws) {
    auto header = base64url_decode(jws.substr(0, jws.find('.')));
    auto doc = header ? json_parse_object(*header) : Result<JsonPtr>(header.error());
    auto kid = doc ? json_get_string(doc->get(), "kid") : Result<JsonString>(doc.error());
    return kid && kid->has_value() ? std::string(**kid) : std::string();
}

// The client registered a bare PEM public key: whatever kid the client puts in its assertion
// names that key (Keycloak's "use JWKS URL: off" with one certificate behaves the same).
JwkSet keys_named(const JwkSet& registered, const std::string& kid) {
    JwkSet out;
    for (const auto& k : registered.keys) {
        auto copy = std::make_shared<Jwk>();
        copy->kid = kid;
        copy->kty = k->kty;
        copy->crv = k->crv;
        copy->alg = k->alg;
        copy->use = k->use;
        copy->key = evp_pkey_share(k->key.get());
        copy->bits = k->bits;
        out.keys.push_back(std::move(copy));
    }
    return out;
}

bool starts_with_basic(const std::string& h) {
    return h.size() > 6 && (h.compare(0, 6, "Basic ") == 0 || h.compare(0, 6, "basic ") == 0);
}

} // namespace

Result<std::string> Provider::check_client_assertion(const QueryParams& p) {
    if (param(p, "client_assertion_type") != kJwtBearer)
        return invalid_client("client_assertion_type must be " + std::string(kJwtBearer));
    if (!cfg_.client_keys)
        return invalid_client("private_key_jwt is not configured for this client");
    JwsVerifyPolicy policy;
    policy.allowed_algs = {JwsAlg::RS256, JwsAlg::PS256, JwsAlg::ES256, JwsAlg::ES384};
    const std::string assertion = param(p, "client_assertion");
    auto jws = jws_verify(assertion, keys_named(*cfg_.client_keys, header_kid(assertion)), policy);
    if (!jws)
        return invalid_client("client assertion rejected: " + jws.error().reason);
    auto claims = json_parse_object(jws->payload);
    if (!claims)
        return invalid_client("client assertion claims are not JSON");
    auto iss = json_get_string(claims->get(), "iss");
    auto sub = json_get_string(claims->get(), "sub");
    auto aud = json_get_string_or_array(claims->get(), "aud");
    auto exp = json_get_int64(claims->get(), "exp");
    auto jti = json_get_string(claims->get(), "jti");
    if (!iss || !iss->has_value() || !sub || !sub->has_value() || **iss != cfg_.options.client_id ||
        **sub != cfg_.options.client_id)
        return invalid_client("client assertion iss and sub must be the client_id");
    // Keycloak accepts the issuer or the token endpoint as audience.
    const std::string token_url = url(kOidcPath) + "/token";
    bool aud_ok = false;
    if (aud && aud->has_value())
        for (const auto& a : **aud)
            aud_ok = aud_ok || a == issuer_ || a == token_url;
    if (!aud_ok)
        return invalid_client("client assertion aud must be the issuer or the token endpoint");
    if (!exp || !exp->has_value() || **exp <= now_unix())
        return invalid_client("client assertion expired or without exp");
    if (!jti || !jti->has_value() || (*jti)->empty() || !seen_jti_.emplace(**jti).second)
        return invalid_client("client assertion jti missing or replayed");
    return cfg_.options.client_id;
}

Result<Provider::BackChannel> Provider::back_channel(const ServerRequest& req, Endpoint at,
                                                     std::string_view usual_error) {
    if (req.method != "POST")
        return oauth_failure("invalid_request", "this endpoint only accepts POST");
    auto p = request_params(req);
    if (!p)
        return oauth_failure("invalid_request", p.error().describe());
    auto client = authenticate_client(req, *p);
    if (!client)
        return std::move(client).error();
    if (auto e = injected_error(at, usual_error))
        return std::move(*e);
    return BackChannel{std::move(*p), std::move(*client)};
}

Result<std::string> Provider::authenticate_client(const ServerRequest& req, const QueryParams& p) {
    const std::string authz = req.header("authorization");
    const bool basic = starts_with_basic(authz);
    const bool post = has_param(p, "client_secret");
    const bool jwt = has_param(p, "client_assertion");
    if (int(basic) + int(post) + int(jwt) > 1) // RFC 6749 §2.3: one method per request
        return make_error(Errc::invalid, "invalid_request",
                          "more than one client authentication method used");
    const Secret expected(cfg_.options.client_secret);
    if (basic || post) {
        BasicCredentials c;
        if (basic) {
            auto parsed = parse_basic(authz);
            if (!parsed)
                return std::move(parsed).error();
            c = std::move(*parsed);
        } else {
            c = BasicCredentials{param(p, "client_id"), param(p, "client_secret")};
        }
        if (c.id != cfg_.options.client_id)
            return invalid_client("unknown client_id");
        if (has_param(p, "client_id") && param(p, "client_id") != c.id)
            return make_error(Errc::invalid, "invalid_request", "client_id differs from Basic");
        if (expected.empty() || !expected.equals(c.secret))
            return invalid_client("invalid client credentials");
        secure_wipe(c.secret);
        return c.id;
    }
    if (jwt)
        return check_client_assertion(p);
    // tls_client_auth: the client_id parameter names the client (RFC 8705 §2.1).
    if (param(p, "client_id") != cfg_.options.client_id)
        return invalid_client("unknown or missing client_id");
    if (!req.client_subject)
        return invalid_client("no client authentication (and no verified client certificate)");
    if (*req.client_subject != cfg_.client_cert_subject)
        return invalid_client("client certificate subject " + *req.client_subject +
                              " is not the registered one");
    return cfg_.options.client_id;
}

} // namespace psc::mock

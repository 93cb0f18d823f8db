// SPDX-License-Identifier: LGPL-2.1-or-later
// The token endpoint (RFC 6749 §3.2): authorization_code with PKCE (RFC 7636 §4.6), refresh_token
// (§6, rotated like Keycloak), the CIBA grant (CIBA Core §10.1) and the device grant (RFC 8628
// §3.4).
#include "auth_request.hpp"
#include "provider.hpp"
#include "secret.hpp"

namespace psc::mock {

namespace {

constexpr std::string_view kCibaGrant = "urn:openid:params:grant-type:ciba";
constexpr std::string_view kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";

} // namespace

Answer Provider::token(const ServerRequest& req) {
    auto bc = back_channel(req, Endpoint::token, "invalid_grant");
    if (!bc)
        return std::move(bc).error();
    const QueryParams& p = bc->params;
    const std::string& client = bc->client_id;
    const std::string grant = param(p, "grant_type");
    if (grant == "authorization_code")
        return code_grant(client, p);
    if (grant == "refresh_token")
        return refresh_grant(client, p);
    if (grant == kCibaGrant)
        return decoupled_grant(client, param(p, "auth_req_id"), DecoupledRequest::Kind::ciba);
    if (grant == kDeviceGrant && cfg_.options.device_grant)
        return decoupled_grant(client, param(p, "device_code"), DecoupledRequest::Kind::device);
    if (grant.empty())
        return oauth_failure("invalid_request", "Missing form parameter: grant_type");
    return oauth_failure("unsupported_grant_type", "Unsupported grant_type");
}

Result<Grant> Provider::redeem_code(const std::string& client_id, const std::string& code,
                                    const std::string& redirect_uri,
                                    const std::optional<std::string>& verifier) {
    const auto it = codes_.find(code);
    if (it == codes_.end())
        return oauth_failure("invalid_grant", "Code not valid");
    IssuedCode& c = it->second;
    if (c.used) {
        // RFC 6749 §4.1.2: a replayed code revokes what it produced.
        for (const auto& t : c.tokens)
            tokens_.erase(t);
        return oauth_failure("invalid_grant", "Code not valid");
    }
    c.used = true;
    if (now_unix() >= c.expires_at)
        return oauth_failure("invalid_grant", "Code is expired");
    if (c.grant.client_id != client_id)
        return oauth_failure("invalid_grant", "Code was issued to another client");
    if (c.redirect_uri != redirect_uri)
        return oauth_failure("invalid_grant", "Incorrect redirect_uri");
    if (!c.code_challenge.empty()) {
        if (!verifier)
            return oauth_failure("invalid_grant", "PKCE code verifier not specified");
        auto challenge = pkce_challenge_s256(*verifier);
        if (!challenge)
            return oauth_failure("invalid_grant", "PKCE invalid code verifier");
        if (*challenge != c.code_challenge)
            return oauth_failure("invalid_grant", "PKCE verification failed: Code mismatch");
    }
    return c.grant;
}

Answer Provider::code_grant(const std::string& client_id, const QueryParams& p) {
    const std::string* verifier = query_find(p, "code_verifier");
    auto grant = redeem_code(client_id, param(p, "code"), param(p, "redirect_uri"),
                             verifier ? std::optional<std::string>(*verifier) : std::nullopt);
    if (!grant)
        return std::move(grant).error();
    auto tokens = issue_tokens(*grant, &codes_[param(p, "code")].tokens);
    if (!tokens)
        return oauth_failure("server_error", tokens.error().describe());
    return token_response(*grant, *tokens);
}

Answer Provider::refresh_grant(const std::string& client_id, const QueryParams& p) {
    const auto it = tokens_.find(param(p, "refresh_token"));
    if (it == tokens_.end() || !it->second.refresh)
        return oauth_failure("invalid_grant", "Invalid refresh token");
    const IssuedToken old = it->second;
    tokens_.erase(it); // Keycloak's "revoke refresh token": each one is single-use
    if (now_unix() >= old.expires_at)
        return oauth_failure("invalid_grant", "Refresh token expired");
    if (old.grant.client_id != client_id)
        return oauth_failure(
            "invalid_grant",
            "Invalid refresh token. Token client and authorized client don't match");
    if (ended_sessions_.count(old.grant.sid))
        return oauth_failure("invalid_grant", "Session not active");
    auto tokens = issue_tokens(old.grant, nullptr);
    if (!tokens)
        return oauth_failure("server_error", tokens.error().describe());
    return token_response(old.grant, *tokens);
}

Answer Provider::decoupled_grant(const std::string& client_id, const std::string& id,
                                 DecoupledRequest::Kind kind) {
    const auto it = decoupled_.find(id);
    if (it == decoupled_.end() || it->second.kind != kind || it->second.client_id != client_id)
        return oauth_failure("invalid_grant", kind == DecoupledRequest::Kind::ciba
                                                  ? "Invalid Auth Req ID"
                                                  : "Invalid device code");
    DecoupledRequest& r = it->second;
    switch (r.poll(SteadyClock::now())) {
    case PollAnswer::pending:
        return oauth_failure("authorization_pending", "The authorization request is still pending");
    case PollAnswer::slow_down:
        return oauth_failure("slow_down", "Too early to poll: the interval is now " +
                                              std::to_string(r.interval.count()) + " s");
    case PollAnswer::denied:
        return oauth_failure("access_denied", "The end-user denied the authorization request");
    case PollAnswer::expired:
        return oauth_failure("expired_token", "The authorization request has expired");
    case PollAnswer::spent:
        return oauth_failure("invalid_grant", "The authorization request was already used");
    case PollAnswer::approved:
        break;
    }
    auto sid = fresh_token();
    if (!sid)
        return oauth_failure("server_error", "no randomness");
    const Grant g{r.client_id, r.idnat, r.auth_mode, r.scope, std::nullopt, *sid, now_unix()};
    auto tokens = issue_tokens(g, nullptr);
    if (!tokens)
        return oauth_failure("server_error", tokens.error().describe());
    return token_response(g, *tokens);
}

Result<TokenSet> Provider::issue_tokens(const Grant& g, std::vector<std::string>* issued) {
    auto access = fresh_token();
    auto refresh = fresh_token();
    if (!access || !refresh)
        return make_error(Errc::internal, "rng", "no randomness");
    const std::int64_t now = now_unix();
    tokens_[*access] = IssuedToken{g, now + cfg_.options.access_ttl.count(), false};
    tokens_[*refresh] = IssuedToken{g, now + cfg_.options.refresh_ttl.count(), true};
    if (issued) {
        issued->push_back(*access);
        issued->push_back(*refresh);
    }
    auto id_token = mint_id_token(g, *access);
    if (!id_token)
        return std::move(id_token).error();
    return TokenSet{*access, *refresh, std::move(*id_token)};
}

ServerResponse Provider::token_response(const Grant& g, const TokenSet& t) const {
    JsonPtr doc = json_new_object();
    json_set(doc.get(), "access_token", t.access_token);
    json_set(doc.get(), "expires_in", static_cast<std::int64_t>(cfg_.options.access_ttl.count()));
    json_set(doc.get(), "refresh_expires_in",
             static_cast<std::int64_t>(cfg_.options.refresh_ttl.count()));
    json_set(doc.get(), "refresh_token", t.refresh_token);
    json_set(doc.get(), "token_type", "Bearer");
    json_set(doc.get(), "id_token", t.id_token);
    json_set(doc.get(), "not-before-policy", std::int64_t{0});
    json_set(doc.get(), "session_state", g.sid);
    json_set(doc.get(), "scope", g.scope);
    return json_response(doc.get());
}

} // namespace psc::mock

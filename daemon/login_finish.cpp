// SPDX-License-Identifier: LGPL-2.1-or-later
#include "login_finish.hpp"

#include "jws.hpp"

#include <utility>
#include <variant>

namespace psc {

Result<TokenResponse> token_from_response(const HttpResponse& response, int json_max_depth) {
    auto parsed = parse_token_response(static_cast<int>(response.status), response.body,
                                       /*require_id_token=*/true, json_max_depth);
    if (!parsed)
        return std::move(parsed).error();
    if (auto* e = std::get_if<OAuthError>(&*parsed))
        return oauth_error_to_error(*e);
    return std::get<TokenResponse>(std::move(*parsed));
}

Result<IdTokenPolicy> id_token_policy(const Config& cfg, const ProviderMetadata& md,
                                      std::optional<std::string> nonce,
                                      const Secret* client_secret) {
    const ProviderConfig& p = cfg.provider;
    IdTokenPolicy pol;
    pol.issuer = md.issuer; // equal to the configured issuer byte for byte (parse_discovery)
    pol.client_id = p.client_id;
    pol.trusted_audiences = p.trusted_audiences;
    pol.nonce = std::move(nonce);
    pol.acr_accept = p.acr_accept;
    pol.acr_any_value = p.acr_accept.empty();
    pol.acr_missing_accept = p.acr_missing == AcrMissing::accept;
    pol.clock_skew = p.clock_skew;
    pol.max_token_age = p.max_token_age;
    pol.max_age = p.max_age;
    pol.jws.allowed_algs.clear();
    pol.jws.max_bytes = cfg.limits.jwt_max_bytes;
    pol.json_max_depth = cfg.limits.json_max_depth;
    for (const auto& name : p.id_token_algs) {
        auto alg = jws_alg_from_name(name);
        if (!alg)
            return make_error(Errc::config, "id_token_algs", "unknown algorithm " + name);
        pol.jws.allowed_algs.push_back(*alg);
        // HS* ties the ID token to the client secret (OIDC Core §10.1): only when configured.
        if (jws_alg_is_hmac(*alg))
            pol.jws.hmac_secret = client_secret;
    }
    return pol;
}

namespace {

Result<std::optional<std::string>> claim_in_token(const IdToken& token, const std::string& claim) {
    auto v = json_get_string(token.claims.get(), claim.c_str());
    if (!v)
        return make_error(Errc::invalid, "claim_type",
                          "ID token claim " + claim + " is not a string");
    if (!v->has_value())
        return std::optional<std::string>{};
    return std::optional<std::string>(std::string(**v));
}

Status add_userinfo(const MappingConfig& cfg, const UserInfo& ui, PscIdentity& who) {
    if (!cfg.alias_claim.empty()) {
        auto aliases = userinfo_other_ids(ui);
        if (!aliases)
            return std::move(aliases).error();
        who.aliases = std::move(*aliases);
    }
    auto ex = userinfo_exercices(ui);
    if (!ex)
        return std::move(ex).error();
    for (auto& e : *ex)
        who.exercices.push_back({std::move(e.profession), std::move(e.category)});
    auto mode = userinfo_auth_mode(ui);
    if (!mode)
        return std::move(mode).error();
    who.auth_mode = mode->value_or("");
    return {};
}

} // namespace

Result<PscIdentity> identity_from(const MappingConfig& cfg, const IdToken& token,
                                  const UserInfo* userinfo) {
    PscIdentity who;
    auto id = cfg.identity_claim == "sub" ? Result<std::optional<std::string>>(token.sub)
                                          : claim_in_token(token, cfg.identity_claim);
    if (!id)
        return std::move(id).error();
    if (!id->has_value() && userinfo) {
        auto from_ui = userinfo_idnat(*userinfo, cfg.identity_claim);
        if (!from_ui)
            return std::move(from_ui).error();
        *id = std::move(*from_ui);
    }
    if (!id->has_value() || (*id)->empty())
        return make_error(Errc::invalid, "identity_missing",
                          "neither the ID token nor UserInfo carries " + cfg.identity_claim);
    who.idnat = std::move(**id);
    if (userinfo)
        PSC_TRY(add_userinfo(cfg, *userinfo, who));
    return who;
}

Result<const UserMap*> MapFileCache::get(const std::string& path) {
    FileRules rules;
    rules.required_owner = static_cast<long>(trusted_owner_);
    rules.refuse_group_world_writable = true;
    auto f = read_file_checked(path, rules);
    if (!f) {
        map_.reset();
        auto e = std::move(f).error();
        return make_error(Errc::unavailable, "map_unusable", path + ": " + e.describe());
    }
    const bool same = map_ && f->dev == dev_ && f->ino == ino_ &&
                      f->mtime.tv_sec == mtime_.tv_sec && f->mtime.tv_nsec == mtime_.tv_nsec;
    if (same)
        return &*map_;
    auto parsed = UserMap::parse(f->content, path);
    if (!parsed) {
        map_.reset();
        return make_error(Errc::unavailable, "map_unusable", parsed.error().message);
    }
    map_ = std::move(*parsed);
    dev_ = f->dev;
    ino_ = f->ino;
    mtime_ = f->mtime;
    return &*map_;
}

Result<LoginSuccess> decide_login(const Config& cfg, const LoginRequest& request,
                                  const PscIdentity& identity, MapFileCache& maps,
                                  const UserDb& users) {
    const AuthzRules authz = cfg.policy_for(request.service).authz;
    MappingPolicy mp;
    mp.username_template = cfg.mapping.username_template;
    mp.min_uid = cfg.mapping.min_uid;
    mp.allow_system_users = cfg.mapping.allow_system_users;
    mp.allow_professions = authz.allow_professions;
    for (char c : authz.deny_categories)
        mp.deny_categories.emplace_back(1, c);
    mp.allow_idnat = authz.allow_idnat;
    if (authz.require_auth_mode)
        mp.require_auth_mode = std::string(to_string(*authz.require_auth_mode));
    const UserMap* map = nullptr;
    if (mp.username_template.empty()) {
        auto m = maps.get(cfg.mapping.map_file);
        if (!m)
            return std::move(m).error();
        map = *m;
    }
    auto d = decide(identity, request.user, map, mp, users);
    if (!d)
        return std::move(d).error();
    if (d->user.name != request.user) // decide() guarantees it; a second lock costs nothing
        return make_error(Errc::denied, "mapping_other_user", "identity maps to another account");
    return LoginSuccess{d->user.name, d->idnat, d->profession, identity.auth_mode};
}

} // namespace psc

namespace psc {

LoginFinisher::LoginFinisher(const FlowContext& ctx, std::uint64_t waiter, LoginRequest request)
    : ctx_(ctx), waiter_(waiter), request_(std::move(request)) {}

LoginFinisher::~LoginFinisher() {
    ctx_.provider->forget_waiter(waiter_);
}

void LoginFinisher::run(TokenResponse tokens, std::optional<std::string> nonce, Done done) {
    tokens_ = std::move(tokens);
    nonce_ = std::move(nonce);
    done_ = std::move(done);
    validate(false);
}

void LoginFinisher::finish(Result<LoginSuccess> r) {
    if (!done_)
        return;
    auto done = std::exchange(done_, nullptr);
    done(std::move(r));
}

void LoginFinisher::validate(bool after_refetch) {
    auto pol = id_token_policy(*ctx_.cfg, ctx_.provider->metadata(), nonce_, ctx_.client_secret);
    if (!pol)
        return finish(std::move(pol).error());
    auto tok = validate_id_token(tokens_.id_token.view(), ctx_.provider->jwks().keys(), *pol,
                                 static_cast<std::int64_t>(std::time(nullptr)));
    if (!tok && tok.error().reason == "jws_unknown_kid" && !after_refetch) {
        // Key rotation (SPEC §3): one rate-limited refetch, then the token is checked again. A
        // failed fetch is Unavailable: an outage never turns into acceptance.
        const bool started = ctx_.provider->refetch_keys(waiter_, [this](Status st) {
            if (!st)
                return finish(std::move(st).error());
            validate(true);
        });
        if (started)
            return;
    }
    if (!tok)
        return finish(std::move(tok).error());
    id_token_ = std::move(*tok);
    if (ctx_.cfg->provider.userinfo)
        return fetch_userinfo();
    conclude(nullptr);
}

void LoginFinisher::fetch_userinfo() {
    const bool mtls = ctx_.cfg->provider.token_auth_method == TokenAuthMethod::tls_client_auth;
    auto url = endpoint_for(ctx_.provider->metadata(), "userinfo_endpoint", mtls);
    if (!url || url->empty())
        return finish(make_error(Errc::unavailable, "userinfo_no_endpoint",
                                 "userinfo = yes but the provider has no userinfo_endpoint"));
    HttpRequest req;
    req.url = *url;
    req.client_cert = mtls; // RFC 8705 §3: certificate-bound access tokens
    req.headers.push_back("Authorization: Bearer " + std::string(tokens_.access_token.view()));
    auto id = ctx_.http->start(std::move(req),
                               [this](Result<HttpResponse> r) { on_userinfo(std::move(r)); });
    if (!id)
        return finish(std::move(id).error());
    userinfo_request_ = ScopedHttpRequest(*ctx_.http, *id);
}

void LoginFinisher::on_userinfo(Result<HttpResponse> resp) {
    if (!resp)
        return finish(std::move(resp).error());
    UserInfoCheck check;
    check.expected_sub = id_token_->sub;
    check.issuer = ctx_.provider->metadata().issuer;
    check.client_id = ctx_.cfg->provider.client_id;
    check.keys = &ctx_.provider->jwks().keys();
    check.max_bytes = ctx_.cfg->limits.http_max_bytes;
    check.json_max_depth = ctx_.cfg->limits.json_max_depth;
    auto ui = parse_userinfo(*resp, check);
    if (!ui)
        return finish(std::move(ui).error());
    conclude(&*ui);
}

void LoginFinisher::conclude(const UserInfo* userinfo) {
    auto who = identity_from(ctx_.cfg->mapping, *id_token_, userinfo);
    if (!who)
        return finish(std::move(who).error());
    finish(decide_login(*ctx_.cfg, request_, *who, *ctx_.maps, *ctx_.users));
}

} // namespace psc

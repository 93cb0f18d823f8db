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
    if (claim == "sub")
        return std::optional<std::string>(token.sub);
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
        auto aliases = userinfo_other_ids(ui, cfg.alias_claim);
        if (!aliases)
            return std::move(aliases).error();
        for (auto& a : *aliases)
            who.aliases.push_back(OtherId{std::move(a.id), std::move(a.origin)});
    }
    auto ex = userinfo_exercices(ui);
    if (!ex)
        return std::move(ex).error();
    if (*ex) {
        who.exercices.emplace();
        for (auto& e : **ex)
            who.exercices->push_back({std::move(e.profession), std::move(e.category)});
    }
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
    auto id = claim_in_token(token, cfg.identity_claim);
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

std::optional<Result<ManagedAccount>>
AccountResolver::resolve(const std::string& user, Done later, std::uint64_t* lookup) const {
    const AccountRules rules = account_rules(cfg_);
    AccountFacts facts;
    if (valid_local_username(user)) {
        auto local = users_.lookup(user);
        if (!local)
            return std::move(local).error();
        facts.local = std::move(*local);
    }
    // Root, system and missing accounts are answered without reading the mapping: a broken map
    // must never stand between root and its password.
    if (auto st = account_eligible(user, facts, rules); !st)
        return std::move(st).error();
    switch (cfg_.mapping.source) {
    case MappingSource::template_:
        facts.source = "template";
        facts.idnat = mapped_idnat(nullptr, cfg_.mapping.username_template, user);
        break;
    case MappingSource::file: {
        auto map = maps_.get(cfg_.mapping.map_file);
        if (!map)
            return Result<ManagedAccount>(std::move(map).error());
        facts.source = "map";
        facts.idnat = mapped_idnat(*map, {}, user);
        break;
    }
    case MappingSource::ldap:
    case MappingSource::sssd: {
        if (directory_ == nullptr)
            return Result<ManagedAccount>(
                make_error(Errc::internal, "directory_missing", "no directory lookups"));
        facts.source = std::string(to_string(cfg_.mapping.source));
        auto id = directory_->account_idnat(
            user, [user, facts, rules, later = std::move(later)](
                      Result<DirectoryMapping> m) mutable {
                if (!m)
                    return later(std::move(m).error());
                facts.idnat = std::move(m->idnat);
                later(managed_account(user, facts, rules));
            });
        if (!id)
            return Result<ManagedAccount>(std::move(id).error());
        *lookup = *id;
        return std::nullopt;
    }
    }
    return managed_account(user, facts, rules);
}

void AccountResolver::cancel(std::uint64_t lookup) const noexcept {
    if (directory_ != nullptr && lookup != 0)
        directory_->cancel(lookup);
}

LoginOutcome decide_login(const Config& cfg, const LoginSubject& subject,
                          const PscIdentity& identity) {
    auto d = decide(identity, subject.account, decision_rules(cfg, subject.request.service));
    LoginOutcome out = d ? LoginOutcome(LoginSuccess{d->user, d->idnat, d->alias, d->profession,
                                                     d->auth_mode, nullptr, {}, {}, {}})
                         : LoginOutcome(std::move(d).error());
    out.idnat = identity.idnat;
    if (out.result)
        out.alias = out.result->alias;
    return out;
}

} // namespace psc

namespace psc {

LoginFinisher::LoginFinisher(const FlowContext& ctx, std::uint64_t waiter, LoginSubject subject)
    : ctx_(ctx), waiter_(waiter), subject_(std::move(subject)) {}

LoginFinisher::~LoginFinisher() {
    ctx_.provider->forget_waiter(waiter_);
}

void LoginFinisher::run(TokenResponse tokens, std::optional<std::string> nonce, Done done,
                        Secret code) {
    tokens_ = std::move(tokens);
    code_ = std::move(code);
    nonce_ = std::move(nonce);
    done_ = std::move(done);
    validate(false);
}

void LoginFinisher::finish(LoginOutcome r) {
    if (!done_)
        return;
    // After a validated ID token every outcome names the person, refusals included.
    if (r.idnat.empty() && id_token_) {
        if (auto id = claim_in_token(*id_token_, ctx_.cfg->mapping.identity_claim); id && *id)
            r.idnat = **id;
    }
    auto done = std::exchange(done_, nullptr);
    done(std::move(r));
}

void LoginFinisher::validate(bool after_refetch) {
    auto pol = id_token_policy(*ctx_.cfg, ctx_.provider->metadata(), nonce_, ctx_.client_secret);
    if (!pol)
        return finish(std::move(pol).error());
    pol->jws.decryption = ctx_.decryption;
    pol->access_token = tokens_.access_token.view();
    pol->code = code_.view();
    auto tok = validate_id_token(tokens_.id_token.view(), ctx_.provider->jwks().keys(), *pol,
                                 static_cast<std::int64_t>(std::time(nullptr)));
    if (!tok && tok.error().reason == "jws_unknown_kid" && !after_refetch) {
        // Key rotation (design §3): one rate-limited refetch, then the token is checked again. A
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
        return finish(make_error(Errc::config, "userinfo_no_endpoint",
                                 "userinfo = yes but the provider has no userinfo_endpoint; "
                                 "set userinfo = no if it has none"));
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
    check.policy.decryption = ctx_.decryption;
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
    LoginOutcome outcome(decide_login(*ctx_.cfg, subject_, *who));
    if (outcome.result) {
        // id_token_hint carries the signed token, never the encrypted one (RP-Initiated Logout
        // §2): the provider may not be able to decrypt what it encrypted to us.
        outcome.result->id_token = std::make_shared<const Secret>(
            id_token_->signed_token ? Secret(*id_token_->signed_token)
                                    : tokens_.id_token.clone());
        if (auto sid = claim_in_token(*id_token_, "sid"); sid && *sid)
            outcome.result->sid = **sid;
        outcome.result->sub = id_token_->sub;
    }
    finish(std::move(outcome));
}

} // namespace psc

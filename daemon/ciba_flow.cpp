// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ciba_flow.hpp"

#include "code_flow.hpp"

#include <algorithm>
#include <utility>
#include <variant>

namespace psc {

bool provider_offers_ciba(const ProviderMetadata& md) noexcept {
    if (md.backchannel_authentication_endpoint.empty())
        return false;
    const auto& modes = md.backchannel_token_delivery_modes_supported;
    return modes.empty() || std::find(modes.begin(), modes.end(), "poll") != modes.end();
}

CibaLogin::CibaLogin(const FlowContext& ctx, std::uint64_t id, LoginSubject subject, Done done)
    : ctx_(ctx), done_(std::move(done)), login_hint_(subject.account.idnat),
      poller_(ctx.event, *ctx.http), finisher_(ctx, id, std::move(subject)) {}

Result<std::unique_ptr<CibaLogin>> CibaLogin::create(const FlowContext& ctx, std::uint64_t id,
                                                     LoginSubject subject, CibaChannel channel,
                                                     Started started, Done done) {
    if (!provider_offers_ciba(ctx.provider->metadata()))
        return make_error(Errc::invalid, "flow_unsupported",
                          "the provider offers no CIBA in poll mode "
                          "(backchannel_authentication_endpoint)");
    auto binding = make_binding_message();
    if (!binding)
        return std::move(binding).error();
    std::unique_ptr<CibaLogin> login(new CibaLogin(ctx, id, std::move(subject), std::move(done)));
    login->binding_ = std::move(*binding);
    login->started_ = std::move(started);
    PSC_TRY(login->send(channel));
    return login;
}

Status CibaLogin::send(CibaChannel channel) {
    const Config& cfg = *ctx_.cfg;
    auto call = provider_call(ctx_, "backchannel_authentication_endpoint");
    if (!call)
        return std::move(call).error();
    CibaAuthParams params;
    params.scope = space_joined(cfg.provider.scopes);
    params.acr_values = space_joined(cfg.provider.acr_values);
    params.login_hint = login_hint_;
    params.binding_message = binding_;
    // PSC's own parameter; other providers ignore unknown parameters (RFC 6749 §3.1).
    params.channel = std::string(to_string(channel));
    auto form =
        build_ciba_auth_request(call->auth, call->endpoint, params, std::chrono::system_clock::now());
    if (!form)
        return std::move(form).error();
    auto id = ctx_.http->start(to_http_request(*form),
                               [this](Result<HttpResponse> r) { on_auth(std::move(r)); });
    if (!id)
        return std::move(id).error();
    auth_request_ = ScopedHttpRequest(*ctx_.http, *id);
    return {};
}

void CibaLogin::on_auth(Result<HttpResponse> resp) {
    if (!resp)
        return finish(std::move(resp).error());
    auto parsed = parse_ciba_auth_response(static_cast<int>(resp->status), resp->body,
                                           ctx_.cfg->limits.json_max_depth);
    if (!parsed)
        return finish(std::move(parsed).error());
    if (const auto* e = std::get_if<OAuthError>(&*parsed))
        return finish(oauth_error_to_error(*e)); // unknown_user_id, invalid_request, ...
    auto& started = std::get<CibaAuthResponse>(*parsed);
    auth_req_id_ = std::move(started.auth_req_id);
    PollOptions opts;
    opts.interval = started.interval;
    opts.expires_in = started.expires_in;
    opts.expired_reason = "ciba_expired";
    opts.json_max_depth = ctx_.cfg->limits.json_max_depth;
    const auto expires_in = started.expires_in;
    auto st = poller_.start(
        std::move(opts), [this] { return poll_request(); },
        [this](Result<TokenResponse> t) { on_tokens(std::move(t)); });
    if (!st)
        return finish(std::move(st).error());
    if (started_)
        std::exchange(started_, nullptr)(expires_in);
}

Result<HttpFormRequest> CibaLogin::poll_request() const {
    auto call = provider_call(ctx_, "token_endpoint");
    if (!call)
        return std::move(call).error();
    return build_ciba_token_request(call->auth, call->endpoint, auth_req_id_.view(),
                                    std::chrono::system_clock::now());
}

void CibaLogin::on_tokens(Result<TokenResponse> tokens) {
    if (!tokens)
        return finish(std::move(tokens).error());
    // CIBA sends no nonce (CIBA Core §7.1 has none), so the ID token carries none to check.
    finisher_.run(std::move(*tokens), std::nullopt,
                  [this](LoginOutcome r) { on_finished(std::move(r)); });
}

void CibaLogin::on_finished(LoginOutcome r) {
    // The binding check (CIBA Core §7.1): the person the provider authenticated is the one whose
    // idNat was the login_hint — by their own idNat, or by the former one the hint still names.
    // decide() already compared them with the account's idNat; a second lock costs nothing.
    if (r.result && r.result->idnat != login_hint_ && r.result->alias != login_hint_) {
        LoginOutcome refused(make_error(Errc::denied, "ciba_identity_mismatch",
                                        "the provider authenticated another professional than "
                                        "the one asked for"));
        refused.idnat = r.idnat;
        return finish(std::move(refused));
    }
    finish(std::move(r));
}

void CibaLogin::finish(LoginOutcome r) {
    if (!done_)
        return;
    auto done = std::exchange(done_, nullptr);
    done(std::move(r));
}

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "device_flow.hpp"

#include "code_flow.hpp"

#include <utility>
#include <variant>

namespace psc {

bool provider_offers_device(const ProviderMetadata& md) noexcept {
    return !md.device_authorization_endpoint.empty();
}

Status check_device_tokens(const TokenResponse& tokens) {
    if (tokens.id_token.empty())
        return make_error(Errc::invalid, "device_no_id_token",
                          "the provider answered the device grant without an ID token: "
                          "nothing identifies the user (is \"openid\" in scopes?)");
    return {};
}

DeviceLogin::DeviceLogin(const FlowContext& ctx, std::uint64_t id, LoginSubject subject, Done done)
    : ctx_(ctx), done_(std::move(done)), poller_(ctx.event, *ctx.http),
      finisher_(ctx, id, std::move(subject)) {}

Result<std::unique_ptr<DeviceLogin>> DeviceLogin::create(const FlowContext& ctx,
                                                         std::uint64_t id, LoginSubject subject,
                                                         Started started, Done done) {
    if (!provider_offers_device(ctx.provider->metadata()))
        return make_error(Errc::invalid, "flow_unsupported",
                          "the provider offers no device authorization grant "
                          "(device_authorization_endpoint)");
    std::unique_ptr<DeviceLogin> login(
        new DeviceLogin(ctx, id, std::move(subject), std::move(done)));
    login->started_ = std::move(started);
    PSC_TRY(login->authorize());
    return login;
}

Status DeviceLogin::authorize() {
    const Config& cfg = *ctx_.cfg;
    auto call = provider_call(ctx_, "device_authorization_endpoint");
    if (!call)
        return std::move(call).error();
    auto form = build_device_authorization_request(call->auth, call->endpoint,
                                                   space_joined(cfg.provider.scopes),
                                                   std::chrono::system_clock::now());
    if (!form)
        return std::move(form).error();
    auto id = ctx_.http->start(to_http_request(*form),
                               [this](Result<HttpResponse> r) { on_authorized(std::move(r)); });
    if (!id)
        return std::move(id).error();
    auth_request_ = ScopedHttpRequest(*ctx_.http, *id);
    return {};
}

void DeviceLogin::on_authorized(Result<HttpResponse> resp) {
    if (!resp)
        return finish(std::move(resp).error());
    auto parsed = parse_device_auth_response(static_cast<int>(resp->status), resp->body,
                                             ctx_.cfg->limits.json_max_depth);
    if (!parsed)
        return finish(std::move(parsed).error());
    if (const auto* e = std::get_if<OAuthError>(&*parsed))
        return finish(oauth_error_to_error(*e)); // unauthorized_client: the grant is off here
    auto& started = std::get<DeviceAuthResponse>(*parsed);
    device_code_ = std::move(started.device_code);
    user_code_ = std::move(started.user_code);
    uri_ = std::move(started.verification_uri);
    uri_complete_ = started.verification_uri_complete.value_or("");
    expires_in_ = started.expires_in;
    PollOptions opts;
    opts.interval = started.interval;
    opts.expires_in = started.expires_in;
    opts.expired_reason = "device_expired";
    opts.json_max_depth = ctx_.cfg->limits.json_max_depth;
    opts.require_id_token = false; // checked below, with a reason of its own
    auto st = poller_.start(
        std::move(opts), [this] { return poll_request(); },
        [this](Result<TokenResponse> t) { on_tokens(std::move(t)); });
    if (!st)
        return finish(std::move(st).error());
    if (started_)
        std::exchange(started_, nullptr)();
}

Result<HttpFormRequest> DeviceLogin::poll_request() const {
    auto call = provider_call(ctx_, "token_endpoint");
    if (!call)
        return std::move(call).error();
    return build_device_token_request(call->auth, call->endpoint, device_code_.view(),
                                      std::chrono::system_clock::now());
}

void DeviceLogin::on_tokens(Result<TokenResponse> tokens) {
    if (!tokens)
        return finish(std::move(tokens).error());
    if (auto st = check_device_tokens(*tokens); !st)
        return finish(std::move(st).error());
    // RFC 8628 has no nonce; the ID token is validated like any other (issuer, audience, times,
    // signature, acr) and the identity must map to the requested account.
    finisher_.run(std::move(*tokens), std::nullopt,
                  [this](LoginOutcome r) { finish(std::move(r)); });
}

void DeviceLogin::finish(LoginOutcome r) {
    if (!done_)
        return;
    auto done = std::exchange(done_, nullptr);
    done(std::move(r));
}

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "code_flow.hpp"

#include "random.hpp"
#include "strutil.hpp"

#include <chrono>
#include <utility>

namespace psc {

std::string space_joined(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& s : words)
        out += (out.empty() ? "" : " ") + s;
    return out;
}

bool uses_mtls(const Config& cfg) noexcept {
    return cfg.provider.token_auth_method == TokenAuthMethod::tls_client_auth;
}

Result<ProviderCall> provider_call(const FlowContext& ctx, std::string_view endpoint_name) {
    auto auth = client_auth_for(*ctx.cfg, ctx.client_secret, ctx.signing_key);
    if (!auth)
        return std::move(auth).error();
    auto endpoint = endpoint_for(ctx.provider->metadata(), endpoint_name, uses_mtls(*ctx.cfg));
    if (!endpoint)
        return std::move(endpoint).error();
    return ProviderCall{std::move(*auth), std::move(*endpoint)};
}

Result<ClientAuth> client_auth_for(const Config& cfg, const Secret* client_secret,
                                   const JwsSigningKey* signing_key) {
    ClientAuth auth;
    auth.client_id = cfg.provider.client_id;
    auth.assertion_audience = cfg.provider.issuer;
    switch (cfg.provider.token_auth_method) {
    case TokenAuthMethod::client_secret_basic:
    case TokenAuthMethod::client_secret_post:
        if (!client_secret || client_secret->empty())
            return make_error(Errc::config, "client_secret_missing",
                              "client_secret_file is needed for this token_auth_method");
        auth.method = cfg.provider.token_auth_method == TokenAuthMethod::client_secret_basic
                          ? ClientAuthMethod::client_secret_basic
                          : ClientAuthMethod::client_secret_post;
        auth.client_secret = client_secret;
        return auth;
    case TokenAuthMethod::tls_client_auth:
        auth.method = ClientAuthMethod::tls_client_auth;
        return auth;
    case TokenAuthMethod::private_key_jwt:
        if (!signing_key)
            return make_error(Errc::config, "client_signing_key_missing",
                              "client_assertion_key is needed for private_key_jwt");
        auth.method = ClientAuthMethod::private_key_jwt;
        auth.signing_key = signing_key;
        return auth;
    }
    return make_error(Errc::internal, "client_auth_method", "unknown token_auth_method");
}

CodeLogin::CodeLogin(const FlowContext& ctx, std::uint64_t id, LoginSubject subject,
                     std::string redirect_uri, Done done)
    : ctx_(ctx), redirect_uri_(std::move(redirect_uri)), done_(std::move(done)),
      finisher_(ctx, id, std::move(subject)) {}

Result<std::string> make_confirm_code() {
    static constexpr std::string_view kAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    std::string code;
    for (int i = 0; i < 6; ++i) {
        auto k = random_below(static_cast<unsigned>(kAlphabet.size()));
        if (!k)
            return std::move(k).error();
        code += kAlphabet[*k];
    }
    return code;
}

namespace {

// What the person typed, as compared: case and the separators people add are ignored.
std::string normalise_code(std::string_view typed) {
    std::string out;
    for (char c : typed) {
        if (c == '-' || c == ' ' || c == '\t')
            continue;
        out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    }
    return out;
}

} // namespace

Result<std::unique_ptr<CodeLogin>> CodeLogin::create(const FlowContext& ctx, std::uint64_t id,
                                                     LoginSubject subject,
                                                     std::string redirect_uri,
                                                     bool confirm_callbacks, Done done) {
    const ProviderConfig& p = ctx.cfg->provider;
    AuthRequestParams params;
    params.authorization_endpoint = ctx.provider->metadata().authorization_endpoint;
    params.client_id = p.client_id;
    params.redirect_uri = redirect_uri;
    params.scope = space_joined(p.scopes);
    params.acr_values = space_joined(p.acr_values);
    if (p.max_age)
        params.max_age = p.max_age->count();
    params.extra = p.extra_auth_params;
    auto auth = make_auth_request(params);
    if (!auth)
        return std::move(auth).error();
    std::unique_ptr<CodeLogin> login(
        new CodeLogin(ctx, id, std::move(subject), std::move(redirect_uri), std::move(done)));
    login->auth_ = std::move(*auth);
    login->confirm_callbacks_ = confirm_callbacks;
    return login;
}

Status CodeLogin::check(const CallbackResponse& resp) const {
    const ProviderMetadata& md = ctx_.provider->metadata();
    return check_callback(resp, {auth_.state, redirect_uri_, ctx_.cfg->provider.issuer,
                                 md.authorization_response_iss_parameter_supported});
}

CallbackReply CodeLogin::on_callback(CallbackResponse resp) {
    if (redeeming_ || !done_)
        return {CallbackReply::Page::failure, "this login already received its answer"};
    auto st = check(resp);
    if (!st) {
        CallbackReply reply{CallbackReply::Page::failure, st.error().message};
        finish(std::move(st).error());
        return reply;
    }
    if (confirm_callbacks_) {
        auto code = make_confirm_code();
        if (!code) {
            finish(std::move(code).error());
            return {CallbackReply::Page::failure, "internal error"};
        }
        confirm_code_ = Secret(*code);
        confirm_pending_ = true;
        // The exchange goes ahead (codes and access tokens are short-lived); its outcome is held
        // until the code comes back from the prompt.
        redeem(resp);
        return {CallbackReply::Page::confirm, code->substr(0, 3) + "-" + code->substr(3)};
    }
    // The browser waits (a few seconds, bounded by the listener) for the outcome, so the page can
    // say "signed in" or why not, not just "received".
    page_ = std::make_shared<DeferredPage>();
    CallbackReply waiting(CallbackReply::Page::wait);
    waiting.deferred = page_;
    redeem(resp);
    return waiting;
}

namespace {

// The page the browser waits for, from the login's outcome.
CallbackReply outcome_page(const LoginOutcome& r) {
    if (r.result)
        return {CallbackReply::Page::signed_in, r.result->user};
    const Error& e = r.result.error();
    if (e.code == Errc::denied)
        return {CallbackReply::Page::refused, refusal_words(e.reason)};
    return {CallbackReply::Page::failure, e.reason};
}

} // namespace

CodeLogin::~CodeLogin() {
    if (page_)
        page_->complete({CallbackReply::Page::failure, "cancelled"});
}

Status CodeLogin::confirm(std::string_view typed) {
    if (confirm_code_.equals(normalise_code(typed))) {
        confirm_pending_ = false;
        if (held_) {
            LoginOutcome r = std::move(*held_);
            held_.reset();
            finish(std::move(r));
        }
        return {};
    }
    if (++confirm_attempts_ >= kConfirmAttempts) {
        confirm_pending_ = false;
        LoginOutcome refused(make_error(Errc::denied, "confirm_code_mismatch",
                                        "the confirmation code was typed wrong " +
                                            std::to_string(kConfirmAttempts) +
                                            " times: was the browser someone else's?"));
        // The audit names whose browser completed the login, when the exchange told us.
        if (held_)
            refused.idnat = held_->idnat;
        held_.reset();
        finish(std::move(refused));
        return {};
    }
    return make_error(Errc::invalid, "confirm_code_wrong",
                      "not the code the browser showed; " +
                          std::to_string(kConfirmAttempts - confirm_attempts_) +
                          " attempt(s) left");
}

Status CodeLogin::on_paste(std::string_view address) {
    if (confirm_pending_ && done_)
        return confirm(address);
    if (redeeming_ || !done_)
        return make_error(Errc::invalid, "callback_already_used",
                          "this login already received its answer");
    auto resp = parse_pasted_callback(address, {.max_bytes = ctx_.cfg->limits.callback_max_request});
    if (!resp)
        return std::move(resp).error();
    auto st = check(*resp);
    if (!st) {
        // Someone else's address (or a typo) must not end this login; the user may paste again.
        if (st.error().reason == "callback_redirect_mismatch" ||
            st.error().reason == "callback_state_mismatch")
            return st;
        finish(std::move(st).error());
        return {};
    }
    redeem(*resp);
    return {};
}

void CodeLogin::redeem(const CallbackResponse& resp) {
    redeeming_ = true;
    code_ = resp.code.clone();
    auto call = provider_call(ctx_, "token_endpoint");
    if (!call)
        return finish(std::move(call).error());
    auto form = build_code_token_request(call->auth, call->endpoint, resp.code.view(), redirect_uri_,
                                         auth_.pkce.verifier.view(),
                                         std::chrono::system_clock::now());
    if (!form)
        return finish(std::move(form).error());
    auto id = ctx_.http->start(to_http_request(*form),
                               [this](Result<HttpResponse> r) { on_token(std::move(r)); });
    if (!id)
        return finish(std::move(id).error());
    token_request_ = ScopedHttpRequest(*ctx_.http, *id);
}

void CodeLogin::on_token(Result<HttpResponse> resp) {
    if (!resp)
        return finish(std::move(resp).error());
    auto tokens = token_from_response(*resp, ctx_.cfg->limits.json_max_depth);
    if (!tokens)
        return finish(std::move(tokens).error());
    finisher_.run(std::move(*tokens), auth_.nonce,
                  [this](LoginOutcome r) { finish(std::move(r)); }, std::move(code_));
}

void CodeLogin::finish(LoginOutcome r) {
    if (!done_)
        return;
    if (confirm_pending_ && r.result) {
        held_ = std::move(r); // a success counts only once the code is confirmed
        return;
    }
    if (page_)
        std::exchange(page_, nullptr)->complete(outcome_page(r));
    auto done = std::exchange(done_, nullptr);
    done(std::move(r));
}

} // namespace psc

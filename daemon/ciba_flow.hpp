// SPDX-License-Identifier: LGPL-2.1-or-later
// One pending CIBA login in poll mode (design §2.3, docs/pro-sante-connect.md, "CIBA", OpenID CIBA
// Core 1.0): the backchannel authentication request for the requested user's idNat (login_hint)
// with two random digits as binding_message and PSC's `channel`, then token polls
// (token_poller.hpp), then LoginFinisher without a nonce. The identity that comes back must be the
// one asked for. A CibaLogin ends through its done callback exactly once, or is destroyed first
// (its timer and HTTP exchanges are cancelled).
#pragma once

#include "login_finish.hpp"
#include "token_poller.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace psc {

// Whether the provider can run CIBA for us: a backchannel_authentication_endpoint, and "poll"
// among the delivery modes when it lists any (CIBA Core §4).
[[nodiscard]] bool provider_offers_ciba(const ProviderMetadata& md) noexcept;

class CibaLogin {
public:
    using Done = LoginFinisher::Done;
    // The provider accepted the request: the push is out, and it expires in this long.
    using Started = std::function<void(std::chrono::seconds expires_in)>;
    // login_hint is the managed account's idNat (resolved before anything is sent, design §2.3);
    // starts the backchannel request; its answer and everything after arrive through done.
    // Reasons: flow_unsupported
    // (no CIBA at this provider), make_binding_message's, client_auth_for's, endpoint_for's,
    // build_ciba_auth_request's, HttpClient::start's.
    // Through done: parse_ciba_auth_response's and the OAuth error (unknown_user_id, ...),
    // TokenPoller's (access_denied, expired_token, ciba_expired, http_status, ...),
    // LoginFinisher's, ciba_identity_mismatch (denied).
    [[nodiscard]] static Result<std::unique_ptr<CibaLogin>> create(const FlowContext& ctx,
                                                                   std::uint64_t id,
                                                                   LoginSubject subject,
                                                                   CibaChannel channel,
                                                                   Started started, Done done);
    CibaLogin(const CibaLogin&) = delete;
    CibaLogin& operator=(const CibaLogin&) = delete;

    [[nodiscard]] const std::string& binding_code() const noexcept { return binding_; }
    [[nodiscard]] const std::string& login_hint() const noexcept { return login_hint_; }
    [[nodiscard]] std::chrono::seconds interval() const noexcept { return poller_.interval(); }

private:
    CibaLogin(const FlowContext& ctx, std::uint64_t id, LoginSubject subject, Done done);
    [[nodiscard]] Status send(CibaChannel channel);
    void on_auth(Result<HttpResponse> resp);
    [[nodiscard]] Result<HttpFormRequest> poll_request() const;
    void on_tokens(Result<TokenResponse> tokens);
    void on_finished(LoginOutcome r);
    void finish(LoginOutcome r);

    FlowContext ctx_;
    Done done_;
    Started started_;
    std::string login_hint_;
    std::string binding_;
    Secret auth_req_id_;
    ScopedHttpRequest auth_request_;
    TokenPoller poller_;
    LoginFinisher finisher_;
};

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// One pending device authorization grant (design §2.4, RFC 8628) for generic providers (PSC is not
// known to enable it, so the PSC profiles refuse it): the device authorization request, the
// verification URI and user code to show, token polls (token_poller.hpp), then LoginFinisher
// without a nonce. A DeviceLogin ends through its done callback exactly once, or is destroyed
// first (its timer and HTTP exchange are cancelled).
#pragma once

#include "login_finish.hpp"
#include "token_poller.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace psc {

// Whether the provider publishes a device_authorization_endpoint (RFC 8628 §4).
[[nodiscard]] bool provider_offers_device(const ProviderMetadata& md) noexcept;

// The device grant's token answer: without an ID token nothing identifies the user (no validated
// `sub` to bind UserInfo to), so it fails closed. Reason: device_no_id_token (invalid).
[[nodiscard]] Status check_device_tokens(const TokenResponse& tokens);

class DeviceLogin {
public:
    using Done = LoginFinisher::Done;
    // The provider answered the device authorization request: user_code() and the verification
    // URIs are known.
    using Started = std::function<void()>;
    // Sends the device authorization request from the event loop (nothing waits for it); its
    // answer calls `started`, then the polls begin. Reasons at once: flow_unsupported (no
    // device_authorization_endpoint), client_auth_for's, endpoint_for's,
    // build_device_authorization_request's, HttpClient::start's. Through done: the request's
    // transport errors, parse_device_auth_response's and the OAuth error (unauthorized_client,
    // ...), TokenPoller's (access_denied, expired_token, device_expired, ...),
    // device_no_id_token, LoginFinisher's.
    [[nodiscard]] static Result<std::unique_ptr<DeviceLogin>>
    create(const FlowContext& ctx, std::uint64_t id, LoginSubject subject, Started started,
           Done done);
    DeviceLogin(const DeviceLogin&) = delete;
    DeviceLogin& operator=(const DeviceLogin&) = delete;

    [[nodiscard]] const std::string& user_code() const noexcept { return user_code_; }
    [[nodiscard]] const std::string& verification_uri() const noexcept { return uri_; }
    // "" when the provider sent no verification_uri_complete.
    [[nodiscard]] const std::string& verification_uri_complete() const noexcept {
        return uri_complete_;
    }
    [[nodiscard]] std::chrono::seconds expires_in() const noexcept { return expires_in_; }

private:
    DeviceLogin(const FlowContext& ctx, std::uint64_t id, LoginSubject subject, Done done);
    [[nodiscard]] Status authorize();
    void on_authorized(Result<HttpResponse> resp);
    [[nodiscard]] Result<HttpFormRequest> poll_request() const;
    void on_tokens(Result<TokenResponse> tokens);
    void finish(LoginOutcome r);

    FlowContext ctx_;
    Done done_;
    Started started_;
    ScopedHttpRequest auth_request_;
    Secret device_code_;
    std::string user_code_;
    std::string uri_;
    std::string uri_complete_;
    std::chrono::seconds expires_in_{0};
    TokenPoller poller_;
    LoginFinisher finisher_;
};

} // namespace psc

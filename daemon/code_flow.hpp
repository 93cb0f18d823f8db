// SPDX-License-Identifier: LGPL-2.1-or-later
// One pending authorization-code login (design §2 items 1–2): the authorization request (PKCE S256,
// state, nonce), the callback from the listener or pasted back, the RFC 9207 check, the token
// exchange with the configured client authentication, then LoginFinisher. A CodeLogin ends through
// its done callback exactly once, or is destroyed first (its HTTP exchange is cancelled).
#pragma once

#include "auth_request.hpp"
#include "callback.hpp"
#include "callback_page.hpp"
#include "callback_server.hpp"
#include "login_finish.hpp"
#include "token_request.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// Client authentication at the token endpoint, the CIBA and the device endpoints, from the config
// (design §3). client_secret is required for client_secret_basic/post, signing_key (loaded from
// client_assertion_key) for private_key_jwt. Reasons: client_secret_missing,
// client_signing_key_missing.
[[nodiscard]] Result<ClientAuth> client_auth_for(const Config& cfg, const Secret* client_secret,
                                                 const JwsSigningKey* signing_key = nullptr);
// "openid scope_all" from the config's lists (scope, acr_values).
[[nodiscard]] std::string space_joined(const std::vector<std::string>& words);
// True when requests go over mTLS (tls_client_auth): RFC 8705 endpoint aliases are used.
[[nodiscard]] bool uses_mtls(const Config& cfg) noexcept;

// What every authenticated request to the provider needs: the client authentication (built
// afresh: a private_key_jwt assertion is single-use) and the named discovery endpoint (its
// mtls_endpoint_aliases entry under mTLS). Reasons: client_auth_for's, endpoint_for's.
struct ProviderCall {
    ClientAuth auth;
    std::string endpoint;
};
[[nodiscard]] Result<ProviderCall> provider_call(const FlowContext& ctx,
                                                 std::string_view endpoint_name);

// confirm_code (design §2.1): a callback that reached the listener completes the login only once
// the person at the prompt types the code its page showed. Where the redirect_uri is public (a
// bastion), anyone's browser can deliver a callback: a link sent to a clinician would otherwise
// log the sender in as them. Paste-back needs no code (the person pasting had the browser).
inline constexpr int kConfirmAttempts = 3;
// "K7Q-4M2": six characters that cannot be misread (no 0/O, 1/I/L), from the CSPRNG.
[[nodiscard]] Result<std::string> make_confirm_code();

class CodeLogin {
public:
    using Done = LoginFinisher::Done;
    // Reasons: make_auth_request's (auth_endpoint_invalid, ...).
    [[nodiscard]] static Result<std::unique_ptr<CodeLogin>>
    create(const FlowContext& ctx, std::uint64_t id, LoginSubject subject, std::string redirect_uri,
           bool confirm_callbacks, Done done);
    CodeLogin(const CodeLogin&) = delete;
    CodeLogin& operator=(const CodeLogin&) = delete;
    // A browser still waiting for this login's page is told it ended.
    ~CodeLogin();

    [[nodiscard]] const std::string& state() const noexcept { return auth_.state; }
    [[nodiscard]] const std::string& url() const noexcept { return auth_.url; }

    // From the listener, for a response whose state the engine matched to this login. A response
    // that fails the checks ends the login (it carried our state); a second one is refused.
    [[nodiscard]] CallbackReply on_callback(CallbackResponse resp);
    // Paste-back: the address the browser ended on. An address for another redirect_uri or
    // another login is refused (callback_redirect_mismatch / callback_state_mismatch) and the
    // login goes on; any other outcome arrives through done. Reasons: parse_pasted_callback's,
    // those two, callback_already_used.
    // While a listener callback awaits its confirmation, the text is the code instead: a wrong
    // one is refused (confirm_code_wrong) and the login goes on, until the kConfirmAttempts-th,
    // which ends it (denied, confirm_code_mismatch).
    [[nodiscard]] Status on_paste(std::string_view address);
    // A listener callback arrived and waits for the code to be typed at the prompt.
    [[nodiscard]] bool awaiting_confirmation() const noexcept { return confirm_pending_; }

private:
    CodeLogin(const FlowContext& ctx, std::uint64_t id, LoginSubject subject,
              std::string redirect_uri, Done done);
    [[nodiscard]] Status check(const CallbackResponse& resp) const;
    [[nodiscard]] Status confirm(std::string_view typed);
    void redeem(const CallbackResponse& resp);
    void on_token(Result<HttpResponse> resp);
    void finish(LoginOutcome r);

    FlowContext ctx_;
    std::string redirect_uri_;
    Done done_;
    AuthRequest auth_;
    bool redeeming_ = false;
    Secret code_; // the authorization code being redeemed, for the ID token's c_hash
    bool confirm_callbacks_ = false;
    bool confirm_pending_ = false;
    int confirm_attempts_ = 0;
    Secret confirm_code_;               // normalised: upper case, no separator
    std::optional<LoginOutcome> held_;  // a success waiting for the code
    std::shared_ptr<DeferredPage> page_; // the browser waiting for the outcome (listener)
    ScopedHttpRequest token_request_;
    LoginFinisher finisher_;
};

} // namespace psc

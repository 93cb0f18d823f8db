// SPDX-License-Identifier: LGPL-2.1-or-later
// The seam between psc-authd's D-Bus layer and its login logic (STYLE: bus glue apart from the
// logic). The bus layer (auth_bus.cpp) checks callers, owns the public login ids, limits and
// cancels on disconnect; a LoginBackend runs the OpenID flows and decides. Tests drive each side
// alone: the bus with a scripted backend, the backend without a bus.
#pragma once

#include "config.hpp"
#include "result.hpp"
#include "secret.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace psc {

using BackendLoginId = std::uint64_t;

struct LoginRequest {
    std::string user;    // PAM_USER: the only account this login may end in
    std::string service; // PAM_SERVICE, selects [service:NAME]
    std::string rhost;   // PAM_RHOST (audit; display choices)
    std::string tty;     // PAM_TTY (audit)
    std::string flow;    // "code", "ciba", "device"; "" = the service's first flow
    uid_t caller_uid = 0;
};

// What to show at the prompt (design §5 StartLogin "display").
struct LoginDisplay {
    std::string flow;
    std::string url;          // authorization URL / verification URI
    std::string qr;           // what a QR code should encode ("" = none)
    std::string binding_code; // CIBA: two digits
    std::string user_code;    // device grant
    std::chrono::seconds expires_in{0};
    bool accepts_paste = false; // code flow: the final browser address may be pasted back
    // code flow, confirm_code: a callback on the listener must be confirmed with the code its page
    // shows, typed at the prompt (SubmitCallback with the code).
    bool confirm_code = false;
};

struct LoginSuccess {
    std::string user;  // the local account (always the requested one)
    std::string idnat; // the person's own idNat, even when a former identifier matched
    std::string alias; // the former (ADELI) identifier that matched the account, "" when none
    std::string profession;
    std::string auth_mode;
    // For the session record and a logout at the provider: the validated ID token (in memory
    // only, for id_token_hint) and its "sid". Never sent on the bus.
    std::shared_ptr<const Secret> id_token;
    std::string sid;
    std::string sub; // the ID token's sub: a back-channel logout may name the person by it
    std::string session_ticket; // set by the bus layer: the ticket handed to the PAM stack
};

// How a login ended. Once an ID token was validated the person is known, and every outcome from
// then on — refusals included — carries their idNat for the audit trail (design §8).
struct LoginOutcome {
    LoginOutcome(Error e) : result(std::move(e)) {}
    LoginOutcome(LoginSuccess s) : result(std::move(s)) {}
    LoginOutcome(Result<LoginSuccess> r) : result(std::move(r)) {}
    Result<LoginSuccess> result;
    std::string idnat; // "" until an ID token was validated
    std::string alias; // the former identifier that matched, "" when none
};

// What to show, once known: at once for the code flow; for CIBA and the device grant only when
// the provider has answered the daemon's first request (its expiry, the user code). Called
// exactly once per login start() accepted, from the event loop (never from inside start()),
// unless the login was cancelled first; with an error, the login never started: done is then
// never called.
using LoginStartedCb = std::function<void(Result<LoginDisplay>)>;
// Called exactly once per login whose display was delivered, from the event loop (never from
// inside start() or submit_callback()), unless the login was cancelled first. Errors carry the
// Errc the bus maps to org.psclogin.Auth1.Error.* and a reason for PSC_REASON.
using LoginDone = std::function<void(LoginOutcome)>;

// What the daemon's status reports about one part of the provider (the discovery document or
// the signing keys).
struct ProviderPartInfo {
    bool loaded = false;
    bool is_static = false;                            // metadata_file / jwks_file
    std::chrono::system_clock::time_point loaded_at{}; // last successful load; epoch: never
    std::chrono::seconds next_fetch{-1};               // from now; -1: none scheduled
    unsigned failures = 0;                             // consecutive, since the last success
    std::string last_error; // "reason: message" of the last failed load (kept after a recovery)
    std::size_t keys = 0;   // signing keys: how many are usable
};

// What the daemon knows of its provider and configuration, for `pscctl status` and readiness
// probes.
struct ProviderStatus {
    bool ready = false;     // discovery and signing keys loaded: logins can start
    std::string listener;   // the callback listener's own address ("http://127.0.0.1:8765/callback")
    std::string issuer;
    std::vector<std::string> config_files;                    // the running configuration's
    std::chrono::system_clock::time_point config_loaded_at{}; // at start or the last reload
    ProviderPartInfo discovery, keys;
};

class LoginBackend {
public:
    virtual ~LoginBackend() = default;
    // Flows offered to a PAM service, in prompt order.
    [[nodiscard]] virtual std::vector<std::string> flows_for(std::string_view service) const = 0;
    // Whether `user` is an account psc-login manages (design §4), without starting anything: the
    // PAM module asks before it shows a flow menu, so root or a local service account never sees
    // one. Errors as start() gives them for the account (unknown_user for accounts not managed).
    // done may run inside this call (a map file) or later from the event loop (a directory).
    virtual void check_account(const std::string& user, std::function<void(Status)> done) = 0;
    // Starts a login without blocking (nothing here waits for the provider): the id at once, the
    // display later through `started`, the outcome through `done`. An error here means nothing
    // started and neither callback is called.
    [[nodiscard]] virtual Result<BackendLoginId> start(const LoginRequest& request,
                                                       LoginStartedCb started, LoginDone done) = 0;
    // Paste-back (design §2.2): the address the browser ended on; the outcome arrives through done.
    [[nodiscard]] virtual Status submit_callback(BackendLoginId id, std::string_view address) = 0;
    [[nodiscard]] virtual ProviderStatus provider_status() const { return {}; }
    // The login's callback reached the listener and waits for its confirmation code.
    [[nodiscard]] virtual bool awaiting_confirmation(BackendLoginId) const { return false; }
    // Abandons a login: its HTTP exchanges are cancelled and done is never called.
    virtual void cancel(BackendLoginId id) noexcept = 0;

    // Admin (RefreshProvider, pscctl `jwks refresh`): refetch the discovery document and then the
    // JWKS now. `done` is called exactly once, from the event loop (never from inside this call),
    // with the outcome (Unavailable with the fetch's reason on failure); a failed refresh keeps
    // what was loaded. The JWKS fetch must go through the same rate limiter as the unknown-kid
    // refetch (design §9, [limits] jwks_refetch_interval): when a fetch was attempted within the
    // interval, return Error{busy, "jwks_rate_limited"} at once instead of fetching, and count
    // this fetch as an attempt. The bus layer answers at most one refresh at a time and also
    // refuses admin refreshes closer together than the interval. Returns an error (and never
    // calls done) when the refresh cannot start.
    using RefreshDone = std::function<void(Status)>;
    [[nodiscard]] virtual Status refresh_provider(RefreshDone done) {
        (void)done;
        return make_error(Errc::internal, "refresh_unsupported",
                          "this login backend cannot refresh the provider on demand");
    }

    // Reload (SIGHUP): new logins use `cfg` once it is fully set up; pending logins keep the
    // configuration they started with. `done` is called exactly once, from the event loop, unless
    // an error is returned at once (then the running configuration stays and done is never
    // called).
    [[nodiscard]] virtual Status reload(Config cfg, std::function<void(Status)> done) {
        (void)cfg;
        (void)done;
        return make_error(Errc::internal, "reload_unsupported",
                          "this login backend cannot reload its configuration");
    }

    // Back-channel logout (OpenID Connect Back-Channel Logout 1.0): every logout token POSTed to
    // the listener is handed to `cb` once checked — the validated token, or why it was refused
    // (the provider got a 400). Set once, by the bus side, before the event loop runs.
    struct BackchannelLogout {
        std::string iss, sid, sub, jti; // sid / sub: "" when the token has none
        BackchannelAction action = BackchannelAction::none;
    };
    using BackchannelLogoutCb = std::function<void(Result<BackchannelLogout>)>;
    virtual void set_backchannel_logout(BackchannelLogoutCb cb) { (void)cb; }

    // RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0, PSC's Keycloak form): a GET of
    // the provider's end_session_endpoint with id_token_hint and client_id, bounded by the HTTP
    // timeouts. `done` is called exactly once, from the event loop, unless an error is returned
    // at once (then never). Reasons: logout_no_endpoint (config), provider_not_ready; through
    // done, the HTTP client's and logout_refused (the provider answered an error status).
    [[nodiscard]] virtual Status end_provider_session(std::shared_ptr<const Secret> id_token,
                                                      std::function<void(Status)> done) {
        (void)id_token;
        (void)done;
        return make_error(Errc::config, "logout_no_endpoint",
                          "this login backend cannot end a session at the provider");
    }
};

} // namespace psc

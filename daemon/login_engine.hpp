// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-authd's LoginBackend (login_backend.hpp): the provider state, the callback listener, and the
// pending logins, all in one sd-event loop. Logins are found by id (D-Bus) or by `state` (the
// listener); each has a deadline (the service's `timeout`). Every outcome is delivered from a
// deferred event source, never from inside start() / submit_callback() or an HTTP callback, so a
// login object is never destroyed under its own feet. Pending::flow holds one CodeLogin,
// CibaLogin or DeviceLogin; destroying it stops its timers and cancels its HTTP exchanges.
#pragma once

#include "callback_server.hpp"
#include "ciba_flow.hpp"
#include "code_flow.hpp"
#include "config.hpp"
#include "device_flow.hpp"
#include "event_loop.hpp"
#include "login_backend.hpp"
#include "login_finish.hpp"
#include "logout_token.hpp"
#include "provider_state.hpp"
#include "push_throttle.hpp"
#include "user_db.hpp"

#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <sys/types.h>
#include <vector>

namespace psc {

struct LoginEngineOptions {
    // Owner accepted (besides root) for the map file and the client secret: psc-authd keeps 0,
    // tests pass their own uid.
    uid_t trusted_owner = 0;
    // Account lookup; null: NSS (getpwnam_r).
    const UserDb* users = nullptr;
    ProviderStateOptions provider;
};

class LoginEngine final : public LoginBackend {
public:
    // Sets up the HTTP client (CA file, client certificate), the listener and the provider state,
    // and starts loading the provider. Reasons: sd_event_http_client's, CallbackServer::start's,
    // ProviderState::create's, load_client_secret's, client_assertion_key's (read_config_secret's,
    // signing_key_pem, jws_sign_key, client_assertion_alg), event_source.
    [[nodiscard]] static Result<std::unique_ptr<LoginEngine>>
    create(sd_event* event, Config cfg, LoginEngineOptions opts = {});
    ~LoginEngine() override;
    LoginEngine(const LoginEngine&) = delete;
    LoginEngine& operator=(const LoginEngine&) = delete;

    // The service's flows ([login] / [service:NAME] flows, in that order) that the provider
    // offers: ciba needs backchannel_authentication_endpoint (poll mode), device needs
    // device_authorization_endpoint. Until discovery is loaded: the configured list.
    [[nodiscard]] std::vector<std::string> flows_for(std::string_view service) const override;
    // AccountResolver::resolve's errors.
    void check_account(const std::string& user, std::function<void(Status)> done) override;
    // The PAM user is resolved first, before any provider contact (design §4): an account
    // psc-login does not manage is answered at once (AccountResolver's: user_missing,
    // system_user, user_unmapped — all unknown_user; map_unusable, nss_lookup).
    // Then: flow_not_allowed (invalid: not in the service's flows, or unknown),
    // provider_not_ready (unavailable), too_many_logins (busy), ciba_throttled (busy: too many
    // pushes to this person's phone, push_throttle.hpp), then the flow's:
    // CodeLogin::create's, CibaLogin::create's (flow_unsupported, ...),
    // DeviceLogin::create's (flow_unsupported, ...). Nothing waits for the provider: CIBA's and
    // the device grant's displays go out through `started` once it answered (a refusal then, e.g.
    // unknown_user_id or unauthorized_client, is `started`'s error).
    [[nodiscard]] Result<BackendLoginId> start(const LoginRequest& request,
                                               LoginStartedCb started, LoginDone done) override;
    // Reasons: login_unknown, flow_no_paste, CodeLogin::on_paste's.
    [[nodiscard]] Status submit_callback(BackendLoginId id, std::string_view address) override;
    [[nodiscard]] bool awaiting_confirmation(BackendLoginId id) const override;
    void cancel(BackendLoginId id) noexcept override;
    // ProviderState::refresh; a failed fetch is reported as Unavailable with its own reason.
    [[nodiscard]] Status refresh_provider(RefreshDone done) override;

    // Reload (SIGHUP): a new configuration for the logins that start from now on. Its files and
    // credentials are read, a new HTTP client made, and the provider loaded with it (discovery
    // and keys, through the new proxy and CA) before it replaces the running one; until then,
    // and if any step fails, the running configuration stays. Pending logins finish under the
    // configuration they started with. `done` is called from the loop, never from inside
    // reload(). Reasons: reload_in_progress (busy), reload_needs_restart (config: [callback]
    // changed — the listener holds pending logins' callbacks), setup's, the provider's.
    using ReloadDone = std::function<void(Status)>;
    [[nodiscard]] Status reload(Config cfg, ReloadDone done) override;
    [[nodiscard]] Status end_provider_session(std::shared_ptr<const Secret> id_token,
                                              std::function<void(Status)> done) override;
    void set_backchannel_logout(BackchannelLogoutCb cb) override { backchannel_ = std::move(cb); }
    // A POST on the listener's /backchannel_logout (form body with logout_token): 501 when
    // backchannel_logout_action = none; 400 with the reason when the token is refused (reasons:
    // backchannel_content_type, backchannel_no_token, provider_not_ready, validate_logout_token's,
    // logout_token_replayed); 200 once the callback has had it. A token signed with a key the
    // daemon does not know yet (the provider rotated its keys) waits for one rate-limited JWKS
    // refetch and is then checked again (a deferred answer; at most kMaxBackchannelWaits at once,
    // beyond them, or when no refetch is allowed now, 400 jws_unknown_kid at once).
    [[nodiscard]] BackchannelReply on_backchannel(std::string_view content_type,
                                                  std::string_view body);
    static constexpr std::size_t kMaxBackchannelWaits = 16;
    // The configuration new logins use.
    [[nodiscard]] const Config& config() const noexcept;

    [[nodiscard]] bool provider_ready() const noexcept;
    [[nodiscard]] ProviderStatus provider_status() const override;
    [[nodiscard]] const ProviderState& provider() const noexcept;
    [[nodiscard]] std::string callback_url() const { return server_->url(); }
    [[nodiscard]] std::size_t pending() const noexcept { return logins_.size(); }
    // HTTP exchanges in flight (0 once every login ended or was cancelled): tests check for leaks.
    [[nodiscard]] std::size_t http_in_flight() const noexcept;

    struct Pending;
    struct Generation;
    struct LogoutCall;
    struct BackchannelWait;

private:
    LoginEngine(sd_event* event, LoginEngineOptions opts, PushThrottleLimits pushes);
    void finish_reload();
    [[nodiscard]] Status setup(Config cfg);
    [[nodiscard]] Result<std::shared_ptr<Generation>> make_generation(Config cfg);
    [[nodiscard]] CallbackReply on_request(std::string_view target);
    [[nodiscard]] Result<LogoutToken> check_logout_token(const Generation& g,
                                                         std::string_view token) const;
    [[nodiscard]] BackchannelReply answer_logout(Result<LogoutToken> t);
    void on_backchannel_keys(std::uint64_t waiter, Status fetched);
    [[nodiscard]] Status check_limits() const;
    [[nodiscard]] Status start_flow(Pending& p, Flow flow, const ServicePolicy& policy);
    [[nodiscard]] Status begin(Pending& p);
    void on_account(BackendLoginId id, Result<ManagedAccount> account);
    void announce(BackendLoginId id);
    void post(BackendLoginId id);
    template <class Fn, class Arg>
    static void call(Fn& fn, Arg arg) noexcept;
    [[nodiscard]] Status arm_deadline(Pending& p, std::chrono::seconds timeout);
    [[nodiscard]] std::uint64_t now_usec() const noexcept;
    void complete(BackendLoginId id, LoginOutcome r);
    void deliver();
    static int on_deadline(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    static int on_defer(sd_event_source* s, void* userdata) noexcept;

    sd_event* event_;
    LoginEngineOptions opts_;
    NssUserDb nss_;
    PushThrottle pushes_; // CIBA pushes per user (local seat and remote apart)
    // What new logins use; each pending login holds the generation it started with. Teardown
    // order (reverse of declaration): logins (cancel their requests), listener, generations.
    std::shared_ptr<Generation> gen_;
    std::shared_ptr<Generation> next_; // a reload loading its provider
    ReloadDone reload_done_;
    Status reload_outcome_;
    bool reload_finished_ = false; // deliver it (and drop next_ if it failed) from the defer
    std::unique_ptr<CallbackServer> server_;
    std::string redirect_uri_;
    bool confirm_callbacks_ = false; // [callback] confirm_code for this redirect_uri
    FlowContext ctx_;
    SdEventSourcePtr defer_;
    std::vector<BackendLoginId> events_; // logins whose display or outcome is to be delivered
    BackendLoginId next_id_ = 1;
    // SHA-256(state) → login: the listener's lookup, constant cost per callback (declared before
    // logins_, whose entries remove themselves from it).
    std::unordered_map<std::string, BackendLoginId> by_state_;
    std::map<BackendLoginId, std::unique_ptr<Pending>> logins_;
    std::map<std::uint64_t, std::unique_ptr<LogoutCall>> logouts_; // end_session requests
    BackchannelLogoutCb backchannel_;
    JtiCache logout_jtis_; // the logout tokens accepted: a replay is refused
    std::uint64_t next_logout_ = 1;
    // Logout tokens waiting for the provider's new keys, by JWKS waiter slot (counted down from
    // the top of the range: logins use theirs from 1, an admin refresh 0).
    std::map<std::uint64_t, BackchannelWait> backchannel_waits_;
    std::uint64_t next_backchannel_wait_ = 0;
    std::vector<std::shared_ptr<Generation>> retired_; // released from the loop (on_defer)
};

} // namespace psc

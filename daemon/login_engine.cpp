// SPDX-License-Identifier: LGPL-2.1-or-later
#include "login_engine.hpp"

#include "directory_source.hpp"

#include "url.hpp"
#include "strutil.hpp"
#include "http_client.hpp"

#include "digest.hpp"

#include "config_values.hpp"
#include "tls_files.hpp"

#include <algorithm>
#include <utility>
#include <variant>

namespace psc {

struct LoginEngine::Pending {
    Pending() = default;
    Pending(const Pending&) = delete;
    Pending& operator=(const Pending&) = delete;
    ~Pending();

    LoginEngine* engine = nullptr;
    BackendLoginId id = 0;
    LoginSubject subject;
    LoginStartedCb started;
    LoginDone done;
    std::string state;     // the code flow's `state`, which the listener dispatches on
    std::string state_key; // SHA-256 of state: its key in LoginEngine::by_state_
    LoginDisplay display;       // filled by the flow; sent once ready
    bool display_ready = false; // the flow said it may be shown
    bool display_sent = false;  // `started` was called with it
    std::optional<LoginOutcome> outcome;
    SdEventSourcePtr deadline;
    std::uint64_t account_lookup = 0; // the directory lookup the login waits for, 0: none
    // The configuration, provider and HTTP client this login started with (kept across reloads);
    // outlives the flow below, which points into it.
    std::shared_ptr<LoginEngine::Generation> gen;
    // Last: destroyed first, stopping its timers and cancelling its HTTP exchanges.
    std::variant<std::unique_ptr<CodeLogin>, std::unique_ptr<CibaLogin>,
                 std::unique_ptr<DeviceLogin>>
        flow;

    [[nodiscard]] CodeLogin* code() const noexcept {
        const auto* c = std::get_if<std::unique_ptr<CodeLogin>>(&flow);
        return c ? c->get() : nullptr;
    }
};

// One configuration with everything built from it. Not movable: accounts and ctx point into it.
struct LoginEngine::Generation {
    Generation(Config c, uid_t owner, const UserDb& users)
        : cfg(std::move(c)), maps(owner), accounts(cfg, maps, users) {}
    Generation(const Generation&) = delete;
    Generation& operator=(const Generation&) = delete;

    Config cfg;
    std::chrono::system_clock::time_point loaded_at = std::chrono::system_clock::now();
    std::optional<Secret> client_secret;
    std::optional<JwsSigningKey> signing_key; // private_key_jwt
    JweKeySet decryption_keys;                // id_token_decryption_key
    JweDecryptPolicy decryption;
    MapFileCache maps;
    AccountResolver accounts;
    std::unique_ptr<DirectoryLookups> directory; // source = ldap or sssd
    // The provider after the HTTP client it uses (members are destroyed in reverse order).
    SdEventHttpClient http;
    std::unique_ptr<ProviderState> provider;
    FlowContext ctx;
};

struct LoginEngine::BackchannelWait {
    std::shared_ptr<Generation> gen; // whose provider fetches the keys
    std::string token;
    std::shared_ptr<DeferredBackchannel> answer;
};

LoginEngine::Pending::~Pending() {
    if (!state_key.empty())
        engine->by_state_.erase(state_key);
    if (account_lookup != 0 && gen)
        gen->accounts.cancel(account_lookup);
}

namespace {

bool needs_client_secret(const ProviderConfig& p) {
    if (p.token_auth_method == TokenAuthMethod::client_secret_basic ||
        p.token_auth_method == TokenAuthMethod::client_secret_post)
        return true;
    return std::any_of(p.id_token_algs.begin(), p.id_token_algs.end(), [](const std::string& a) {
        auto alg = jws_alg_from_name(a);
        return alg && jws_alg_is_hmac(*alg);
    });
}

std::string_view flow_name(Flow f) {
    return to_string(f);
}

std::optional<Flow> flow_from_name(std::string_view name) {
    for (Flow f : {Flow::code, Flow::ciba, Flow::device})
        if (flow_name(f) == name)
            return f;
    return std::nullopt;
}

// The flow a request asks for ("" = the service's first), if the service offers it.
Result<Flow> chosen_flow(const ServicePolicy& policy, const LoginRequest& request) {
    const auto& flows = policy.login.flows;
    if (flows.empty())
        return make_error(Errc::invalid, "flow_not_allowed", "no flow for this service");
    if (request.flow.empty())
        return flows.front();
    const auto f = flow_from_name(request.flow);
    if (!f || std::find(flows.begin(), flows.end(), *f) == flows.end())
        return make_error(Errc::invalid, "flow_not_allowed",
                          "flow \"" + request.flow + "\" is not offered to this service");
    return *f;
}

bool provider_offers(const ProviderMetadata& md, Flow f) {
    switch (f) {
    case Flow::code:
        return true; // authorization_endpoint is required by discovery
    case Flow::ciba:
        return provider_offers_ciba(md);
    case Flow::device:
        return provider_offers_device(md);
    }
    return false;
}

// The mTLS certificate and key, checked once at start with a clear reason (an encrypted key
// would otherwise make OpenSSL ask for a passphrase on a terminal, or fail obscurely inside the
// first TLS handshake).
Status check_client_tls(const Config& cfg, uid_t trusted_owner) {
    const ProviderConfig& p = cfg.provider;
    if (p.token_auth_method != TokenAuthMethod::tls_client_auth)
        return {};
    FileRules rules;
    rules.required_owner = static_cast<long>(trusted_owner);
    rules.refuse_group_world_writable = true;
    auto cert = read_file_checked(p.tls_client_cert, rules);
    if (!cert)
        return std::move(cert).error();
    auto key = read_config_secret(p.tls_client_key, trusted_owner);
    if (!key)
        return std::move(key).error();
    auto s = check_client_credentials(cert->content, p.tls_client_cert, *key, p.tls_client_key,
                                      std::time(nullptr));
    if (!s)
        return std::move(s).error();
    return {};
}

// confirm_code = auto: only where the browser's callback may come from anyone's browser — a
// redirect_uri that is not loopback (RFC 8252 §7.3 loopback is this machine's own browser).
bool confirm_callbacks(const CallbackConfig& cb) {
    switch (cb.confirm_code) {
    case ConfirmCode::always:
        return true;
    case ConfirmCode::never:
        return false;
    case ConfirmCode::automatic:
        break;
    }
    if (cb.redirect_uri.empty())
        return false;
    auto u = parse_config_url("redirect_uri", cb.redirect_uri);
    return !u || !u->loopback;
}

} // namespace

namespace {

// RFC 7523 client assertions: the key is read once, with secret-file rules (design §3).
Result<std::optional<JwsSigningKey>> load_signing_key(const ProviderConfig& p, uid_t owner) {
    if (p.token_auth_method != TokenAuthMethod::private_key_jwt)
        return std::optional<JwsSigningKey>{};
    auto alg = jws_alg_from_name(p.client_assertion_alg);
    if (!alg || jws_alg_is_hmac(*alg))
        return make_error(Errc::config, "client_assertion_alg",
                          "client_assertion_alg " + p.client_assertion_alg + " cannot sign");
    auto pem = read_config_secret(p.client_assertion_key, owner);
    if (!pem)
        return std::move(pem).error();
    auto key = signing_key_from_pem(pem->view(), *alg, {});
    if (!key)
        return std::move(key).error();
    return std::optional<JwsSigningKey>{std::move(*key)};
}

// Encrypted ID tokens and UserInfo JWTs: the key is read once, with secret-file rules.
Status load_decryption(const ProviderConfig& p, uid_t owner, JweKeySet& keys,
                       JweDecryptPolicy& policy) {
    policy.allowed_algs.clear();
    for (const auto& name : p.id_token_decryption_algs) {
        auto alg = jwe_alg_from_name(name);
        if (!alg)
            return make_error(Errc::config, "alg_unknown", "unknown algorithm " + name);
        policy.allowed_algs.push_back(*alg);
    }
    if (p.id_token_decryption_key.empty())
        return {};
    auto text = read_config_secret(p.id_token_decryption_key, owner);
    if (!text)
        return std::move(text).error();
    auto parsed = parse_jwe_keys(text->view());
    if (!parsed)
        return make_error(parsed.error().code, parsed.error().reason,
                          "id_token_decryption_key " + p.id_token_decryption_key + ": " +
                              parsed.error().message);
    keys = std::move(*parsed);
    policy.keys = &keys;
    return {};
}

PushThrottleLimits push_limits(const LoginSettings& l) {
    return PushThrottleLimits{l.ciba_push_burst, l.ciba_push_interval, l.ciba_deny_cooldown};
}

// What a reload cannot change under pending logins: the listener their callbacks arrive on.
bool same_callback(const CallbackConfig& a, const CallbackConfig& b) {
    return a.listen_host == b.listen_host && a.listen_port == b.listen_port &&
           a.listen_ipv6 == b.listen_ipv6 && a.redirect_uri == b.redirect_uri &&
           a.tls_cert == b.tls_cert && a.tls_key == b.tls_key && a.confirm_code == b.confirm_code;
}

} // namespace

// Pending is complete only here: the map of unique_ptr<Pending> must be destroyed in this file.
LoginEngine::LoginEngine(sd_event* event, LoginEngineOptions opts, PushThrottleLimits pushes)
    : event_(event), opts_(std::move(opts)), pushes_(pushes) {}

LoginEngine::~LoginEngine() {
    logins_.clear(); // before the listener, provider and client they use
}

Result<std::unique_ptr<LoginEngine>> LoginEngine::create(sd_event* event, Config cfg,
                                                         LoginEngineOptions opts) {
    const auto pushes = push_limits(cfg.login);
    std::unique_ptr<LoginEngine> e(new LoginEngine(event, std::move(opts), pushes));
    PSC_TRY(e->setup(std::move(cfg)));
    return e;
}

Result<std::shared_ptr<LoginEngine::Generation>> LoginEngine::make_generation(Config cfg) {
    PSC_TRY(check_client_tls(cfg, opts_.trusted_owner));
    auto g = std::make_shared<Generation>(std::move(cfg), opts_.trusted_owner,
                                          opts_.users ? *opts_.users : nss_);
    if (needs_client_secret(g->cfg.provider)) {
        auto secret = load_client_secret(g->cfg, opts_.trusted_owner);
        if (!secret)
            return std::move(secret).error();
        g->client_secret = std::move(*secret);
    }
    auto key = load_signing_key(g->cfg.provider, opts_.trusted_owner);
    if (!key)
        return std::move(key).error();
    g->signing_key = std::move(*key);
    PSC_TRY(load_decryption(g->cfg.provider, opts_.trusted_owner, g->decryption_keys,
                            g->decryption));
    if (uses_directory(g->cfg.mapping)) {
        auto search = open_directory(g->cfg.mapping, opts_.trusted_owner);
        if (!search)
            return std::move(search).error();
        auto directory = DirectoryLookups::create(event_, directory_cache_ttl(g->cfg.mapping),
                                                  std::move(*search));
        if (!directory)
            return std::move(directory).error();
        g->directory = std::move(*directory);
        g->accounts.set_directory(g->directory.get());
    }
    auto http = sd_event_http_client(event_, http_options(g->cfg));
    if (!http)
        return std::move(http).error();
    g->http = std::move(*http);
    auto provider = ProviderState::create(event_, *g->http.client, g->cfg, opts_.provider);
    if (!provider)
        return std::move(provider).error();
    g->provider = std::move(*provider);
    g->ctx.event = event_;
    g->ctx.http = g->http.client.get();
    g->ctx.provider = g->provider.get();
    g->ctx.cfg = &g->cfg;
    g->ctx.client_secret = g->client_secret ? &*g->client_secret : nullptr;
    g->ctx.signing_key = g->signing_key ? &*g->signing_key : nullptr;
    g->ctx.decryption = g->decryption.keys ? &g->decryption : nullptr;
    return g;
}

Status LoginEngine::setup(Config config) {
    auto gen = make_generation(std::move(config));
    if (!gen)
        return std::move(gen).error();
    gen_ = std::move(*gen);
    const Config& cfg = gen_->cfg;
    CallbackServerOptions so;
    so.listen_host = cfg.callback.listen_host;
    so.listen_port = cfg.callback.listen_port;
    so.tls_cert_file = cfg.callback.tls_cert;
    so.tls_key_file = cfg.callback.tls_key;
    so.max_request_target = cfg.limits.callback_max_request;
    auto server = CallbackServer::start(event_, so,
                                        [this](std::string_view t) { return on_request(t); });
    if (!server)
        return std::move(server).error();
    server_ = std::move(*server);
    server_->set_backchannel_handler([this](std::string_view ct, std::string_view body) {
        return on_backchannel(ct, body);
    });
    redirect_uri_ = cfg.callback.redirect_uri.empty() ? server_->url() : cfg.callback.redirect_uri;
    confirm_callbacks_ = confirm_callbacks(cfg.callback);

    sd_event_source* s = nullptr;
    if (sd_event_add_defer(event_, &s, &on_defer, this) < 0)
        return make_error(Errc::internal, "event_source", "cannot add a defer source");
    defer_ = SdEventSourcePtr(s);
    (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
    gen_->provider->begin();
    return {};
}

Status LoginEngine::reload(Config cfg, ReloadDone done) {
    if (next_ || reload_done_)
        return make_error(Errc::busy, "reload_in_progress", "a reload is already running");
    if (!same_callback(cfg.callback, gen_->cfg.callback) ||
        cfg.limits.callback_max_request != gen_->cfg.limits.callback_max_request)
        return make_error(Errc::config, "reload_needs_restart",
                          "[callback] or callback_max_request changed: pending logins wait for "
                          "their callbacks on the running listener; restart psc-authd to apply it");
    auto gen = make_generation(std::move(cfg));
    if (!gen)
        return std::move(gen).error();
    // The new provider is loaded now (not at its first login), through the new HTTP settings:
    // a configuration that cannot reach the provider never replaces one that can.
    auto st = (*gen)->provider->refresh([this](Status outcome) {
        reload_outcome_ = std::move(outcome);
        reload_finished_ = true;
        (void)sd_event_source_set_enabled(defer_.get(), SD_EVENT_ONESHOT);
    });
    if (!st)
        return std::move(st).error();
    next_ = std::move(*gen);
    reload_done_ = std::move(done);
    return {};
}

// From the defer source, never from inside the provider's callback (whose owner it may drop).
void LoginEngine::finish_reload() {
    reload_finished_ = false;
    Status outcome = std::move(reload_outcome_);
    auto next = std::exchange(next_, nullptr);
    if (outcome) {
        pushes_.set_limits(push_limits(next->cfg.login));
        gen_ = std::move(next); // the old one lives on in the logins that started with it
    }
    auto done = std::exchange(reload_done_, nullptr);
    next.reset();
    if (done)
        done(std::move(outcome));
}

const Config& LoginEngine::config() const noexcept {
    return gen_->cfg;
}

bool LoginEngine::provider_ready() const noexcept {
    return gen_->provider->ready();
}

const ProviderState& LoginEngine::provider() const noexcept {
    return *gen_->provider;
}

std::size_t LoginEngine::http_in_flight() const noexcept {
    std::size_t n = gen_->http.client->in_flight();
    for (const auto& [id, p] : logins_)
        if (p->gen && p->gen != gen_)
            n += p->gen->http.client->in_flight();
    return n;
}

std::vector<std::string> LoginEngine::flows_for(std::string_view service) const {
    std::vector<std::string> out;
    const ProviderState& provider = *gen_->provider;
    for (Flow f : gen_->cfg.policy_for(service).login.flows)
        if (!provider.ready() || provider_offers(provider.metadata(), f))
            out.emplace_back(flow_name(f));
    return out;
}

ProviderStatus LoginEngine::provider_status() const {
    ProviderStatus st;
    st.ready = gen_->provider->ready();
    st.listener = server_->url();
    st.issuer = gen_->cfg.provider.issuer;
    st.config_files = gen_->cfg.files;
    st.config_loaded_at = gen_->loaded_at;
    st.discovery = gen_->provider->discovery_info();
    st.keys = gen_->provider->keys_info();
    return st;
}

// One end_session request; it holds the generation whose HTTP client runs it.
struct LoginEngine::LogoutCall {
    std::shared_ptr<Generation> gen;
    std::function<void(Status)> done;
    ScopedHttpRequest request; // after gen: cancelled before the client goes
};

Status LoginEngine::end_provider_session(std::shared_ptr<const Secret> id_token,
                                         std::function<void(Status)> done) {
    if (!gen_->provider->ready())
        return gen_->provider->not_ready_error();
    const std::string& endpoint = gen_->provider->metadata().end_session_endpoint;
    if (endpoint.empty())
        return make_error(Errc::config, "logout_no_endpoint",
                          "the provider's discovery document has no end_session_endpoint");
    if (!id_token || id_token->empty())
        return make_error(Errc::invalid, "logout_no_id_token", "no ID token kept for this session");
    HttpRequest req;
    req.url = endpoint + (endpoint.find('?') == std::string::npos ? "?" : "&") +
              "id_token_hint=" + percent_encode(id_token->view()) +
              "&client_id=" + percent_encode(gen_->cfg.provider.client_id);
    const std::uint64_t key = next_logout_++;
    auto call = std::make_unique<LogoutCall>();
    call->gen = gen_;
    call->done = std::move(done);
    auto id = gen_->http.client->start(std::move(req), [this, key](Result<HttpResponse> r) {
        auto it = logouts_.find(key);
        if (it == logouts_.end())
            return;
        auto finished = std::move(it->second);
        logouts_.erase(it);
        Status st;
        if (!r)
            st = std::move(r).error();
        else if (r->status >= 400)
            st = make_error(Errc::unavailable, "logout_refused",
                            "the provider's end_session_endpoint answered HTTP " +
                                std::to_string(r->status));
        finished->done(std::move(st));
    });
    if (!id)
        return std::move(id).error();
    call->request = ScopedHttpRequest(*call->gen->http.client, *id);
    logouts_.emplace(key, std::move(call));
    return {};
}

void LoginEngine::check_account(const std::string& user, std::function<void(Status)> done) {
    auto shared_done = std::make_shared<std::function<void(Status)>>(std::move(done));
    auto to_status = [](Result<ManagedAccount> a) -> Status {
        if (!a)
            return std::move(a).error();
        return {};
    };
    std::uint64_t lookup = 0;
    auto now = gen_->accounts.resolve(
        user, [shared_done, to_status](Result<ManagedAccount> a) { (*shared_done)(to_status(std::move(a))); },
        &lookup);
    if (now)
        (*shared_done)(to_status(std::move(*now)));
}

// A safety net behind the bus layer's limits (auth_bus.cpp), which count per user and source.
Status LoginEngine::check_limits() const {
    if (logins_.size() >= 2 * std::size_t{gen_->cfg.login.max_pending})
        return make_error(Errc::busy, "too_many_logins", "too many pending logins");
    return {};
}

Result<BackendLoginId> LoginEngine::start(const LoginRequest& request, LoginStartedCb started,
                                          LoginDone done) {
    auto p = std::make_unique<Pending>();
    p->engine = this;
    p->gen = gen_;
    p->id = next_id_++;
    p->subject.request = request;
    p->started = std::move(started);
    p->done = std::move(done);
    const BackendLoginId id = p->id;
    // First, before any provider contact, push or listener work: is this an account we manage?
    auto account = gen_->accounts.resolve(
        request.user, [this, id](Result<ManagedAccount> a) { on_account(id, std::move(a)); },
        &p->account_lookup);
    if (!account) {
        // The directory answers later; the login waits for it under its deadline.
        const ServicePolicy policy = gen_->cfg.policy_for(request.service);
        PSC_TRY(check_limits());
        PSC_TRY(arm_deadline(*p, policy.login.timeout));
        logins_.emplace(id, std::move(p));
        return id;
    }
    if (!*account)
        return std::move(*account).error();
    p->subject.account = std::move(**account);
    PSC_TRY(begin(*p));
    const bool ready = p->display_ready;
    if (!p->state_key.empty())
        by_state_.emplace(p->state_key, id);
    logins_.emplace(id, std::move(p));
    if (ready)
        post(id);
    return id;
}

// The rest of start() once the account is known: the flow, the provider, the limits.
Status LoginEngine::begin(Pending& p) {
    const ServicePolicy policy = p.gen->cfg.policy_for(p.subject.request.service);
    auto flow = chosen_flow(policy, p.subject.request);
    if (!flow)
        return std::move(flow).error();
    if (!p.gen->provider->ready())
        return p.gen->provider->not_ready_error();
    PSC_TRY(check_limits());
    p.display.flow = std::string(flow_name(*flow));
    p.display.expires_in = policy.login.timeout;
    PSC_TRY(start_flow(p, *flow, policy));
    if (!p.deadline)
        PSC_TRY(arm_deadline(p, policy.login.timeout));
    return {};
}

// The directory's answer for a login that waited for it.
void LoginEngine::on_account(BackendLoginId id, Result<ManagedAccount> account) {
    auto it = logins_.find(id);
    if (it == logins_.end() || it->second->outcome)
        return;
    Pending& p = *it->second;
    p.account_lookup = 0;
    Status st;
    if (account) {
        p.subject.account = std::move(*account);
        st = begin(p);
    } else {
        st = std::move(account).error();
    }
    if (!st) {
        // The login never started: `started` gets the refusal as it is (an unmapped account
        // stays unknown_user, so the next PAM module serves it).
        post(id);
        p.outcome = LoginOutcome(std::move(st).error());
        return;
    }
    if (!p.state_key.empty())
        by_state_.emplace(p.state_key, id);
    if (p.display_ready)
        post(id);
}

// The flows' first answers: the display goes out from the event loop (never from inside start()).
void LoginEngine::announce(BackendLoginId id) {
    auto it = logins_.find(id);
    if (it == logins_.end() || it->second->display_ready)
        return;
    it->second->display_ready = true;
    post(id);
}

void LoginEngine::post(BackendLoginId id) {
    events_.push_back(id);
    (void)sd_event_source_set_enabled(defer_.get(), SD_EVENT_ONESHOT);
}

Status LoginEngine::start_flow(Pending& p, Flow flow, const ServicePolicy& policy) {
    const BackendLoginId id = p.id;
    auto on_done = [this, id](LoginOutcome r) { complete(id, std::move(r)); };
    LoginDisplay& display = p.display;
    switch (flow) {
    case Flow::code: {
        auto code = CodeLogin::create(p.gen->ctx, id, p.subject, redirect_uri_, confirm_callbacks_,
                                      std::move(on_done));
        if (!code)
            return std::move(code).error();
        p.state = (*code)->state();
        auto key = sha256(p.state);
        if (!key)
            return std::move(key).error();
        p.state_key = std::move(*key);
        display.url = (*code)->url();
        display.qr = (*code)->url();
        display.accepts_paste = true;
        display.confirm_code = confirm_callbacks_;
        p.flow = std::move(*code);
        p.display_ready = true; // nothing to wait for: the address is ours
        return {};
    }
    case Flow::ciba: {
        // Before anything reaches the phone: push fatigue is an attack on the person.
        PSC_TRY(pushes_.admit(p.subject.request.user, !p.subject.request.rhost.empty(), now_usec()));
        // No URL: the user answers on the phone or CPS-Gestion, matching the two digits; the
        // display waits for the provider's acceptance, which says when the push expires.
        auto on_started = [this, id](std::chrono::seconds expires_in) {
            if (auto it = logins_.find(id); it != logins_.end())
                it->second->display.expires_in =
                    std::min(it->second->display.expires_in, expires_in);
            announce(id);
        };
        auto ciba = CibaLogin::create(p.gen->ctx, id, p.subject, policy.login.ciba_channel,
                                      std::move(on_started), std::move(on_done));
        if (!ciba)
            return std::move(ciba).error();
        display.binding_code = (*ciba)->binding_code();
        p.flow = std::move(*ciba);
        return {};
    }
    case Flow::device: {
        // RFC 8628 §3.3: the URI and code to type; §3.3.1: the complete URI for a QR code. They
        // are the provider's answer, which the loop waits for without blocking.
        auto on_started = [this, id] {
            auto it = logins_.find(id);
            if (it == logins_.end())
                return;
            const auto* dev = std::get_if<std::unique_ptr<DeviceLogin>>(&it->second->flow);
            if (!dev || !*dev)
                return;
            LoginDisplay& d = it->second->display;
            d.url = (*dev)->verification_uri();
            d.qr = (*dev)->verification_uri_complete();
            d.user_code = (*dev)->user_code();
            d.expires_in = std::min(d.expires_in, (*dev)->expires_in());
            announce(id);
        };
        auto device = DeviceLogin::create(p.gen->ctx, id, p.subject, std::move(on_started),
                                          std::move(on_done));
        if (!device)
            return std::move(device).error();
        p.flow = std::move(*device);
        return {};
    }
    }
    return make_error(Errc::internal, "flow_unknown", "unknown flow");
}

Status LoginEngine::arm_deadline(Pending& p, std::chrono::seconds timeout) {
    sd_event_source* s = nullptr;
    const auto usec = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
    if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, usec, kTimerAccuracyUsec,
                                   &on_deadline, &p) < 0)
        return make_error(Errc::internal, "event_source", "cannot add the login's deadline");
    p.deadline = SdEventSourcePtr(s);
    return {};
}

std::uint64_t LoginEngine::now_usec() const noexcept {
    std::uint64_t now = 0;
    (void)sd_event_now(event_, CLOCK_MONOTONIC, &now);
    return now;
}

int LoginEngine::on_deadline(sd_event_source* s, uint64_t, void* userdata) noexcept {
    auto* p = static_cast<Pending*>(userdata);
    try {
        p->engine->complete(p->id, make_error(Errc::timeout, "login_timeout",
                                              "no answer before the login's deadline"));
    } catch (...) {
        // Out of memory: the deadline is the login's backstop, so it tries again in a second.
        if (sd_event_source_set_time_relative(s, 1'000'000) >= 0)
            (void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
    }
    return 0;
}

CallbackReply LoginEngine::on_request(std::string_view target) {
    CallbackLimits limits;
    limits.max_bytes = gen_->cfg.limits.callback_max_request;
    auto resp = parse_callback_target(target, limits);
    if (!resp)
        return {CallbackReply::Page::unknown_login, {}};
    // Only the state picks a login: a request without a live state (a flood, a replay, a forged
    // link) touches nothing. One hash lookup whatever the number of logins; the key is a digest,
    // so the lookup compares no secret, and the state itself is then compared in constant time.
    auto key = sha256(resp->state);
    if (!key)
        return {CallbackReply::Page::unknown_login, {}};
    auto idx = by_state_.find(*key);
    if (idx == by_state_.end())
        return {CallbackReply::Page::unknown_login, {}};
    auto it = logins_.find(idx->second);
    if (it == logins_.end() || it->second->outcome || !it->second->code() ||
        !Secret(it->second->state).equals(resp->state))
        return {CallbackReply::Page::unknown_login, {}};
    return it->second->code()->on_callback(std::move(*resp));
}

namespace {

// The first JWKS waiter slot of a back-channel refetch (logins use their ids from 1, a refresh 0).
constexpr std::uint64_t kBackchannelWaiter = ~std::uint64_t{0};

BackchannelReply backchannel_refusal(const Error& e) {
    // Back-Channel Logout §2.8: 400 with an OAuth-style error; the reason token, never input.
    return {400, R"({"error":"invalid_request","error_description":")" + e.reason + "\"}", {}};
}

} // namespace

BackchannelReply LoginEngine::on_backchannel(std::string_view content_type,
                                             std::string_view body) {
    if (gen_->cfg.callback.backchannel_logout_action == BackchannelAction::none)
        return {501, R"({"error":"not_supported"})", {}};
    if (http_media_type(content_type) != "application/x-www-form-urlencoded")
        return answer_logout(make_error(Errc::invalid, "backchannel_content_type",
                                        "back-channel logout: the body is not a form"));
    auto params = parse_query(body, gen_->cfg.limits.jwt_max_bytes * 2 + 64);
    const std::string* token = params ? query_find(*params, "logout_token") : nullptr;
    if (!token || token->empty())
        return answer_logout(make_error(Errc::invalid, "backchannel_no_token",
                                        "back-channel logout: no single logout_token parameter"));
    const std::string_view compact = trim(*token);
    auto t = check_logout_token(*gen_, compact);
    if (!t && t.error().reason == "jws_unknown_kid" &&
        backchannel_waits_.size() < kMaxBackchannelWaits) {
        // The provider may have rotated its keys: the answer waits for one rate-limited refetch
        // (the listener's hold_timeout at most; then the provider gets this refusal, and the
        // token is still acted on once the keys come).
        const std::uint64_t waiter = kBackchannelWaiter - next_backchannel_wait_++;
        auto deferred = std::make_shared<DeferredBackchannel>();
        // Registered first: a fetch that cannot start reports at once, from inside refetch_keys.
        backchannel_waits_.emplace(waiter, BackchannelWait{gen_, std::string(compact), deferred});
        if (gen_->provider->refetch_keys(waiter, [this, waiter](Status fetched) {
                on_backchannel_keys(waiter, std::move(fetched));
            })) {
            BackchannelReply reply = backchannel_refusal(t.error());
            reply.deferred = std::move(deferred);
            return reply;
        }
        backchannel_waits_.erase(waiter); // no refetch allowed now: refused at once
    }
    return answer_logout(std::move(t));
}

Result<LogoutToken> LoginEngine::check_logout_token(const Generation& g,
                                                    std::string_view token) const {
    const Config& cfg = g.cfg;
    const ProviderState& provider = *g.provider;
    if (!provider.ready())
        return provider.not_ready_error();
    auto idp = id_token_policy(cfg, provider.metadata(), std::nullopt, g.ctx.client_secret);
    if (!idp)
        return std::move(idp).error();
    LogoutTokenPolicy pol;
    pol.issuer = provider.metadata().issuer;
    pol.client_id = cfg.provider.client_id;
    pol.clock_skew = cfg.provider.clock_skew;
    pol.max_token_age = cfg.provider.max_token_age;
    pol.jws = idp->jws;
    pol.jws.decryption = g.ctx.decryption;
    pol.json_max_depth = cfg.limits.json_max_depth;
    return validate_logout_token(token, provider.jwks().keys(), pol,
                                 static_cast<std::int64_t>(std::time(nullptr)));
}

// A checked logout token, or why the request is refused, becomes the answer; both are reported.
BackchannelReply LoginEngine::answer_logout(Result<LogoutToken> t) {
    auto refuse = [this](Error e) {
        BackchannelReply reply = backchannel_refusal(e);
        if (backchannel_)
            backchannel_(std::move(e));
        return reply;
    };
    if (!t)
        return refuse(std::move(t).error());
    const Config& cfg = gen_->cfg;
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    const std::int64_t forget_at =
        t->iat + cfg.provider.max_token_age.count() + 2 * cfg.provider.clock_skew.count();
    if (!logout_jtis_.remember(t->iss, t->jti, forget_at, now))
        return refuse(make_error(Errc::invalid, "logout_token_replayed",
                                 "back-channel logout: this logout token (jti) was already used"));
    if (backchannel_)
        backchannel_(BackchannelLogout{t->iss, t->sid.value_or(""), t->sub.value_or(""), t->jti,
                                       cfg.callback.backchannel_logout_action});
    return {200, {}, {}};
}

// The JWKS refetch a logout token waited for is over: the token is checked again against the
// keys of the generation it started with (a failed fetch refuses it with the fetch's reason).
void LoginEngine::on_backchannel_keys(std::uint64_t waiter, Status fetched) {
    auto it = backchannel_waits_.find(waiter);
    if (it == backchannel_waits_.end())
        return;
    BackchannelWait w = std::move(it->second);
    backchannel_waits_.erase(it);
    Result<LogoutToken> t = fetched ? check_logout_token(*w.gen, w.token)
                                    : Result<LogoutToken>(std::move(fetched).error());
    w.answer->complete(answer_logout(std::move(t)));
    // Called from inside the provider's fetch: a generation a reload retired meanwhile must not
    // end here, under its own provider's feet. The loop's next turn lets it go.
    retired_.push_back(std::move(w.gen));
    (void)sd_event_source_set_enabled(defer_.get(), SD_EVENT_ONESHOT);
}

bool LoginEngine::awaiting_confirmation(BackendLoginId id) const {
    auto it = logins_.find(id);
    return it != logins_.end() && !it->second->outcome && it->second->code() &&
           it->second->code()->awaiting_confirmation();
}

Status LoginEngine::submit_callback(BackendLoginId id, std::string_view address) {
    auto it = logins_.find(id);
    if (it == logins_.end() || it->second->outcome)
        return make_error(Errc::invalid, "login_unknown", "no such pending login");
    CodeLogin* code = it->second->code();
    if (!code)
        return make_error(Errc::invalid, "flow_no_paste", "this flow takes no pasted address");
    return code->on_paste(address);
}

Status LoginEngine::refresh_provider(RefreshDone done) {
    return gen_->provider->refresh([done = std::move(done)](Status outcome) {
        if (outcome.ok() || outcome.error().code == Errc::unavailable)
            return done(std::move(outcome));
        Error e = std::move(outcome).error();
        e.code = Errc::unavailable;
        done(std::move(e));
    });
}

void LoginEngine::cancel(BackendLoginId id) noexcept {
    logins_.erase(id); // destroys the flow: its HTTP exchange is cancelled, done is never called
}

void LoginEngine::complete(BackendLoginId id, LoginOutcome r) {
    auto it = logins_.find(id);
    if (it == logins_.end() || it->second->outcome)
        return;
    // Once a login has started, its account is one psc-login manages: nothing that happens next
    // (a provider's unknown_user_id, a vanished account) may hand it to the next PAM module.
    if (!r.result && r.result.error().code == Errc::unknown_user) {
        Error e = std::move(r.result).error();
        e.code = Errc::denied;
        r.result = std::move(e);
    }
    // A push refused on the phone: no more pushes from that side for a while.
    const Pending& p = *it->second;
    if (!r.result && r.result.error().reason == "access_denied" &&
        std::holds_alternative<std::unique_ptr<CibaLogin>>(p.flow))
        pushes_.denied(p.subject.request.user, !p.subject.request.rhost.empty(), now_usec());
    // Posted before it is recorded: if posting fails (out of memory), no outcome is left stranded
    // undelivered, and the deadline (or the flow's own retry) still ends the login.
    post(id);
    it->second->outcome = std::move(r);
}

// Nothing may cross sd-event's C callback.
template <class Fn, class Arg>
void LoginEngine::call(Fn& fn, Arg arg) noexcept {
    if (!fn)
        return;
    try {
        fn(std::move(arg));
    } catch (...) {
    }
}

int LoginEngine::on_defer(sd_event_source*, void* userdata) noexcept {
    auto* self = static_cast<LoginEngine*>(userdata);
    self->retired_.clear();
    try {
        if (self->reload_finished_)
            self->finish_reload();
        self->deliver();
    } catch (...) {
        // A login whose news could not be delivered ends at its deadline.
    }
    return 0;
}

// Runs the callbacks of every login with news, in order: its display first (a login that ends
// before it could be shown never started: `started` gets the error and `done` is never called),
// then its outcome. The login is looked up again after each callback, which may cancel it.
void LoginEngine::deliver() {
    std::vector<BackendLoginId> ids;
    ids.swap(events_); // no allocation: a callback may post news again meanwhile
    for (BackendLoginId id : ids) {
        auto it = logins_.find(id);
        if (it == logins_.end()) // cancelled meanwhile: nothing is called
            continue;
        Pending& p = *it->second;
        if (!p.display_sent) {
            if (p.display_ready) {
                p.display_sent = true;
                LoginStartedCb started = std::move(p.started);
                LoginDisplay display = p.display;
                call(started, Result<LoginDisplay>(std::move(display)));
                it = logins_.find(id);
                if (it == logins_.end())
                    continue;
            } else if (p.outcome) {
                std::unique_ptr<Pending> gone = std::move(it->second);
                logins_.erase(it);
                Result<LoginSuccess> r = std::move(gone->outcome->result);
                LoginStartedCb started = std::move(gone->started);
                gone.reset();
                call(started, Result<LoginDisplay>(r ? make_error(Errc::internal, "start_order",
                                                                  "finished before it started")
                                                     : std::move(r).error()));
                continue;
            } else {
                continue;
            }
        }
        if (!it->second->outcome)
            continue;
        std::unique_ptr<Pending> done_login = std::move(it->second);
        logins_.erase(it);
        LoginOutcome r = std::move(*done_login->outcome);
        LoginDone done = std::move(done_login->done);
        done_login.reset(); // the flow and its requests go before done runs (done may start another)
        call(done, std::move(r));
    }
}

} // namespace psc

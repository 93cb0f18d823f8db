// SPDX-License-Identifier: LGPL-2.1-or-later
// The bus layer (AuthBus) served in-process on a private bus for the org.psclogin.Auth1 tests: a
// scripted LoginBackend, a LogSink that captures the audit events, and the sd-event loop on a
// thread of its own. One Fixture per test executable (group setup/teardown); each test gets a
// fresh client connection (setup/teardown) and starts from an empty login registry.
#pragma once

#include "audit.hpp"
#include "auth_bus.hpp"
#include "bus_harness.hpp"
#include "errors.hpp"
#include "event_loop.hpp"
#include "testing.hpp"

#include <atomic>
#include <functional>
#include <mutex>
#include <sys/types.h>

namespace psc::bustest {

inline constexpr uid_t kClaireUid = 1001; // tests/data/nss/passwd

// ---- the scripted backend (runs on the service thread) --------------------------------------
// Scripted by rhost: "ok" succeeds, "fail:<label>" fails with that Errc, "refuse" fails start()
// itself, "startfail:<label>" fails the start later (the provider refused the first request),
// "slowstart" shows its display only after 1 s, anything else stays pending. SubmitCallback
// "bad" is rejected, anything else succeeds.
class ScriptedBackend final : public LoginBackend {
public:
    explicit ScriptedBackend(sd_event* ev) : event_(ev) {}

    std::vector<std::string> flows_for(std::string_view service) const override {
        if (service == "throw")
            throw std::runtime_error("scripted failure");
        return {"code", "ciba"};
    }

    // Scripted by user name: "unmanaged" is not an account psc-login manages.
    static Status account(const std::string& user) {
        if (user == "unmanaged")
            return make_error(Errc::unknown_user, "user_unmapped", "scripted");
        return {};
    }
    void check_account(const std::string& user, std::function<void(Status)> done) override {
        done(account(user));
    }

    Result<BackendLoginId> start(const LoginRequest& req, LoginStartedCb started,
                                 LoginDone done) override {
        if (auto st = account(req.user); !st)
            return st.error();
        if (req.rhost == "refuse")
            return make_error(Errc::unavailable, "scripted_refusal", "refused");
        const BackendLoginId id = ++next_;
        Live& live = live_[id];
        live.done = std::move(done);
        live.started = std::move(started);
        if (req.rhost.rfind("startfail:", 0) == 0) {
            live.display = failure(req.rhost.substr(10)).error();
        } else {
            LoginDisplay d;
            d.flow = req.flow.empty() ? "code" : req.flow;
            d.url = "https://idp.example.org/auth?x=1";
            d.qr = d.url;
            d.expires_in = std::chrono::seconds(180);
            d.accepts_paste = true;
            live.display = std::move(d);
        }
        start_later(id, req.rhost == "slowstart" ? 1'000'000 : 1'000);
        if (req.rhost == "ok")
            finish_later(id, LoginSuccess{req.user, "810001234567", "", "10", "CARD",
                                          std::make_shared<const Secret>("scripted.id.token"),
                                          "scripted-sid", "scripted-sub", {}});
        else if (req.rhost.rfind("fail:", 0) == 0)
            finish_later(id, failure(req.rhost.substr(5)));
        return id;
    }

    Status submit_callback(BackendLoginId id, std::string_view address) override {
        if (address == "bad")
            return make_error(Errc::invalid, "state_mismatch", "callback does not match");
        finish_later(id, LoginSuccess{"claire", "810001234567", "", "10", "CARD",
                                      std::make_shared<const Secret>("scripted.id.token"),
                                      "scripted-sid", "scripted-sub", {}});
        return {};
    }

    // Scripted by refresh_mode: ok (after 20 ms), fail (Unavailable after 20 ms), refuse (at
    // once, jwks_rate_limited), slow (ok after 1.5 s).
    enum RefreshMode { refresh_ok, refresh_fail, refresh_refuse, refresh_slow };
    Status refresh_provider(RefreshDone done) override {
        const int mode = refresh_mode.load();
        if (mode == refresh_refuse)
            return make_error(Errc::busy, "jwks_rate_limited", "scripted");
        refreshes.fetch_add(1);
        refresh_done_ = std::move(done);
        refresh_outcome_ = mode == refresh_fail
                               ? Status(make_error(Errc::unavailable, "jwks_fetch", "scripted"))
                               : Status();
        sd_event_source* s = nullptr;
        const std::uint64_t delay = mode == refresh_slow ? 1'500'000 : 20'000;
        if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, delay, 1, on_refresh, this) < 0)
            return make_error(Errc::internal, "scripted_timer");
        refresh_timer_.reset(s);
        return {};
    }

    void cancel(BackendLoginId id) noexcept override {
        auto it = live_.find(id);
        if (it != live_.end()) {
            pending_fire_.erase(it->second.timer.get());
            pending_start_.erase(it->second.start_timer.get());
            live_.erase(it);
        }
        cancelled_.fetch_add(1);
    }

    std::atomic<int> cancelled_{0};
    std::atomic<int> refresh_mode{refresh_ok};
    std::atomic<int> refreshes{0};

private:
    struct Live {
        LoginDone done;
        SdEventSourcePtr timer;
        std::optional<Result<LoginSuccess>> outcome;
        LoginStartedCb started;
        Result<LoginDisplay> display = LoginDisplay{};
        SdEventSourcePtr start_timer;
    };

    // started() fires from the loop too, before done().
    void start_later(BackendLoginId id, std::uint64_t usec) {
        sd_event_source* s = nullptr;
        if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, usec, 1, on_start, this) < 0)
            return;
        pending_start_[s] = id;
        live_[id].start_timer.reset(s);
    }

    static int on_start(sd_event_source* s, uint64_t, void* userdata) noexcept {
        auto* self = static_cast<ScriptedBackend*>(userdata);
        const BackendLoginId id = self->pending_start_[s];
        self->pending_start_.erase(s);
        auto it = self->live_.find(id);
        if (it == self->live_.end())
            return 0;
        auto started = std::move(it->second.started);
        Result<LoginDisplay> d = it->second.display;
        if (!d)
            self->live_.erase(it); // never started: done is never called
        if (started)
            started(std::move(d));
        return 0;
    }

    static Result<LoginSuccess> failure(const std::string& label) {
        for (int c = 0; c <= static_cast<int>(Errc::internal); ++c)
            if (errc_label(static_cast<Errc>(c)) == label)
                return make_error(static_cast<Errc>(c), "scripted_" + label, "scripted");
        return make_error(Errc::internal, "bad_script");
    }

    // done() fires from the loop, never from inside start()/submit_callback() (the contract).
    void finish_later(BackendLoginId id, Result<LoginSuccess> outcome) {
        auto it = live_.find(id);
        if (it == live_.end())
            return;
        it->second.outcome.emplace(std::move(outcome));
        sd_event_source* s = nullptr;
        if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, 40'000, 1, on_fire, this) < 0)
            return;
        pending_fire_[s] = id;
        it->second.timer.reset(s);
    }

    static int on_fire(sd_event_source* s, uint64_t, void* userdata) noexcept {
        auto* self = static_cast<ScriptedBackend*>(userdata);
        const BackendLoginId id = self->pending_fire_[s];
        self->pending_fire_.erase(s);
        auto it = self->live_.find(id);
        if (it == self->live_.end())
            return 0;
        Live live = std::move(it->second);
        self->live_.erase(it);
        live.done(std::move(*live.outcome));
        return 0;
    }

    static int on_refresh(sd_event_source*, uint64_t, void* userdata) noexcept {
        auto* self = static_cast<ScriptedBackend*>(userdata);
        auto done = std::move(self->refresh_done_);
        self->refresh_done_ = nullptr;
        if (done)
            done(self->refresh_outcome_);
        return 0;
    }

    sd_event* event_;
    RefreshDone refresh_done_;
    Status refresh_outcome_;
    SdEventSourcePtr refresh_timer_;
    BackendLoginId next_ = 0;
    std::map<BackendLoginId, Live> live_;
    std::map<sd_event_source*, BackendLoginId> pending_fire_;
    std::map<sd_event_source*, BackendLoginId> pending_start_;
};

// ---- the audit events, captured (written on the service thread, read by the tests) -----------
class CapturingSink final : public LogSink {
public:
    void audit(const AuditEvent& e) noexcept override {
        std::lock_guard lock(mu_);
        events_.push_back(e);
    }
    std::vector<AuditEvent> events() {
        std::lock_guard lock(mu_);
        return events_;
    }

private:
    std::mutex mu_;
    std::vector<AuditEvent> events_;
};

// ---- the in-process service ----------------------------------------------------------------
struct Service {
    Config cfg;
    SdBusPtr bus;
    SdEventPtr event;
    std::unique_ptr<ScriptedBackend> backend;
    CapturingSink sink;
    std::unique_ptr<AuthBus> auth;
    SdEventSourcePtr command_source;
    int command_fds[2] = {-1, -1};
    std::thread thread;

    static int on_command(sd_event_source*, int fd, uint32_t, void* userdata) noexcept {
        auto* s = static_cast<Service*>(userdata);
        char c = 0;
        if (read(fd, &c, 1) != 1 || c == 'q')
            return sd_event_exit(s->event.get(), 0);
        if (c == 'c')
            s->auth->cancel_all();
        return 0;
    }
};

struct Fixture {
    PrivateBus bus;
    Service svc;
};

extern Fixture* g;

int group_setup(void**);
int group_teardown(void**);
// Sends a command to the service thread: 'c' = AuthBus::cancel_all() (what SIGTERM does).
void command(char c);
int setup(void** state);
int teardown(void** state);
sd_bus* client(void** state);
uint32_t pending_logins(sd_bus* bus);
void wait_idle(sd_bus* bus);
// Runs `body` as uid/gid 1001 (claire) in a child; the child's exit status is the result
// (0 = as expected).
int as_claire(const std::function<int()>& body);

} // namespace psc::bustest

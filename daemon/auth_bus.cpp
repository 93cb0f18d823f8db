// SPDX-License-Identifier: LGPL-2.1-or-later
// org.psclogin.Auth1 glue (design §5). Shape after systemd's *-bus.c files: methods parse and
// check, then hand over to the backend; deferred replies (WaitLogin, SubmitCallback) keep a
// reference to the call and answer it from the event loop. Nothing here decides a login. Audit
// events go to the LogSink main() chose: one login_start per StartLogin, one login_end per accepted
// login.
#include "auth_bus.hpp"

#include "errors.hpp"
#include "event_loop.hpp"
#include "random.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <pwd.h>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace psc {

// One login started over the bus. Owned by AuthBus::logins_; every source below points back here
// and is owned by it, so none can fire after the login is gone.
struct PendingLogin {
    AuthBus* bus = nullptr;
    std::string id;     // the public login id (random)
    std::string sender; // unique bus name of the connection that started it
    std::string user;
    std::string service;
    std::string rhost;
    std::string tty;
    std::string flow;
    uid_t caller_uid = static_cast<uid_t>(-1);
    BackendLoginId backend_id = 0;
    bool backend_live = true; // false once done fired: cancel() must not be called then
    bool ended = false;       // login_end logged (exactly once per accepted login)
    bool counted = false;     // holds a slot in AuthBus::counts_ (while running)
    std::optional<LoginOutcome> outcome;
    std::uint64_t deadline_usec = 0; // CLOCK_MONOTONIC
    SdBusMessagePtr wait_call;
    SdEventSourcePtr wait_timer;
    SdBusMessagePtr submit_call;
    SdEventSourcePtr safety_timer;
    bool watched = false; // registered with AuthBus::peers_
    bool started = false; // the display was sent: StartLogin has answered
    SdBusMessagePtr start_call; // StartLogin, until the display (or why not) is known
};

// A Logout call waiting for the provider's answers, one per session it ends.
struct LogoutCall {
    SdBusMessagePtr call;
    std::size_t outstanding = 0;
    std::vector<std::pair<std::string, std::string>> results; // session id → "ok" or the error
};

// RefreshProvider calls answered together when the backend's refresh finishes.
struct RefreshCalls {
    std::vector<SdBusMessagePtr> calls;
    bool in_flight = false;
};

namespace {

using SdBusCredsPtr = Owned<sd_bus_creds, sd_bus_creds_unref>;

constexpr std::size_t kMaxErrorMessage = 200;

std::uint64_t usec(std::chrono::seconds s) {
    return static_cast<std::uint64_t>(std::max<std::int64_t>(s.count(), 0)) * 1'000'000;
}

std::uint64_t now_usec(sd_event* event) {
    std::uint64_t now = 0;
    if (sd_event_now(event, CLOCK_MONOTONIC, &now) < 0)
        return 0;
    return now;
}

// The D-Bus error text: "reason: message", capped, so clients (and tests) see the stable token.
std::string bus_error_text(const Error& e) {
    std::string text = e.describe();
    if (text.size() > kMaxErrorMessage)
        text.resize(kMaxErrorMessage);
    std::replace_if(
        text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }, ' ');
    return text;
}

int set_error(sd_bus_error* err, const Error& e) {
    return sd_bus_error_set(err, std::string(dbus_error_name(e.code)).c_str(),
                            bus_error_text(e).c_str());
}

void reply_error(sd_bus_message* call, const Error& e) noexcept {
    try {
        const std::string name(dbus_error_name(e.code));
        (void)sd_bus_reply_method_errorf(call, name.c_str(), "%s", bus_error_text(e).c_str());
    } catch (...) {
        (void)sd_bus_reply_method_errorf(call, "org.psclogin.Auth1.Error.Internal", "internal");
    }
}

AuditEvent audit_event(const PendingLogin& l, AuditKind kind, std::string_view result,
                       std::string_view reason) {
    AuditEvent e;
    e.event = kind;
    e.user = l.user;
    e.service = l.service;
    e.rhost = l.rhost;
    e.tty = l.tty;
    e.flow = l.flow;
    e.result = std::string(result);
    e.reason = std::string(reason);
    e.caller_uid = l.caller_uid;
    e.login_id = l.id;
    return e;
}

// The one login_end of an accepted login: the backend's outcome, or why the bus layer dropped it.
// Once the person is known (a validated ID token) the event names them, refusals included.
void audit_end(LogSink& sink, PendingLogin& l, const LoginOutcome& outcome) noexcept {
    if (l.ended)
        return;
    l.ended = true;
    try {
        const Result<LoginSuccess>& r = outcome.result;
        AuditEvent e = r.ok() ? audit_event(l, AuditKind::login_end, "success", "")
                              : audit_event(l, AuditKind::login_end, errc_label(r.error().code),
                                            r.error().reason);
        e.idnat = r.ok() ? r->idnat : outcome.idnat;
        e.idnat_alias = r.ok() ? r->alias : outcome.alias;
        sink.audit(e);
    } catch (...) {
    }
}

// design §9: every string argument is capped, and none may carry control characters (they would end
// up in logs and prompts).
Status check_arg(std::string_view s, std::size_t max) {
    if (s.size() > max)
        return make_error(Errc::invalid, "arg_too_long", "argument too long");
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            return make_error(Errc::invalid, "arg_control_char",
                              "argument contains a control character");
    return {};
}

// The caller's effective uid as the bus reports it for the sending connection (SO_PEERCRED at
// connect time), never from arguments or /proc.
Result<uid_t> caller_uid(sd_bus_message* m) {
    sd_bus_creds* raw = nullptr;
    int r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &raw);
    SdBusCredsPtr creds(raw);
    uid_t uid = 0;
    if (r >= 0)
        r = sd_bus_creds_get_euid(creds.get(), &uid);
    if (r < 0)
        return make_error(Errc::internal, "caller_creds", "cannot identify the caller");
    return uid;
}

// The admin methods (ListLogins, RefreshProvider) are root's alone.
Status check_caller_root(sd_bus_message* m) {
    auto uid = caller_uid(m);
    if (!uid)
        return std::move(uid).error();
    if (*uid != 0)
        return make_error(Errc::denied, "caller_not_root", "only root may call this method");
    return {};
}

// uid 0 may authenticate anyone; another uid only the account it runs as (a screen locker).
Status check_caller_may_login(uid_t caller, const std::string& user) {
    if (caller == 0)
        return {};
    std::vector<char> buf(16 * 1024);
    struct passwd pw {};
    struct passwd* found = nullptr;
    int r = 0;
    while ((r = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
           buf.size() < 1024 * 1024)
        buf.resize(buf.size() * 2);
    // getpwnam_r(3): "not found" may come back as 0 with no entry or as one of these errors.
    if (r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
        found = nullptr;
    else if (r != 0)
        return make_error(Errc::io, "passwd_lookup", "cannot look up the user");
    if (found == nullptr)
        return make_error(Errc::unknown_user, "unknown_user", "no such user");
    if (found->pw_uid != caller)
        return make_error(Errc::denied, "caller_not_user", "not allowed to log in another user");
    return {};
}

int append_sv(sd_bus_message* m, const char* key, const std::string& value) {
    return sd_bus_message_append(m, "{sv}", key, "s", value.c_str());
}

int append_display(sd_bus_message* m, const LoginDisplay& d) {
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    if (r >= 0)
        r = append_sv(m, "flow", d.flow);
    if (r >= 0)
        r = append_sv(m, "url", d.url);
    if (r >= 0 && !d.qr.empty())
        r = append_sv(m, "qr", d.qr);
    if (r >= 0 && !d.binding_code.empty())
        r = append_sv(m, "binding_code", d.binding_code);
    if (r >= 0 && !d.user_code.empty())
        r = append_sv(m, "user_code", d.user_code);
    if (r >= 0)
        r = sd_bus_message_append(m, "{sv}", "expires_in", "u",
                                  static_cast<std::uint32_t>(d.expires_in.count()));
    if (r >= 0)
        r = sd_bus_message_append(m, "{sv}", "accepts_paste", "b", d.accepts_paste ? 1 : 0);
    if (r >= 0 && d.confirm_code)
        r = sd_bus_message_append(m, "{sv}", "confirm_code", "b", 1);
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    return r;
}

int append_success(sd_bus_message* m, const LoginSuccess& s) {
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    if (r >= 0)
        r = append_sv(m, "user", s.user);
    if (r >= 0)
        r = append_sv(m, "idnat", s.idnat);
    if (r >= 0 && !s.alias.empty())
        r = append_sv(m, "idnat_alias", s.alias);
    if (r >= 0)
        r = append_sv(m, "profession", s.profession);
    if (r >= 0)
        r = append_sv(m, "auth_mode", s.auth_mode);
    if (r >= 0 && !s.session_ticket.empty())
        r = append_sv(m, "session_ticket", s.session_ticket);
    if (r >= 0)
        r = sd_bus_message_close_container(m);
    return r;
}

// Answers a WaitLogin (with_done) or SubmitCallback call with a finished login's outcome.
void deliver(sd_bus_message* call, const LoginOutcome& finished, bool with_done) {
    const Result<LoginSuccess>& outcome = finished.result;
    if (!outcome.ok()) {
        reply_error(call, outcome.error());
        return;
    }
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_return(call, &raw);
    SdBusMessagePtr reply(raw);
    if (r >= 0 && with_done)
        r = sd_bus_message_append(reply.get(), "b", 1);
    if (r >= 0)
        r = append_success(reply.get(), *outcome);
    if (r >= 0)
        r = sd_bus_send(nullptr, reply.get(), nullptr);
    if (r < 0)
        reply_error(call, make_error(Errc::internal, "bus_reply", "cannot send the reply"));
}

} // namespace

AuthBusLimits auth_bus_limits(const Config& cfg) noexcept {
    AuthBusLimits l;
    l.max_pending = cfg.login.max_pending;
    l.max_pending_per_user = cfg.login.max_pending_per_user;
    l.max_pending_per_source = cfg.login.max_pending_per_source;
    l.max_string = cfg.limits.dbus_max_string;
    l.refresh_interval = cfg.limits.jwks_refetch_interval;
    return l;
}

// Every sd-bus/sd-event callback enters through here: noexcept, and an exception becomes
// Error.Internal instead of unwinding through C.
struct AuthBus::Glue {
    using Handler = int (*)(AuthBus&, sd_bus_message*, sd_bus_error*);

    template <Handler H>
    static int method(sd_bus_message* m, void* userdata, sd_bus_error* err) noexcept {
        try {
            return H(*static_cast<AuthBus*>(userdata), m, err);
        } catch (...) {
            return set_error(err, make_error(Errc::internal, "exception", "internal error"));
        }
    }

    static PendingLogin* find_owned(AuthBus& self, sd_bus_message* m, std::string_view id) {
        auto it = self.logins_.find(id);
        const char* sender = sd_bus_message_get_sender(m);
        // Another connection's login answers exactly like a missing one: ids are not probed.
        if (it == self.logins_.end() || sender == nullptr || it->second->sender != sender)
            return nullptr;
        return it->second.get();
    }

    // Forgets a login. If it is still running it is cancelled in the backend and the pending
    // calls are answered with `why`.
    static void drop(AuthBus& self, const std::string& id, const Error& why) noexcept {
        auto it = self.logins_.find(id);
        if (it == self.logins_.end())
            return;
        std::unique_ptr<PendingLogin> l = std::move(it->second);
        self.logins_.erase(it);
        forget(self, *l);
        if (l->backend_live)
            self.backend_.cancel(l->backend_id);
        if (l->start_call)
            reply_error(l->start_call.get(), why);
        if (l->wait_call)
            reply_error(l->wait_call.get(), why);
        if (l->submit_call)
            reply_error(l->submit_call.get(), why);
        try {
            if (l->started)
                audit_end(self.audit_, *l, LoginOutcome(why));
            else { // it never started: one login_start event with why
                l->id.clear();
                self.audit_.audit(audit_event(*l, AuditKind::login_start, errc_label(why.code),
                                              why.reason));
            }
        } catch (...) { // copying the error may throw; drop() may not
        }
    }

    // A login leaves the registry: its slot and its caller watch go.
    static void forget(AuthBus& self, PendingLogin& l) noexcept {
        uncount(self, l);
        if (l.watched && self.peers_)
            self.peers_->remove(l.sender, l.id);
        l.watched = false;
    }

    static void on_callers_left(AuthBus& self, const std::vector<std::string>& ids) {
        for (const auto& id : ids)
            drop(self, id, make_error(Errc::cancelled, "caller_left", "caller left the bus"));
    }

    static int on_safety(sd_event_source*, std::uint64_t, void* userdata) noexcept {
        auto* l = static_cast<PendingLogin*>(userdata);
        try {
            const std::string id = l->id;
            drop(*l->bus, id, make_error(Errc::timeout, "login_timeout", "login timed out"));
        } catch (...) {
        }
        return 0;
    }

    static std::uint32_t remaining_s(const PendingLogin& l) {
        const std::uint64_t now = now_usec(l.bus->event_);
        return l.deadline_usec > now
                   ? static_cast<std::uint32_t>((l.deadline_usec - now) / 1'000'000)
                   : 0;
    }

    static void reply_pending(sd_bus_message* call, const PendingLogin& l) {
        const bool confirm = l.bus->backend_.awaiting_confirmation(l.backend_id);
        int r = sd_bus_reply_method_return(call, "ba{sv}", 0, 2, "remaining", "u", remaining_s(l),
                                           "confirm", "b", confirm ? 1 : 0);
        if (r < 0)
            reply_error(call, make_error(Errc::internal, "bus_reply", "cannot send the reply"));
    }

    static int on_wait_timer(sd_event_source*, std::uint64_t, void* userdata) noexcept {
        auto* l = static_cast<PendingLogin*>(userdata);
        try {
            SdBusMessagePtr call = std::move(l->wait_call);
            l->wait_timer.reset();
            if (call)
                reply_pending(call.get(), *l);
        } catch (...) {
        }
        return 0;
    }

    static void uncount(AuthBus& self, PendingLogin& l) noexcept {
        if (l.counted)
            self.counts_.remove(CountKey{l.user, l.rhost});
        l.counted = false;
    }

    static void on_done(AuthBus& self, const std::string& id, LoginOutcome outcome) {
        auto it = self.logins_.find(id);
        if (it == self.logins_.end())
            return; // cancelled meanwhile
        PendingLogin& l = *it->second;
        l.backend_live = false;
        uncount(self, l); // an uncollected outcome holds no slot
        if (outcome.result)
            record_session(self, l, *outcome.result);
        l.outcome.emplace(std::move(outcome));
        audit_end(self.audit_, l, *l.outcome);
        if (!l.wait_call && !l.submit_call)
            return; // kept until the owner asks (or the safety timer fires)
        if (l.wait_call)
            deliver(l.wait_call.get(), *l.outcome, true);
        if (l.submit_call)
            deliver(l.submit_call.get(), *l.outcome, false);
        erase(self, id);
    }

    // A successful login leaves a session ticket for the PAM stack (OpenSession). The ID token
    // stays in the store, never on the bus. Without randomness there is no ticket: the login
    // still succeeds, its session is just not recorded.
    static void record_session(AuthBus& self, const PendingLogin& l, LoginSuccess& s) {
        SessionRecord r;
        r.user = s.user;
        r.idnat = s.idnat;
        r.service = l.service;
        r.rhost = l.rhost;
        r.tty = l.tty;
        r.sid = s.sid;
        r.sub = s.sub;
        r.caller_uid = l.caller_uid;
        r.id_token = std::move(s.id_token);
        r.logout_on_close = self.cfg_.login_for(l.service).logout_on_session_close;
        auto ticket = self.sessions_.add(std::move(r), now_usec(self.event_));
        if (ticket)
            s.session_ticket = std::move(*ticket);
    }

    static std::uint64_t realtime_usec() {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
    }

    static void audit_session(AuthBus& self, AuditKind kind, const std::string& id,
                              const std::string& user, const std::string& idnat,
                              const std::string& service, const Status& st, uid_t caller) noexcept {
        try {
            AuditEvent e;
            e.event = kind;
            e.user = user;
            e.idnat = idnat;
            e.service = service;
            e.session_id = id;
            e.caller_uid = caller;
            e.result = st ? "success" : std::string(errc_label(st.error().code));
            e.reason = st ? "" : st.error().reason;
            self.audit_.audit(e);
        } catch (...) {
        }
    }

    // OpenSession(ticket, logind_session): the PAM session stack of the caller that started the
    // login opens the session it left.
    static int open_session(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        const char* ticket = nullptr;
        const char* logind = nullptr;
        int r = sd_bus_message_read(m, "ss", &ticket, &logind);
        if (r < 0)
            return r;
        for (const char* s : {ticket, logind})
            if (auto st = check_arg(s, self.limits_.max_string); !st)
                return set_error(err, st.error());
        auto uid = caller_uid(m);
        if (!uid)
            return set_error(err, uid.error());
        auto s = self.sessions_.open(ticket, *uid, logind, now_usec(self.event_), realtime_usec());
        if (!s)
            return set_error(err, s.error());
        audit_session(self, AuditKind::session_open, (*s)->id, (*s)->user, (*s)->idnat,
                      (*s)->service, {}, *uid);
        return sd_bus_reply_method_return(m, "");
    }

    // CloseSession(ticket): the session ends; with logout_on_session_close the provider's session
    // ends too (best effort: the PAM session's end never waits for the provider).
    static int close_session(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        const char* ticket = nullptr;
        int r = sd_bus_message_read(m, "s", &ticket);
        if (r < 0)
            return r;
        if (auto st = check_arg(ticket, self.limits_.max_string); !st)
            return set_error(err, st.error());
        auto uid = caller_uid(m);
        if (!uid)
            return set_error(err, uid.error());
        auto rec = self.sessions_.close(ticket, *uid);
        if (!rec)
            return set_error(err, rec.error());
        audit_session(self, AuditKind::session_close, rec->id, rec->user, rec->idnat, rec->service,
                      {}, *uid);
        if (rec->logout_on_close && !rec->ended_at_provider && rec->id_token)
            start_logout(self, {rec->id, rec->user, rec->idnat, rec->service, rec->id_token},
                         nullptr, *uid);
        return sd_bus_reply_method_return(m, "");
    }

    // A logout token from the provider (back-channel): a refusal is audited with its reason; an
    // accepted one ends the matching sessions at the provider and locks or terminates their
    // logind sessions, each audited once logind answered.
    struct LogindCall {
        AuthBus* bus;
        std::weak_ptr<bool> alive;
        SessionStore::ProviderEnded session;
        std::string method;
    };

    static void audit_backchannel(AuthBus& self, const SessionStore::ProviderEnded& s,
                                  const Status& st) noexcept {
        audit_session(self, AuditKind::backchannel_logout, s.id, s.user, s.idnat, s.service, st,
                      static_cast<uid_t>(-1));
    }

    static int on_logind_reply(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
        auto* c = static_cast<LogindCall*>(userdata);
        if (c->alive.expired())
            return 0;
        const sd_bus_error* e = sd_bus_message_get_error(m);
        if (e)
            audit_backchannel(*c->bus, c->session,
                              make_error(Errc::internal, "logind_refused",
                                         "logind " + c->method + " " + c->session.logind_session +
                                             ": " + (e->name ? e->name : "") + ": " +
                                             (e->message ? e->message : "")));
        else
            audit_backchannel(*c->bus, c->session, {});
        return 0;
    }

    static void on_backchannel(AuthBus& self,
                               Result<LoginBackend::BackchannelLogout> logout) noexcept {
        try {
            if (!logout) {
                audit_backchannel(self, {}, std::move(logout).error());
                return;
            }
            auto ended = self.sessions_.end_by_provider(logout->sid, logout->sub);
            if (ended.empty())
                audit_backchannel(self, {"", "(no open session)", "", "", ""}, {});
            const char* method =
                logout->action == BackchannelAction::terminate ? "TerminateSession" : "LockSession";
            for (auto& s : ended) {
                if (s.logind_session.empty()) {
                    audit_backchannel(self, s,
                                      make_error(Errc::invalid, "backchannel_no_logind_session",
                                                 "the session has no logind session id: it was "
                                                 "ended at the provider but cannot be " +
                                                     std::string(logout->action ==
                                                                         BackchannelAction::terminate
                                                                     ? "terminated"
                                                                     : "locked")));
                    continue;
                }
                auto call = std::make_unique<LogindCall>(
                    LogindCall{&self, self.alive_, s, method});
                sd_bus_slot* slot = nullptr;
                const int r = sd_bus_call_method_async(
                    self.bus_, &slot, "org.freedesktop.login1", "/org/freedesktop/login1",
                    "org.freedesktop.login1.Manager", method, &on_logind_reply, call.get(), "s",
                    s.logind_session.c_str());
                if (r < 0) {
                    audit_backchannel(self, s,
                                      make_error(Errc::internal, "logind_call",
                                                 std::string("cannot call logind ") + method +
                                                     ": " + std::to_string(-r)));
                    continue;
                }
                (void)sd_bus_slot_set_destroy_callback(
                    slot, [](void* p) { delete static_cast<LogindCall*>(p); });
                (void)sd_bus_slot_set_floating(slot, 1);
                (void)call.release(); // owned by the slot now
            }
        } catch (...) {
        }
    }

    // One end_session request; its outcome is audited and, for a Logout call, collected.
    static void start_logout(AuthBus& self, SessionStore::Ending e,
                             const std::shared_ptr<LogoutCall>& call, uid_t caller) {
        std::weak_ptr<LogoutCall> weak = call;
        std::weak_ptr<bool> alive = self.alive_;
        AuthBus* bus = &self;
        auto finish = [bus, alive, weak, e, caller, has_call = call != nullptr](Status st) {
            if (alive.expired())
                return; // the bus layer is gone (shutdown)
            audit_session(*bus, AuditKind::logout, e.id, e.user, e.idnat, e.service, st, caller);
            if (!has_call)
                return;
            auto c = weak.lock();
            if (!c)
                return;
            c->results.emplace_back(e.id, st ? "ok" : st.error().describe());
            if (--c->outstanding == 0)
                answer_logout(*bus, *c);
        };
        auto st = self.backend_.end_provider_session(e.id_token, finish);
        if (!st)
            finish(std::move(st).error());
    }

    static void answer_logout(AuthBus& self, LogoutCall& c) noexcept {
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_return(c.call.get(), &raw);
        SdBusMessagePtr reply(raw);
        if (r >= 0)
            r = sd_bus_message_open_container(reply.get(), 'a', "(ss)");
        for (const auto& [id, outcome] : c.results)
            if (r >= 0)
                r = sd_bus_message_append(reply.get(), "(ss)", id.c_str(), outcome.c_str());
        if (r >= 0)
            r = sd_bus_message_close_container(reply.get());
        if (r >= 0)
            r = sd_bus_send(nullptr, reply.get(), nullptr);
        if (r < 0)
            reply_error(c.call.get(), make_error(Errc::internal, "bus_reply", "cannot reply"));
        for (auto it = self.logout_calls_.begin(); it != self.logout_calls_.end(); ++it)
            if (it->second.get() == &c) {
                self.logout_calls_.erase(it);
                break;
            }
    }

    // Logout(user, session_id): root only. Ends at the provider the open sessions of `user` (or
    // the one session `session_id`) and answers once the provider answered for each: a(ss) of
    // (session id, "ok" or "reason: message").
    static int logout(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        if (auto st = check_caller_root(m); !st)
            return set_error(err, st.error());
        const char* user = nullptr;
        const char* id = nullptr;
        int r = sd_bus_message_read(m, "ss", &user, &id);
        if (r < 0)
            return r;
        for (const char* s : {user, id})
            if (auto st = check_arg(s, self.limits_.max_string); !st)
                return set_error(err, st.error());
        if ((*user == '\0') == (*id == '\0'))
            return set_error(err, make_error(Errc::invalid, "logout_args",
                                             "name either a user or a session id"));
        auto ending = self.sessions_.end_at_provider(user, id);
        if (ending.empty())
            return set_error(err, make_error(Errc::invalid, "session_unknown",
                                             "no open session to end at the provider"));
        auto call = std::make_shared<LogoutCall>();
        call->call.reset(sd_bus_message_ref(m));
        call->outstanding = ending.size();
        self.logout_calls_.emplace(self.next_logout_call_++, call);
        for (auto& e : ending)
            start_logout(self, std::move(e), call, 0);
        return 1;
    }

    static int list_sessions(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        if (auto st = check_caller_root(m); !st)
            return set_error(err, st.error());
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_return(m, &raw);
        SdBusMessagePtr reply(raw);
        if (r >= 0)
            r = sd_bus_message_open_container(reply.get(), 'a', "(sssssssbt)");
        for (const SessionRecord* s : self.sessions_.open_sessions())
            if (r >= 0)
                r = sd_bus_message_append(reply.get(), "(sssssssbt)", s->id.c_str(),
                                          s->user.c_str(), s->idnat.c_str(), s->service.c_str(),
                                          s->rhost.c_str(), s->tty.c_str(),
                                          s->logind_session.c_str(), s->ended_at_provider ? 1 : 0,
                                          s->opened_at);
        if (r >= 0)
            r = sd_bus_message_close_container(reply.get());
        if (r >= 0)
            r = sd_bus_send(nullptr, reply.get(), nullptr);
        return r < 0 ? r : 1;
    }

    // The outcome was delivered: the login is forgotten.
    static void erase(AuthBus& self, const std::string& id) noexcept {
        auto it = self.logins_.find(id);
        if (it == self.logins_.end())
            return;
        forget(self, *it->second);
        self.logins_.erase(it);
    }

    static int get_flows(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        const char* service = nullptr;
        int r = sd_bus_message_read(m, "s", &service);
        if (r < 0)
            return r;
        if (auto st = check_arg(service, self.limits_.max_string); !st)
            return set_error(err, st.error());
        return reply_flows(self, m, service);
    }

    static int reply_flows(AuthBus& self, sd_bus_message* m, const char* service) {
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_return(m, &raw);
        SdBusMessagePtr reply(raw);
        if (r >= 0)
            r = sd_bus_message_open_container(reply.get(), 'a', "s");
        for (const auto& f : self.backend_.flows_for(service))
            if (r >= 0)
                r = sd_bus_message_append(reply.get(), "s", f.c_str());
        if (r >= 0)
            r = sd_bus_message_close_container(reply.get());
        if (r >= 0)
            r = sd_bus_send(nullptr, reply.get(), nullptr);
        return r < 0 ? r : 1;
    }

    // GetUserFlows: the caller rules of StartLogin, then whether psc-login manages the account,
    // then the service's flows. Nothing starts, nothing is contacted.
    static int get_user_flows(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        const char *user = nullptr, *service = nullptr;
        int r = sd_bus_message_read(m, "ss", &user, &service);
        if (r < 0)
            return r;
        for (const char* s : {user, service})
            if (auto st = check_arg(s, self.limits_.max_string); !st)
                return set_error(err, st.error());
        auto uid = caller_uid(m);
        if (!uid)
            return set_error(err, uid.error());
        if (auto st = check_caller_may_login(*uid, user); !st)
            return set_error(err, st.error());
        // The account may need a directory lookup: the answer is sent when it is known.
        std::shared_ptr<sd_bus_message> call(sd_bus_message_ref(m), sd_bus_message_unref);
        AuthBus* bus = &self;
        self.backend_.check_account(
            user, [bus, call, service = std::string(service)](Status st) {
                if (!st)
                    reply_error(call.get(), st.error());
                else
                    (void)reply_flows(*bus, call.get(), service.c_str());
            });
        return 1;
    }

    // Registers the caller-departure watch and the safety timer for a started login.
    static Status watch(AuthBus& self, PendingLogin& l, sd_bus_message* m) {
        (void)m;
        int r = 0;
        const auto timeout = self.cfg_.login_for(l.service).timeout;
        l.deadline_usec = now_usec(self.event_) + usec(timeout);
        sd_event_source* src = nullptr;
        if (r >= 0)
            r = sd_event_add_time_relative(self.event_, &src, CLOCK_MONOTONIC,
                                           usec(timeout + self.limits_.safety_margin), 0, on_safety,
                                           &l);
        l.safety_timer.reset(src);
        if (r < 0)
            return make_error(Errc::internal, "event_source", "cannot arm the login's timer");
        PSC_TRY(self.peers_->add(l.sender, l.id));
        l.watched = true;
        return {};
    }

    // The caller rules, the limits, and a fresh registry entry (not yet inserted).
    static Result<std::unique_ptr<PendingLogin>> admit(AuthBus& self, sd_bus_message* m,
                                                       LoginRequest& req) {
        for (const std::string* s : {&req.user, &req.service, &req.rhost, &req.tty, &req.flow})
            PSC_TRY(check_arg(*s, self.limits_.max_string));
        auto uid = caller_uid(m);
        if (!uid)
            return std::move(uid).error();
        req.caller_uid = *uid;
        PSC_TRY(check_caller_may_login(*uid, req.user));
        PSC_TRY(self.counts_.admit(CountKey{req.user, req.rhost}, self.limits_));
        auto id = random_token();
        if (!id)
            return std::move(id).error();
        auto l = std::make_unique<PendingLogin>();
        l->bus = &self;
        l->id = std::move(*id);
        l->sender = sd_bus_message_get_sender(m) ? sd_bus_message_get_sender(m) : "";
        l->user = req.user;
        l->service = req.service;
        l->rhost = req.rhost;
        l->tty = req.tty;
        l->flow = req.flow;
        l->caller_uid = req.caller_uid;
        return l;
    }

    // StartLogin answers when the backend knows what to show: at once for the code flow, after
    // the provider's first answer for CIBA and the device grant. Nothing waits meanwhile.
    static int start_login(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        const char *user = nullptr, *service = nullptr, *rhost = nullptr, *tty = nullptr,
                   *flow = nullptr;
        int r = sd_bus_message_read(m, "sssss", &user, &service, &rhost, &tty, &flow);
        if (r < 0)
            return r;
        LoginRequest req{user, service, rhost, tty, flow, 0};
        auto admitted = admit(self, m, req);
        if (!admitted) {
            audit_refused_start(self, m, req, admitted.error());
            return set_error(err, admitted.error());
        }
        PendingLogin& l = **admitted;
        const std::string lid = l.id;
        self.counts_.add(CountKey{l.user, l.rhost});
        l.counted = true;
        l.start_call.reset(sd_bus_message_ref(m));
        self.logins_.emplace(lid, std::move(*admitted));
        if (auto st = watch(self, l, m); !st)
            return refuse_start(self, lid, st.error(), err);
        AuthBus* bus = &self;
        auto id = self.backend_.start(
            req,
            [bus, lid](Result<LoginDisplay> d) {
                try {
                    on_started(*bus, lid, std::move(d));
                } catch (...) {
                }
            },
            [bus, lid](LoginOutcome o) {
                try {
                    on_done(*bus, lid, std::move(o));
                } catch (...) {
                }
            });
        if (!id) {
            auto it = self.logins_.find(lid);
            if (it != self.logins_.end())
                it->second->backend_live = false;
            return refuse_start(self, lid, id.error(), err);
        }
        l.backend_id = *id;
        return 1; // answered by on_started
    }

    // StartLogin refused at once: the error goes back as the method's, one login_start event.
    static int refuse_start(AuthBus& self, const std::string& lid, const Error& why,
                            sd_bus_error* err) {
        auto it = self.logins_.find(lid);
        if (it != self.logins_.end()) {
            std::unique_ptr<PendingLogin> l = std::move(it->second);
            self.logins_.erase(it);
            forget(self, *l);
            l->id.clear(); // it never started: no id to quote, as for every refused start
            self.audit_.audit(
                audit_event(*l, AuditKind::login_start, errc_label(why.code), why.reason));
        }
        return set_error(err, why);
    }

    static void on_started(AuthBus& self, const std::string& lid, Result<LoginDisplay> d) {
        auto it = self.logins_.find(lid);
        if (it == self.logins_.end() || it->second->started)
            return;
        PendingLogin& l = *it->second;
        SdBusMessagePtr call = std::move(l.start_call);
        if (!d) {
            // The provider refused the first request (unknown_user_id, unauthorized_client, an
            // outage): the login never started.
            std::unique_ptr<PendingLogin> gone = std::move(it->second);
            self.logins_.erase(it);
            gone->backend_live = false;
            forget(self, *gone);
            gone->id.clear();
            self.audit_.audit(audit_event(*gone, AuditKind::login_start,
                                          errc_label(d.error().code), d.error().reason));
            if (call)
                reply_error(call.get(), d.error());
            return;
        }
        l.started = true;
        l.flow = d->flow;
        self.audit_.audit(audit_event(l, AuditKind::login_start, "started", ""));
        if (call)
            (void)reply_started(self, call.get(), l, *d);
    }

    // A refused StartLogin is one login_start event carrying the refusal (there is no login to
    // end).
    static void audit_refused_start(AuthBus& self, sd_bus_message* m, const LoginRequest& req,
                                    const Error& why) {
        PendingLogin l;
        // Arguments rejected for length or control characters are not repeated into the log.
        const bool args_ok = why.reason != "arg_too_long" && why.reason != "arg_control_char";
        l.user = args_ok ? req.user : "";
        l.service = args_ok ? req.service : "";
        l.rhost = args_ok ? req.rhost : "";
        l.tty = args_ok ? req.tty : "";
        l.flow = args_ok ? req.flow : "";
        if (auto uid = caller_uid(m))
            l.caller_uid = *uid;
        self.audit_.audit(audit_event(l, AuditKind::login_start, errc_label(why.code), why.reason));
    }

    static int reply_started(AuthBus& self, sd_bus_message* m, PendingLogin& l,
                             const LoginDisplay& display) {
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_return(m, &raw);
        SdBusMessagePtr reply(raw);
        if (r >= 0)
            r = sd_bus_message_append(reply.get(), "s", l.id.c_str());
        if (r >= 0)
            r = append_display(reply.get(), display);
        if (r >= 0)
            r = sd_bus_send(nullptr, reply.get(), nullptr);
        if (r < 0) {
            const Error e = make_error(Errc::internal, "bus_reply", "cannot reply");
            reply_error(m, e);
            drop(self, l.id, e);
            return r;
        }
        return 1;
    }

    static Result<PendingLogin*> read_owned(AuthBus& self, sd_bus_message* m, const char* id) {
        PSC_TRY(check_arg(id, self.limits_.max_string));
        PendingLogin* l = find_owned(self, m, id);
        if (l == nullptr || !l->started) // its id is not even known to its owner yet
            return make_error(Errc::invalid, "no_such_login", "no such login");
        return l;
    }

    static int wait_login(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        const char* id = nullptr;
        std::uint32_t max_wait_ms = 0;
        int r = sd_bus_message_read(m, "su", &id, &max_wait_ms);
        if (r < 0)
            return r;
        auto found = read_owned(self, m, id);
        if (!found)
            return set_error(err, found.error());
        PendingLogin& l = **found;
        if (l.outcome) {
            deliver(m, *l.outcome, true);
            const std::string done_id = l.id;
            erase(self, done_id); // delivered: forgotten
            return 1;
        }
        if (l.wait_call)
            return set_error(err, make_error(Errc::busy, "wait_in_progress", "already waiting"));
        if (max_wait_ms == 0) {
            reply_pending(m, l);
            return 1;
        }
        sd_event_source* src = nullptr;
        r = sd_event_add_time_relative(self.event_, &src, CLOCK_MONOTONIC,
                                       std::uint64_t{max_wait_ms} * 1000, 1000, on_wait_timer, &l);
        if (r < 0)
            return r;
        l.wait_timer.reset(src);
        l.wait_call.reset(sd_bus_message_ref(m));
        return 1;
    }

    static int submit_callback(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        const char *id = nullptr, *address = nullptr;
        int r = sd_bus_message_read(m, "ss", &id, &address);
        if (r < 0)
            return r;
        auto found = read_owned(self, m, id);
        if (!found)
            return set_error(err, found.error());
        PendingLogin& l = **found;
        if (auto st = check_arg(address, self.limits_.max_string); !st)
            return set_error(err, st.error());
        if (l.outcome) {
            deliver(m, *l.outcome, false);
            const std::string done_id = l.id;
            erase(self, done_id);
            return 1;
        }
        if (l.submit_call)
            return set_error(err,
                             make_error(Errc::busy, "submit_in_progress", "already submitted"));
        if (auto st = self.backend_.submit_callback(l.backend_id, address); !st)
            return set_error(err, st.error());
        l.submit_call.reset(sd_bus_message_ref(m));
        return 1;
    }

    static int cancel_login(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        const char* id = nullptr;
        int r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
            return r;
        auto found = read_owned(self, m, id);
        if (!found)
            return set_error(err, found.error());
        drop(self, (*found)->id, make_error(Errc::cancelled, "cancelled", "login cancelled"));
        return sd_bus_reply_method_return(m, "");
    }

    static int list_logins(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        if (auto st = check_caller_root(m); !st)
            return set_error(err, st.error());
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_return(m, &raw);
        SdBusMessagePtr reply(raw);
        if (r >= 0)
            r = sd_bus_message_open_container(reply.get(), 'a', "(sssssuu)");
        // What an operator needs to see who is logging in where; nothing a client could use to
        // finish someone's login (the id is useless to any other connection, see find_owned).
        for (const auto& [id, l] : self.logins_)
            if (r >= 0)
                r = sd_bus_message_append(reply.get(), "(sssssuu)", id.c_str(), l->user.c_str(),
                                          l->service.c_str(), l->rhost.c_str(), l->flow.c_str(),
                                          static_cast<std::uint32_t>(l->caller_uid),
                                          l->outcome ? 0u : remaining_s(*l));
        if (r >= 0)
            r = sd_bus_message_close_container(reply.get());
        if (r >= 0)
            r = sd_bus_send(nullptr, reply.get(), nullptr);
        return r < 0 ? r : 1;
    }

    static void answer_refresh(RefreshCalls& rc, const Status& outcome) noexcept {
        rc.in_flight = false;
        auto calls = std::move(rc.calls);
        rc.calls.clear();
        for (auto& call : calls) {
            if (!outcome.ok())
                reply_error(call.get(), outcome.error());
            else if (sd_bus_reply_method_return(call.get(), "") < 0)
                reply_error(call.get(),
                            make_error(Errc::internal, "bus_reply", "cannot send the reply"));
        }
    }

    // One refresh at a time: a call during a refresh waits for that one's outcome. Otherwise at
    // most one per refresh_interval, so the admin path cannot hammer the provider's JWKS endpoint
    // (the backend applies its own unknown-kid limiter too, login_backend.hpp).
    static int refresh_provider(AuthBus& self, sd_bus_message* m, sd_bus_error* err) {
        if (auto st = check_caller_root(m); !st)
            return set_error(err, st.error());
        RefreshCalls& rc = *self.refresh_;
        if (rc.in_flight) {
            rc.calls.emplace_back(sd_bus_message_ref(m));
            return 1;
        }
        const std::uint64_t now = now_usec(self.event_);
        const std::uint64_t interval = usec(self.limits_.refresh_interval);
        if (self.last_refresh_usec_ != 0 && now < self.last_refresh_usec_ + interval) {
            const auto wait_s = (self.last_refresh_usec_ + interval - now + 999'999) / 1'000'000;
            return set_error(
                err, make_error(Errc::busy, "refresh_rate_limited",
                                "refreshed recently; retry in " + std::to_string(wait_s) + " s"));
        }
        std::weak_ptr<RefreshCalls> weak = self.refresh_;
        auto st = self.backend_.refresh_provider([weak](Status outcome) {
            if (auto calls = weak.lock())
                answer_refresh(*calls, outcome);
        });
        if (!st)
            return set_error(err, st.error());
        self.last_refresh_usec_ = std::max<std::uint64_t>(now, 1);
        rc.in_flight = true;
        rc.calls.emplace_back(sd_bus_message_ref(m));
        return 1;
    }

    static int prop_version(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
                            void* userdata, sd_bus_error*) noexcept {
        return sd_bus_message_append(reply, "s",
                                     static_cast<AuthBus*>(userdata)->limits_.version.c_str());
    }

    static int prop_pending(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
                            void* userdata, sd_bus_error*) noexcept {
        const auto n = static_cast<AuthBus*>(userdata)->logins_.size();
        return sd_bus_message_append(reply, "u", static_cast<std::uint32_t>(n));
    }

    static int prop_provider_ready(sd_bus*, const char*, const char*, const char*,
                                   sd_bus_message* reply, void* userdata, sd_bus_error*) noexcept {
        try {
            const bool ready = static_cast<AuthBus*>(userdata)->backend_.provider_status().ready;
            return sd_bus_message_append(reply, "b", ready ? 1 : 0);
        } catch (...) {
            return -ENOMEM;
        }
    }

    static int prop_listener(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
                             void* userdata, sd_bus_error*) noexcept {
        try {
            const auto st = static_cast<AuthBus*>(userdata)->backend_.provider_status();
            return sd_bus_message_append(reply, "s", st.listener.c_str());
        } catch (...) {
            return -ENOMEM;
        }
    }

    // Realtime microseconds since the epoch, as systemd's *Timestamp properties; 0 = never.
    static std::uint64_t epoch_usec(std::chrono::system_clock::time_point t) noexcept {
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
        return us.count() > 0 ? static_cast<std::uint64_t>(us.count()) : 0;
    }

    template <class T>
    static int append_entry(sd_bus_message* m, const char* key, const char* sig, T value) {
        int r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
            r = sd_bus_message_append(m, "s", key);
        if (r >= 0)
            r = sd_bus_message_append(m, "v", sig, value);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
        return r;
    }

    // One part of the provider as a{sv}: loaded b, static b, loaded_at t, next_refresh t (0: none
    // scheduled), failures u, last_error s, and for the signing keys keys u.
    static int append_part(sd_bus_message* m, const ProviderPartInfo& p, bool with_keys) {
        std::uint64_t next = 0;
        if (p.next_fetch.count() >= 0)
            next = epoch_usec(std::chrono::system_clock::now() + p.next_fetch);
        int r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
            r = append_entry(m, "loaded", "b", p.loaded ? 1 : 0);
        if (r >= 0)
            r = append_entry(m, "static", "b", p.is_static ? 1 : 0);
        if (r >= 0)
            r = append_entry(m, "loaded_at", "t", epoch_usec(p.loaded_at));
        if (r >= 0)
            r = append_entry(m, "next_refresh", "t", next);
        if (r >= 0)
            r = append_entry(m, "failures", "u", static_cast<std::uint32_t>(p.failures));
        if (r >= 0)
            r = append_entry(m, "last_error", "s", p.last_error.c_str());
        if (r >= 0 && with_keys)
            r = append_entry(m, "keys", "u", static_cast<std::uint32_t>(p.keys));
        if (r >= 0)
            r = sd_bus_message_close_container(m);
        return r;
    }

    enum class StatusProp { issuer, config_files, config_loaded_at, discovery, signing_keys };

    // The status properties all come from one ProviderStatus; What names the property.
    template <StatusProp What>
    static int prop_status(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply,
                           void* userdata, sd_bus_error*) noexcept {
        try {
            const auto st = static_cast<AuthBus*>(userdata)->backend_.provider_status();
            if constexpr (What == StatusProp::issuer) {
                return sd_bus_message_append(reply, "s", st.issuer.c_str());
            } else if constexpr (What == StatusProp::config_files) {
                int r = sd_bus_message_open_container(reply, 'a', "s");
                for (const auto& f : st.config_files)
                    if (r >= 0)
                        r = sd_bus_message_append(reply, "s", f.c_str());
                return r < 0 ? r : sd_bus_message_close_container(reply);
            } else if constexpr (What == StatusProp::config_loaded_at) {
                return sd_bus_message_append(reply, "t", epoch_usec(st.config_loaded_at));
            } else if constexpr (What == StatusProp::discovery) {
                return append_part(reply, st.discovery, false);
            } else {
                return append_part(reply, st.keys, true);
            }
        } catch (...) {
            return -ENOMEM;
        }
    }

    // Running logins (not yet ended) per flow.
    static int prop_pending_by_flow(sd_bus*, const char*, const char*, const char*,
                                    sd_bus_message* reply, void* userdata,
                                    sd_bus_error*) noexcept {
        try {
            std::map<std::string, std::uint32_t> counts;
            for (const auto& [id, l] : static_cast<AuthBus*>(userdata)->logins_)
                if (!l->outcome)
                    ++counts[l->flow];
            int r = sd_bus_message_open_container(reply, 'a', "{su}");
            for (const auto& [flow, n] : counts)
                if (r >= 0)
                    r = sd_bus_message_append(reply, "{su}", flow.c_str(), n);
            return r < 0 ? r : sd_bus_message_close_container(reply);
        } catch (...) {
            return -ENOMEM;
        }
    }

    static const sd_bus_vtable vtable[];
};

// Every method is callable by anyone (SD_BUS_VTABLE_UNPRIVILEGED): the bus policy lets anyone
// call, and the caller rules are checked per method from the peer's credentials.
const sd_bus_vtable AuthBus::Glue::vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Version", "s", prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("PendingLogins", "u", prop_pending, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("ProviderReady", "b", prop_provider_ready, 0,
                    SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
    SD_BUS_PROPERTY("ListenerAddress", "s", prop_listener, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    // Read-only status for `pscctl status`; they change without a signal (read them when needed).
    SD_BUS_PROPERTY("Issuer", "s", prop_status<StatusProp::issuer>, 0, 0),
    SD_BUS_PROPERTY("ConfigFiles", "as", prop_status<StatusProp::config_files>, 0, 0),
    SD_BUS_PROPERTY("ConfigLoadedAt", "t", prop_status<StatusProp::config_loaded_at>, 0, 0),
    SD_BUS_PROPERTY("Discovery", "a{sv}", prop_status<StatusProp::discovery>, 0, 0),
    SD_BUS_PROPERTY("SigningKeys", "a{sv}", prop_status<StatusProp::signing_keys>, 0, 0),
    SD_BUS_PROPERTY("PendingByFlow", "a{su}", prop_pending_by_flow, 0, 0),
    SD_BUS_METHOD_WITH_NAMES("GetFlows", "s", SD_BUS_PARAM(service), "as", SD_BUS_PARAM(flows),
                             method<get_flows>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("GetUserFlows", "ss", SD_BUS_PARAM(user) SD_BUS_PARAM(service), "as",
                             SD_BUS_PARAM(flows), method<get_user_flows>,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("StartLogin", "sssss",
                             SD_BUS_PARAM(user) SD_BUS_PARAM(service) SD_BUS_PARAM(rhost)
                                 SD_BUS_PARAM(tty) SD_BUS_PARAM(flow),
                             "sa{sv}", SD_BUS_PARAM(login_id) SD_BUS_PARAM(display),
                             method<start_login>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("WaitLogin", "su", SD_BUS_PARAM(login_id) SD_BUS_PARAM(max_wait_ms),
                             "ba{sv}", SD_BUS_PARAM(done) SD_BUS_PARAM(result), method<wait_login>,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("SubmitCallback", "ss", SD_BUS_PARAM(login_id) SD_BUS_PARAM(address),
                             "a{sv}", SD_BUS_PARAM(result), method<submit_callback>,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("CancelLogin", "s", SD_BUS_PARAM(login_id), "", , method<cancel_login>,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    // Admin methods: the vtable lets anyone call, check_caller_root() refuses all but uid 0.
    SD_BUS_METHOD_WITH_NAMES("ListLogins", "", , "a(sssssuu)", SD_BUS_PARAM(logins),
                             method<list_logins>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("RefreshProvider", "", "", method<refresh_provider>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("OpenSession", "ss", SD_BUS_PARAM(ticket) SD_BUS_PARAM(logind_session),
                             "", , method<open_session>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("CloseSession", "s", SD_BUS_PARAM(ticket), "", ,
                             method<close_session>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("ListSessions", "", , "a(sssssssbt)", SD_BUS_PARAM(sessions),
                             method<list_sessions>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("Logout", "ss", SD_BUS_PARAM(user) SD_BUS_PARAM(session_id), "a(ss)",
                             SD_BUS_PARAM(results), method<logout>, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

AuthBus::AuthBus(sd_event* event, LoginBackend& backend, const Config& cfg, AuthBusLimits limits,
                 LogSink& audit)
    : event_(event), backend_(backend), cfg_(cfg), limits_(std::move(limits)),
      audit_(audit), refresh_(std::make_shared<RefreshCalls>()) {}

Result<std::unique_ptr<AuthBus>> AuthBus::create(sd_bus* bus, sd_event* event,
                                                 LoginBackend& backend, const Config& cfg,
                                                 AuthBusLimits limits, LogSink* audit) {
    static NullSink discard;
    std::unique_ptr<AuthBus> self(new AuthBus(event, backend, cfg, std::move(limits),
                                              audit != nullptr ? *audit : discard));
    sd_bus_slot* slot = nullptr;
    const std::string path(kObjectPath), iface(kInterface);
    int r =
        sd_bus_add_object_vtable(bus, &slot, path.c_str(), iface.c_str(), Glue::vtable, self.get());
    if (r < 0)
        return make_error(Errc::internal, "bus_vtable",
                          "cannot add the org.psclogin.Auth1 vtable: " + std::to_string(-r));
    self->vtable_slot_.reset(slot);
    AuthBus* raw = self.get();
    auto peers = BusPeers::create(bus, [raw](std::vector<std::string> ids) {
        Glue::on_callers_left(*raw, ids);
    });
    if (!peers)
        return std::move(peers).error();
    self->peers_ = std::move(*peers);
    self->bus_ = bus;
    std::weak_ptr<bool> alive = self->alive_;
    backend.set_backchannel_logout(
        [raw, alive](Result<LoginBackend::BackchannelLogout> logout) {
            if (!alive.expired())
                Glue::on_backchannel(*raw, std::move(logout));
        });
    return self;
}

void AuthBus::cancel_all() noexcept {
    try {
        while (!logins_.empty()) {
            const std::string id = logins_.begin()->first;
            Glue::drop(*this, id, make_error(Errc::cancelled, "shutdown", "psc-authd is stopping"));
        }
        // The backend's refresh may still finish; its outcome then has nobody to answer.
        const bool in_flight = refresh_->in_flight;
        Glue::answer_refresh(*refresh_,
                             make_error(Errc::cancelled, "shutdown", "psc-authd is stopping"));
        refresh_->in_flight = in_flight;
    } catch (...) {
    }
}

AuthBus::~AuthBus() {
    vtable_slot_.reset();
    cancel_all();
}

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// org.psclogin.Auth1 on an sd-bus connection (design §5, daemon/org.psclogin.Auth1.xml): the
// vtable, caller checks from the peer's bus credentials, the registry of public login ids, limits,
// and cancellation when the caller leaves the bus, the admin methods (ListLogins, RefreshProvider)
// and the audit events (audit.hpp: one when a login starts, one when it ends). The login logic is
// behind LoginBackend (login_backend.hpp), so tests drive this layer with a scripted backend on a
// private bus.
#pragma once

#include "audit.hpp"
#include "bus_peers.hpp"
#include "config.hpp"
#include "login_backend.hpp"
#include "login_counts.hpp"
#include "owned.hpp"
#include "result.hpp"
#include "session_store.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

namespace psc {

using SdBusPtr = Owned<sd_bus, sd_bus_flush_close_unref>;
using SdBusSlotPtr = Owned<sd_bus_slot, sd_bus_slot_unref>;
using SdBusMessagePtr = Owned<sd_bus_message, sd_bus_message_unref>;

// What the bus layer takes from the configuration.
// max_pending, max_pending_per_user, max_pending_per_source: login_counts.hpp.
struct AuthBusLimits : LoginCountLimits {
    std::size_t max_string = 1024;
    // Added to a service's login timeout before the registry forgets a login on its own (a safety
    // net for a backend that never calls done).
    std::chrono::seconds safety_margin{30};
    // RefreshProvider calls closer together than this are refused (design §9: JWKS refetch at most
    // once per jwks_refetch_interval).
    std::chrono::seconds refresh_interval{60};
    std::string version; // the Version property
};
[[nodiscard]] AuthBusLimits auth_bus_limits(const Config& cfg) noexcept;

struct PendingLogin; // auth_bus.cpp
struct RefreshCalls; // auth_bus.cpp
struct LogoutCall;   // auth_bus.cpp

class AuthBus {
public:
    // Adds the vtable at kObjectPath on `bus` (the name is requested by the caller, after this).
    // `cfg`, `backend` and `audit` must outlive the AuthBus; a null `audit` discards the events.
    // Reasons: bus_vtable.
    [[nodiscard]] static Result<std::unique_ptr<AuthBus>>
    create(sd_bus* bus, sd_event* event, LoginBackend& backend, const Config& cfg,
           AuthBusLimits limits, LogSink* audit = nullptr);
    // A reload: the limits new calls are held to (max_pending, dbus_max_string, ...). Logins
    // already admitted keep their place.
    void set_limits(AuthBusLimits limits) { limits_ = std::move(limits); }
    ~AuthBus();
    AuthBus(const AuthBus&) = delete;
    AuthBus& operator=(const AuthBus&) = delete;

    // Shutdown (SIGTERM): every login is cancelled in the backend (and logged as ended,
    // cancelled/shutdown), every pending WaitLogin, SubmitCallback and RefreshProvider is answered
    // with Error.Cancelled.
    void cancel_all() noexcept;
    [[nodiscard]] std::size_t pending() const noexcept { return logins_.size(); }

    // The sd-bus entry points; public only so the vtable in auth_bus.cpp can name them.
    struct Glue;

private:
    AuthBus(sd_event* event, LoginBackend& backend, const Config& cfg, AuthBusLimits limits,
            LogSink& audit);

    sd_event* event_;
    sd_bus* bus_ = nullptr; // the connection this object is served on (logind calls go out on it)
    LoginBackend& backend_;
    const Config& cfg_;
    AuthBusLimits limits_;
    LogSink& audit_;
    // RefreshProvider calls waiting for the backend; shared with the backend's done callback
    // through a weak_ptr, so a refresh finishing after this object is gone touches nothing.
    std::shared_ptr<RefreshCalls> refresh_;
    std::uint64_t last_refresh_usec_ = 0; // CLOCK_MONOTONIC; 0 = never
    std::map<std::string, std::unique_ptr<PendingLogin>, std::less<>> logins_;
    LoginCounts counts_; // the running logins (an outcome waiting to be collected counts no more)
    SessionStore sessions_; // the PAM sessions that follow a psc-login authentication
    // Logout calls waiting for the provider (weak in the backend's callbacks, as refresh_).
    std::map<std::uint64_t, std::shared_ptr<LogoutCall>> logout_calls_;
    std::uint64_t next_logout_call_ = 1;
    // Expires with this object: the backend's logout callbacks check it before touching it.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    std::unique_ptr<BusPeers> peers_; // the callers holding logins; one bus match in all
    SdBusSlotPtr vtable_slot_; // declared last, removed first
};

} // namespace psc

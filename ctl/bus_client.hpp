// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl's side of org.psclogin.Auth1 (daemon/org.psclogin.Auth1.xml): one system-bus connection
// and method calls whose failures come back as psc::Error. The PAM module has its own client;
// pscctl does not link pam/.
//
// Reasons: a daemon refusal (org.psclogin.Auth1.Error.*) keeps the daemon's reason token, split
// from its "reason: message" text. Otherwise: bus_connect (no bus), daemon_unreachable (the bus
// answered but nobody owns the name, or the call got no answer), bus_access_denied (the bus
// policy refused the call), bus_local (a local sd-bus failure).
#pragma once

#include "owned.hpp"
#include "result.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <systemd/sd-bus.h>

namespace psc::ctl {

using BusPtr = Owned<sd_bus, sd_bus_flush_close_unref>;
using BusMessagePtr = Owned<sd_bus_message, sd_bus_message_unref>;

// An a{sv} whose values are s, u, t or b, as text (u and t in decimal, b as "true"/"false").
using BusDict = std::map<std::string, std::string>;

class AuthClient {
public:
    // Connects to the system bus, from DBUS_SYSTEM_BUS_ADDRESS when set (read with getenv(), as
    // the tests' clients do: secure_getenv() would ignore it under setpriv --euid).
    [[nodiscard]] static Result<AuthClient> connect();

    // Properties Version and PendingLogins.
    [[nodiscard]] Result<std::string> version();
    [[nodiscard]] Result<std::uint32_t> pending_logins();
    // Any property of org.psclogin.Auth1, of D-Bus type `sig`: the reply, positioned on the
    // value (read it with sd_bus_message_read() or read_bus_dict()).
    [[nodiscard]] Result<BusMessagePtr> property(const char* name, const char* sig);

    // A method call on org.psclogin.Auth1 at /org/psclogin/Auth1; the reply on success.
    // timeout_usec 0: sd-bus's default (25 s).
    template <class... Args>
    [[nodiscard]] Result<BusMessagePtr> call(const char* method, std::uint64_t timeout_usec,
                                             const char* sig, Args... args) {
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_call(bus_.get(), &raw, kDest, kPath, kIface, method);
        BusMessagePtr m(raw);
        if (r >= 0)
            r = sd_bus_message_append(m.get(), sig, args...);
        if (r < 0)
            return local_error(r);
        return send(m.get(), timeout_usec);
    }

    // A local sd-bus failure (negative errno) as an Error, reason bus_local.
    [[nodiscard]] static Error local_error(int r);

private:
    explicit AuthClient(BusPtr bus) : bus_(std::move(bus)) {}
    Result<BusMessagePtr> send(sd_bus_message* m, std::uint64_t timeout_usec);

    static constexpr const char* kDest = "org.psclogin.Auth1";
    static constexpr const char* kPath = "/org/psclogin/Auth1";
    static constexpr const char* kIface = "org.psclogin.Auth1";
    BusPtr bus_;
};

// Reads an a{sv} (values s, u, t, b; other types are skipped and shown as "?SIG").
[[nodiscard]] Status read_bus_dict(sd_bus_message* m, BusDict& out);

// True when the daemon itself answered (with one of its named errors).
[[nodiscard]] bool daemon_answered(const Error& e) noexcept;

// One line for a failure: "refused: <reason>: <message>" (Denied, Busy), "<label>: <reason>:
// <message>" for other daemon errors, "daemon unavailable: <message>" when it did not answer.
// Control characters are replaced.
[[nodiscard]] std::string describe_failure(const Error& e);

// kExitUnavailable when the daemon did not answer, kExitRejected when it refused or failed.
[[nodiscard]] int exit_code_for(const Error& e) noexcept;

} // namespace psc::ctl

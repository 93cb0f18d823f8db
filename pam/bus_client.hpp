// SPDX-License-Identifier: LGPL-2.1-or-later
// AuthApi over a private sd-bus connection to the system bus (one per PAM call, as
// pam_systemd_home does: a login process must not share a connection with anything else).
// sd_bus_open_system() honours DBUS_SYSTEM_BUS_ADDRESS, which the tests use for a private bus.
#pragma once

#include "auth_api.hpp"
#include "owned.hpp"

#include <memory>
#include <systemd/sd-bus.h>

namespace psc::pam {

using SdBusPtr = Owned<sd_bus, sd_bus_flush_close_unref>;

class BusClient final : public AuthApi {
public:
    // Reason: bus_connect (Errc::unavailable).
    [[nodiscard]] static Result<std::unique_ptr<BusClient>> open();

    Result<std::vector<std::string>> get_flows(const std::string& user,
                                               const std::string& service) override;
    Result<Started> start_login(const LoginParams& p) override;
    Result<Outcome> wait_login(const std::string& id, std::uint32_t max_wait_ms) override;
    Result<Outcome> submit_callback(const std::string& id, std::string_view address) override;
    Status cancel_login(const std::string& id) override;
    Status open_session(const std::string& ticket, const std::string& logind_session) override;
    Status close_session(const std::string& ticket) override;

private:
    explicit BusClient(SdBusPtr bus) : bus_(std::move(bus)) {}
    SdBusPtr bus_;
};

// A D-Bus error as the module sees it: the daemon's named errors keep their class and the reason
// token from the front of the message ("reason: text"); any other error name (no owner, no reply,
// disconnected, access denied by policy) means the daemon cannot be used: Errc::unavailable.
// Exposed for tests.
[[nodiscard]] Error error_from_bus(std::string_view name, std::string_view message);

} // namespace psc::pam

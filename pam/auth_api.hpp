// SPDX-License-Identifier: LGPL-2.1-or-later
// The org.psclogin.Auth1 calls the module makes (daemon/org.psclogin.Auth1.xml), behind an
// interface so the login logic can be tested with a scripted fake (as sdbus-c++ suggests).
// Errors carry the daemon's Errc (from its named D-Bus error) and its reason token. Only a daemon
// that cannot be reached (no bus, no owner of the name, no reply, the connection lost) is
// Errc::unavailable; any other bus failure is Errc::internal (bus_client.cpp).
#pragma once

#include "result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace psc::pam {

struct LoginParams {
    std::string user, service, rhost, tty, flow;
};

// StartLogin's "display"; every string already passed through display_safe().
struct Display {
    std::string flow;
    std::string url;
    std::string qr;
    std::string binding_code;
    std::string user_code;
    std::uint32_t expires_in = 0;
    bool accepts_paste = false;
    bool confirm_code = false; // the browser's page may show a code to type here
};

struct Started {
    std::string login_id;
    Display display;
};

// WaitLogin / SubmitCallback.
struct Outcome {
    bool done = false;
    std::uint32_t remaining = 0; // while !done
    std::string user, idnat, profession, auth_mode;
    std::string session_ticket; // on success: for OpenSession/CloseSession ("" when none)
    bool confirm = false; // while !done: the browser's code is awaited (SubmitCallback)
};

class AuthApi {
public:
    virtual ~AuthApi() = default;
    // GetUserFlows: unknown_user when psc-login does not manage `user` (nothing is started).
    [[nodiscard]] virtual Result<std::vector<std::string>>
    get_flows(const std::string& user, const std::string& service) = 0;
    [[nodiscard]] virtual Result<Started> start_login(const LoginParams& p) = 0;
    [[nodiscard]] virtual Result<Outcome> wait_login(const std::string& id,
                                                     std::uint32_t max_wait_ms) = 0;
    [[nodiscard]] virtual Result<Outcome> submit_callback(const std::string& id,
                                                          std::string_view address) = 0;
    [[nodiscard]] virtual Status cancel_login(const std::string& id) = 0;
    // The PAM session of a psc-login authentication (the ticket from its outcome).
    [[nodiscard]] virtual Status open_session(const std::string& ticket,
                                              const std::string& logind_session) = 0;
    [[nodiscard]] virtual Status close_session(const std::string& ticket) = 0;
};

} // namespace psc::pam

// SPDX-License-Identifier: LGPL-2.1-or-later
// `auth` once the PAM items are known: choose a flow, StartLogin, show what to show, wait on a
// monotonic deadline (prompting over SSH, where OpenSSH shows text only with a prompt), finish —
// and CancelLogin on every exit that leaves the daemon's login running (fprintd's shape).
#pragma once

#include "auth_api.hpp"
#include "conversation.hpp"
#include "decision.hpp"
#include "messages.hpp"
#include "pam_args.hpp"
#include "qr.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace psc::pam {

using Clock = std::chrono::steady_clock;

struct LoginContext {
    std::string user, service, rhost, tty;
    Options options;
    Lang lang = Lang::both; // resolved
    QrStyle qr_style = QrStyle::utf8;
    Clock::time_point (*now)() = &Clock::now; // injectable for tests
};

struct AuthResult {
    int pam_code;                     // PAM_SUCCESS only with a decision
    std::optional<Decision> decision; // set iff pam_code == PAM_SUCCESS
};

[[nodiscard]] AuthResult run_login(AuthApi& api, Conversation& conv, Log& log,
                                   const LoginContext& ctx);

// Logs `e`, shows the user the table's line (error_map.hpp) and returns its PAM code.
[[nodiscard]] int report_failure(Conversation& conv, Log& log, Lang lang, const Error& e);

// Over SSH, or with prompt=always, the wait is an echo-on prompt (design §6).
[[nodiscard]] bool use_prompt(PromptMode mode, std::string_view rhost) noexcept;

} // namespace psc::pam

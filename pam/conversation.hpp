// SPDX-License-Identifier: LGPL-2.1-or-later
// What the login logic needs from the PAM application and from syslog, as interfaces: the real
// ones wrap pam_prompt()/pam_syslog() (pam_glue.hpp), tests script them.
#pragma once

#include "result.hpp"
#include "secret.hpp"

#include <string>
#include <string_view>

namespace psc::pam {

class Conversation {
public:
    virtual ~Conversation() = default;
    // PAM_TEXT_INFO. A failure means the user cannot see what to do: the login is abandoned.
    [[nodiscard]] virtual Status info(const std::string& text) = 0;
    // PAM_ERROR_MSG; best effort (the login has already failed).
    virtual void error(const std::string& text) noexcept = 0;
    // PAM_PROMPT_ECHO_ON. The answer may hold a pasted authorization response: a Secret.
    // Reason on failure: conversation (Errc::cancelled).
    [[nodiscard]] virtual Result<Secret> prompt(const std::string& text) = 0;
};

class Log {
public:
    virtual ~Log() = default;
    // `priority` is a syslog priority (LOG_ERR, LOG_NOTICE, ...).
    virtual void write(int priority, const std::string& line) noexcept = 0;
};

} // namespace psc::pam

// SPDX-License-Identifier: LGPL-2.1-or-later
// The module's side of libpam: the conversation (pam_prompt), logging (pam_syslog), the PAM items
// a login needs, and the locale the application runs in.
#pragma once

#include "conversation.hpp"
#include "login_flow.hpp"

#include <security/pam_modules.h>
#include <string>

namespace psc::pam {

class PamConversation final : public Conversation {
public:
    // PAM_SILENT drops the error lines (never the ones a login cannot do without).
    PamConversation(pam_handle_t* pamh, bool silent) : pamh_(pamh), silent_(silent) {}
    Status info(const std::string& text) override;
    void error(const std::string& text) noexcept override;
    Result<Secret> prompt(const std::string& text) override;

private:
    pam_handle_t* pamh_;
    bool silent_;
};

class PamLog final : public Log {
public:
    explicit PamLog(pam_handle_t* pamh) : pamh_(pamh) {}
    void write(int priority, const std::string& line) noexcept override;

private:
    pam_handle_t* pamh_;
};

struct PamItems {
    std::string user, service, rhost, tty;
};

// PAM_USER (asked for with pam_get_user when unset), PAM_SERVICE, PAM_RHOST, PAM_TTY. Returns a
// PAM code: PAM_SUCCESS, pam_get_user's failure, or PAM_USER_UNKNOWN for an unusable name.
[[nodiscard]] int read_items(pam_handle_t* pamh, PamItems& out);

// The value the PAM environment gives `name`, else the process's; "" when unset.
[[nodiscard]] std::string env_value(pam_handle_t* pamh, const char* name);

} // namespace psc::pam

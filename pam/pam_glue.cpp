// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pam_glue.hpp"

#include "owned.hpp"
#include "strutil.hpp"

#include <cstdlib>
#include <cstring>
#include <security/pam_ext.h>
#include <syslog.h>

namespace psc::pam {
namespace {

// A conversation answer may be a pasted authorization response: wiped before it is freed.
void wipe_free(char* p) noexcept {
    explicit_bzero(p, std::strlen(p));
    std::free(p);
}
using Answer = Owned<char, wipe_free>;

constexpr std::size_t kMaxUser = 256; // the daemon's own cap is 1 KiB

std::string item(pam_handle_t* pamh, int type) {
    const void* v = nullptr;
    if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || v == nullptr)
        return {};
    return static_cast<const char*>(v);
}

} // namespace

Status PamConversation::info(const std::string& text) {
    const int r = pam_prompt(pamh_, PAM_TEXT_INFO, nullptr, "%s", text.c_str());
    if (r != PAM_SUCCESS)
        return make_error(Errc::cancelled, "conversation", pam_strerror(pamh_, r));
    return {};
}

void PamConversation::error(const std::string& text) noexcept {
    if (!silent_)
        (void)pam_prompt(pamh_, PAM_ERROR_MSG, nullptr, "%s", text.c_str());
}

Result<Secret> PamConversation::prompt(const std::string& text) {
    char* raw = nullptr;
    const int r = pam_prompt(pamh_, PAM_PROMPT_ECHO_ON, &raw, "%s", text.c_str());
    Answer answer(raw);
    if (r != PAM_SUCCESS)
        return make_error(Errc::cancelled, "conversation", pam_strerror(pamh_, r));
    return Secret(answer ? std::string_view(answer.get()) : std::string_view());
}

void PamLog::write(int priority, const std::string& line) noexcept {
    pam_syslog(pamh_, priority, "%s", line.c_str());
}

int read_items(pam_handle_t* pamh, PamItems& out) {
    const char* user = nullptr;
    const int r = pam_get_user(pamh, &user, nullptr);
    if (r != PAM_SUCCESS)
        return r;
    if (user == nullptr || *user == '\0' || std::strlen(user) > kMaxUser || contains_control(user))
        return PAM_USER_UNKNOWN;
    out.user = user;
    out.service = item(pamh, PAM_SERVICE);
    out.rhost = item(pamh, PAM_RHOST);
    out.tty = item(pamh, PAM_TTY);
    // The daemon refuses control characters in every argument; they could only come from a
    // confused application, so they are dropped here rather than failing the login.
    for (std::string* s : {&out.service, &out.rhost, &out.tty})
        if (s->size() > kMaxUser || contains_control(*s))
            *s = strip_control(s->substr(0, kMaxUser));
    return PAM_SUCCESS;
}

std::string env_value(pam_handle_t* pamh, const char* name) {
    if (const char* v = pam_getenv(pamh, name); v != nullptr && *v != '\0')
        return v;
    if (const char* v = std::getenv(name); v != nullptr)
        return v;
    return {};
}

} // namespace psc::pam

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "error_map.hpp"

#include <array>
#include <security/_pam_types.h>

namespace psc::pam {
namespace {

struct Row {
    Errc code;
    int pam_code;
    Msg message;
};

// Only "unavailable" (no daemon on the bus, or the daemon cannot reach the provider) yields
// PAM_AUTHINFO_UNAVAIL: it is the one code a stack may route to a break-glass line. A denial is
// terminal (design §4). Everything else fails with a code `default=die` catches.
constexpr std::array kTable{
    Row{Errc::unavailable, PAM_AUTHINFO_UNAVAIL, Msg::err_unavailable},
    Row{Errc::unknown_user, PAM_USER_UNKNOWN, Msg::err_unknown_user},
    Row{Errc::denied, PAM_PERM_DENIED, Msg::err_denied},
    Row{Errc::timeout, PAM_AUTH_ERR, Msg::err_timeout},
    Row{Errc::cancelled, PAM_AUTH_ERR, Msg::err_cancelled},
    Row{Errc::busy, PAM_AUTH_ERR, Msg::err_busy},
    Row{Errc::invalid, PAM_AUTH_ERR, Msg::err_invalid},
    Row{Errc::config, PAM_SYSTEM_ERR, Msg::err_failed},
    Row{Errc::io, PAM_SYSTEM_ERR, Msg::err_failed},
    Row{Errc::internal, PAM_SYSTEM_ERR, Msg::err_failed},
};

} // namespace

PamFailure pam_failure_for(Errc code) noexcept {
    for (const Row& r : kTable)
        if (r.code == code)
            return {r.pam_code, r.message};
    return {PAM_SYSTEM_ERR, Msg::err_failed};
}

} // namespace psc::pam

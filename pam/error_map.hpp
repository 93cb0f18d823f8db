// SPDX-License-Identifier: LGPL-2.1-or-later
// The ONE table from the daemon's error classes (org.psclogin.Auth1.Error.*, common/errors.hpp)
// to PAM return codes and the line the user sees (design §6). pam_psc(8) documents it.
#pragma once

#include "messages.hpp"
#include "result.hpp"

namespace psc::pam {

struct PamFailure {
    int pam_code; // never PAM_SUCCESS nor PAM_IGNORE
    Msg message;
};

[[nodiscard]] PamFailure pam_failure_for(Errc code) noexcept;

} // namespace psc::pam

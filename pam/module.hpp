// SPDX-License-Identifier: LGPL-2.1-or-later
// What each pam_sm_* entry point does (pam_psc.cpp only guards them). May throw (std::bad_alloc);
// the entry points catch everything.
#pragma once

#include <security/pam_modules.h>

namespace psc::pam {

[[nodiscard]] int authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv);
[[nodiscard]] int account(pam_handle_t* pamh, int flags, int argc, const char** argv);
[[nodiscard]] int close_session(pam_handle_t* pamh, int flags, int argc, const char** argv);
int open_session(pam_handle_t* pamh, int flags, int argc, const char** argv);

} // namespace psc::pam

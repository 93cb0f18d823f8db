// SPDX-License-Identifier: LGPL-2.1-or-later
// pam_psc(8): the entry points and nothing else (pam-u2f's shape). Each is noexcept with a
// catch-all, so no C++ exception unwinds into libpam or the application; a failure here fails
// closed. The version script (pam_psc.map) exports only these.
#include "module.hpp"

#include <new>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

// Compiled with -fvisibility=hidden; the version script then keeps exactly these five.
#define PSC_PAM_EXPORT PAM_EXTERN __attribute__((visibility("default")))

namespace {

template <class F>
int guarded(pam_handle_t* pamh, const char* what, F&& f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc&) {
        pam_syslog(pamh, LOG_CRIT, "Failed to %s: out of memory", what);
        return PAM_BUF_ERR;
    } catch (...) {
        pam_syslog(pamh, LOG_CRIT, "Failed to %s: unexpected exception", what);
        return PAM_SYSTEM_ERR;
    }
}

} // namespace

extern "C" {

PSC_PAM_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return guarded(pamh, "authenticate",
                   [&] { return psc::pam::authenticate(pamh, flags, argc, argv); });
}

PSC_PAM_EXPORT int pam_sm_setcred(pam_handle_t*, int, int, const char**) {
    return PAM_SUCCESS; // no credentials to establish: the session is the local account's
}

PSC_PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return guarded(pamh, "check the account",
                   [&] { return psc::pam::account(pamh, flags, argc, argv); });
}

PSC_PAM_EXPORT int pam_sm_open_session(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return guarded(pamh, "open the session",
                   [&] { return psc::pam::open_session(pamh, flags, argc, argv); });
}

PSC_PAM_EXPORT int pam_sm_close_session(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return guarded(pamh, "close the session",
                   [&] { return psc::pam::close_session(pamh, flags, argc, argv); });
}

} // extern "C"

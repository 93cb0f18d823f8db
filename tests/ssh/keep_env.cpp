// SPDX-License-Identifier: LGPL-2.1-or-later
// Test-only, preloaded into sshd by tests/ssh: keeps the few variables that point the test at its
// private bus and test accounts visible in sshd's PAM child.
//
// OpenSSH runs keyboard-interactive PAM (auth, then account) in a child that empties its
// environment first (auth-pam.c, sshpam_thread: `environ[0] = NULL`; only TZ is put back). There,
// sd_bus_open_system() in pam_psc would miss DBUS_SYSTEM_BUS_ADDRESS and knock on the machine's
// real bus, and nss_wrapper (which reads NSS_WRAPPER_* on every call) would hand pam_unix the
// machine's real accounts. In production nothing is lost: the system bus and the accounts are at
// their default places. This library copies those variables when sshd starts and answers getenv()
// and secure_getenv() for them from the copy once environ no longer has them; any other name goes
// straight to libc.
#include <array>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <string_view>
#include <sys/auxv.h>

namespace {

constexpr std::array<std::string_view, 4> kKept{
    "DBUS_SYSTEM_BUS_ADDRESS",
    "NSS_WRAPPER_PASSWD",
    "NSS_WRAPPER_GROUP",
    "PAM_WRAPPER_DEBUGLEVEL",
};
// Paths under /tmp and the source tree: well under this.
constexpr std::size_t kMaxValue = 4096;
char saved[kKept.size()][kMaxValue];

using GetenvFn = char* (*)(const char*);

GetenvFn next(const char* symbol) {
    return reinterpret_cast<GetenvFn>(dlsym(RTLD_NEXT, symbol));
}

// The environment as sshd received it, read once at load time, before any child clears it.
__attribute__((constructor)) void remember() {
    const GetenvFn real = next("getenv");
    for (std::size_t i = 0; real != nullptr && i < kKept.size(); ++i) {
        const char* v = real(kKept[i].data());
        if (v != nullptr && std::strlen(v) < kMaxValue)
            std::strcpy(saved[i], v);
    }
}

char* kept(const char* name) {
    for (std::size_t i = 0; name != nullptr && i < kKept.size(); ++i)
        if (kKept[i] == name && saved[i][0] != '\0')
            return saved[i];
    return nullptr;
}

} // namespace

extern "C" {

__attribute__((visibility("default"))) char* getenv(const char* name) noexcept {
    static const GetenvFn real = next("getenv");
    char* v = real != nullptr ? real(name) : nullptr;
    return v != nullptr ? v : kept(name);
}

__attribute__((visibility("default"))) char* secure_getenv(const char* name) noexcept {
    static const GetenvFn real = next("secure_getenv");
    char* v = real != nullptr ? real(name) : nullptr;
    // A set-user-ID process sees nothing through secure_getenv(); neither does it see the copy.
    if (v != nullptr || getauxval(AT_SECURE) != 0)
        return v;
    return kept(name);
}

} // extern "C"

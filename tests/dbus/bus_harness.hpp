// SPDX-License-Identifier: LGPL-2.1-or-later
// For the org.psclogin.Auth1 tests: a private dbus-daemon whose config includes the project's
// policy file (system-bus.conf.in), plain sd-bus client calls, and the real psc-authd binary
// started on such a bus with its stderr captured. Environment: PSC_TEST_DBUS_DIR,
// PSC_TEST_POLICY, PSC_AUTHD (tests/meson.build).
#pragma once

#include "auth_bus.hpp"
#include "result.hpp"

#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace psc::bustest {

inline constexpr const char* kDest = "org.psclogin.Auth1";
inline constexpr const char* kPath = "/org/psclogin/Auth1";
inline constexpr const char* kIface = "org.psclogin.Auth1";

struct PrivateBus {
    std::string dir; // temporary; holds the socket and the config
    std::string address;
    pid_t pid = -1;
};
[[nodiscard]] bool start_bus(PrivateBus& b);
void stop_bus(PrivateBus& b);

[[nodiscard]] SdBusPtr connect(const std::string& address, const char* description = "test-client");

struct Reply {
    std::string error;   // D-Bus error name, "" on success
    std::string message; // "reason: message"
    SdBusMessagePtr msg;
};
// A method call on org.psclogin.Auth1 (sd_bus_call_method's varargs).
[[nodiscard]] Reply call(sd_bus* bus, const char* member, const char* types, ...);
[[nodiscard]] Reply start_login(sd_bus* bus, const char* user, const char* rhost,
                                const char* service = "sshd", const char* flow = "");
// The login id of a StartLogin reply (fails the test on an error reply).
[[nodiscard]] std::string login_id(Reply& r);
// Reads an a{sv} into strings (u/b rendered as decimal).
[[nodiscard]] std::map<std::string, std::string> read_dict(sd_bus_message* m);
// Fails the test unless r is this named error with a message starting with `reason`.
void assert_error(const Reply& r, Errc code, const char* reason);
[[nodiscard]] std::string err_name(Errc c);
[[nodiscard]] bool name_has_owner(sd_bus* bus);
// Polls until the name is owned (≤ 5 s).
[[nodiscard]] bool wait_name_owned(sd_bus* bus);

[[nodiscard]] std::string read_all(int fd);

// ---- the psc-authd binary ----
struct AuthdOptions {
    std::vector<std::string> extra_args; // e.g. "--log-target=stderr"
    // nss_wrapper is kept only when the daemon must map logins to the test users (claire …);
    // its resolver hooks abort an ASan build as soon as a host name is resolved (use 127.0.0.1).
    bool keep_ld_preload = false;
    std::string notify_socket; // "" = NOTIFY_SOCKET unset
};
struct AuthdRun {
    pid_t pid = -1;
    int err_fd = -1; // the daemon's stderr (read end)
};
// fork+exec $PSC_AUTHD --config CONFIG on `address`; the pid is remembered for cleanup_spawned().
[[nodiscard]] AuthdRun spawn_authd(const std::string& address, const std::string& config,
                                   const AuthdOptions& opts = {});
// waitpid and forget the pid; returns the wait status.
int reap(pid_t pid);
// Writes `body` as DIR/psc-login.conf (and DIR/client_secret with `secret`); returns the path.
[[nodiscard]] std::string write_authd_config(const std::string& dir, const std::string& body,
                                             const std::string& secret = "s3cr3t");
// A new private bus remembered for cleanup_spawned(); null on failure.
[[nodiscard]] PrivateBus* spawned_bus();
// CMocka teardown: SIGKILLs remaining daemons and stops the spawned buses (a failed assertion
// longjmps past the test's own cleanup).
int cleanup_spawned(void**);

} // namespace psc::bustest

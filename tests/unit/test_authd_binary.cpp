// SPDX-License-Identifier: LGPL-2.1-or-later
// The real psc-authd binary, each run on a private dbus-daemon of its own (bus_harness.hpp):
// start-up order (name owned, then READY=1 on $NOTIFY_SOCKET), SIGTERM (exit 0, STOPPING=1, pending
// calls answered Cancelled), refusals to start, --log-target, and the audit line on stderr. The
// provider here is unreachable on purpose: logins fail closed (Unavailable); whole logins against
// mock-psc are in test_no_secrets_logged.cpp.
#include "bus_harness.hpp"
#include "errors.hpp"
#include "owned.hpp"
#include "testing.hpp"

#include <csignal>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace psc;
using namespace psc::bustest;

namespace {

bool g_root = false;

// An issuer nobody can reach: the engine starts, the provider never becomes ready. The daemon
// runs without nss_wrapper here (ASan), so the managed account is one every Debian system has:
// nobody (uid 65534), mapped in a map file of the test's own.
std::string unreachable_config(const std::string& dir) {
    std::ofstream(dir + "/users.map") << "810001234567 nobody\n";
    chmod((dir + "/users.map").c_str(), 0644);
    return write_authd_config(
        dir, "[provider]\nissuer = https://idp.example.org/realms/x\nclient_id = psc-login\n"
             "client_secret_file = " +
                 dir + "/client_secret\n[callback]\ncallback_listen = 127.0.0.1:0\n[mapping]\nmap_file = " +
                 dir + "/users.map\n");
}

// A notification socket like systemd's (sd_notify(3)): one datagram per sd_notify call.
struct NotifySocket {
    UniqueFd fd;
    std::string path;
};

NotifySocket notify_socket(const std::string& dir) {
    NotifySocket n;
    n.path = dir + "/notify";
    n.fd = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    assert_true(n.fd.get() >= 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    assert_true(n.path.size() < sizeof sa.sun_path);
    std::memcpy(sa.sun_path, n.path.c_str(), n.path.size() + 1);
    assert_int_equal(::bind(n.fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
    return n;
}

// The next datagram, or "" after timeout_ms.
std::string next_notification(const NotifySocket& n, int timeout_ms) {
    pollfd p{n.fd.get(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1)
        return "";
    char buf[4096];
    const ssize_t got = ::recv(n.fd.get(), buf, sizeof buf, 0);
    return got > 0 ? std::string(buf, static_cast<std::size_t>(got)) : "";
}

int setup(void**) {
    if (!g_root)
        skip(); // only root may own org.psclogin.Auth1 (the policy file says so)
    return 0;
}

int exit_code(int status) {
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

void test_ready_after_name_owned(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    auto n = notify_socket(b->dir);
    AuthdOptions opts;
    opts.notify_socket = n.path;
    AuthdRun run = spawn_authd(b->address, unreachable_config(b->dir), opts);
    const std::string ready = next_notification(n, 10'000);
    assert_true(ready.find("READY=1") != std::string::npos);
    // READY=1 comes after the name is owned (systemd's Type=notify ordering for BusName=).
    auto bus = connect(b->address);
    assert_non_null(bus.get());
    assert_true(name_has_owner(bus.get()));
    kill(run.pid, SIGTERM);
    assert_int_equal(exit_code(reap(run.pid)), 0);
    assert_true(next_notification(n, 2'000).find("STOPPING=1") != std::string::npos);
    close(run.err_fd);
}

void test_serves_and_stops_on_sigterm(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    AuthdRun run = spawn_authd(b->address, unreachable_config(b->dir));
    auto bus = connect(b->address);
    assert_non_null(bus.get());
    assert_true(wait_name_owned(bus.get()));
    char* version = nullptr;
    assert_true(sd_bus_get_property_string(bus.get(), kDest, kPath, kIface, "Version", nullptr,
                                           &version) >= 0);
    assert_true(std::strlen(version) > 0);
    free(version);
    // The provider cannot be reached from a test: every login fails closed.
    assert_error(start_login(bus.get(), "nobody", ""), Errc::unavailable, "provider_not_ready");
    kill(run.pid, SIGTERM);
    assert_int_equal(exit_code(reap(run.pid)), 0);
    close(run.err_fd);
}

// The bus goes away (dbus-daemon restarted, crashed): psc-authd says so and exits non-zero, so
// systemd's Restart=on-failure brings it back; it never ends "successfully" with no bus.
void test_lost_bus_exits_non_zero(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    AuthdRun run = spawn_authd(b->address, unreachable_config(b->dir));
    {
        auto bus = connect(b->address);
        assert_true(wait_name_owned(bus.get()));
    }
    stop_bus(*b);
    assert_int_equal(exit_code(reap(run.pid)), 1);
    const std::string err = read_all(run.err_fd);
    close(run.err_fd);
    if (err.find("Failed to stay on the system bus") == std::string::npos)
        fail_msg("psc-authd did not say why it exits: %s", err.c_str());
}

// Not under systemd (no JOURNAL_STREAM), --log-target=auto writes the audit line on stderr.
void test_refused_start_logged_on_stderr(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    AuthdRun run = spawn_authd(b->address, unreachable_config(b->dir));
    auto bus = connect(b->address);
    assert_true(wait_name_owned(bus.get()));
    assert_error(call(bus.get(), "StartLogin", "sssss", "nobody", "sshd", "10.1.2.3", "ssh", ""),
                 Errc::unavailable, "provider_not_ready");
    kill(run.pid, SIGTERM);
    assert_int_equal(exit_code(reap(run.pid)), 0);
    const std::string err = read_all(run.err_fd);
    close(run.err_fd);
    for (const char* field :
         {"PSC_EVENT=\"login_start\"", "PAM_USER=\"nobody\"", "PAM_SERVICE=\"sshd\"",
          "PAM_RHOST=\"10.1.2.3\"", "PAM_TTY=\"ssh\"", "PSC_RESULT=\"unavailable\"",
          "PSC_REASON=\"provider_not_ready\"", "PSC_CALLER_UID=\"0\"", "PRIORITY=\"3\""}) {
        if (err.find(field) == std::string::npos)
            fail_msg("no %s in psc-authd's stderr:\n%s", field, err.c_str());
    }
}

void test_log_target_journal_keeps_stderr_quiet(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    AuthdOptions opts;
    opts.extra_args = {"--log-target", "journal"};
    AuthdRun run = spawn_authd(b->address, unreachable_config(b->dir), opts);
    auto bus = connect(b->address);
    assert_true(wait_name_owned(bus.get()));
    assert_error(start_login(bus.get(), "nobody", ""), Errc::unavailable, "provider_not_ready");
    kill(run.pid, SIGTERM);
    assert_int_equal(exit_code(reap(run.pid)), 0);
    const std::string err = read_all(run.err_fd);
    close(run.err_fd);
    assert_true(err.find("PSC_EVENT") == std::string::npos);
}

void test_refuses_unknown_log_target(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    AuthdOptions opts;
    opts.extra_args = {"--log-target=syslog"};
    AuthdRun run = spawn_authd(b->address, unreachable_config(b->dir), opts);
    const std::string err = read_all(run.err_fd);
    assert_int_equal(exit_code(reap(run.pid)), 2);
    close(run.err_fd);
    assert_true(err.find("log target must be auto, journal or stderr") != std::string::npos);
}

void test_refuses_bad_config(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    const std::string conf = write_authd_config(b->dir, "[provider]\nnot a key value line\n");
    AuthdRun run = spawn_authd(b->address, conf);
    const std::string err = read_all(run.err_fd);
    assert_int_equal(exit_code(reap(run.pid)), 1);
    close(run.err_fd);
    assert_true(err.find(conf + ":2:") != std::string::npos);
}

// An encrypted client key: psc-authd refuses to start and names the file; it never waits for a
// passphrase.
void test_refuses_encrypted_client_key(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    const std::string key = b->dir + "/client.key", enc = b->dir + "/enc.key",
                      crt = b->dir + "/client.crt";
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
        "-subj /CN=t -keyout " + key + " -out " + crt + " 2>/dev/null && openssl pkey -in " + key +
        " -aes256 -passout pass:x -out " + enc + " 2>/dev/null && chmod 600 " + enc;
    assert_int_equal(std::system(cmd.c_str()), 0);
    std::ofstream(b->dir + "/users.map") << "810001234567 nobody\n";
    const std::string conf = write_authd_config(
        b->dir, "[provider]\nprofile = psc-sandbox\nclient_id = x\ntls_client_cert = " + crt +
                    "\ntls_client_key = " + enc + "\n[mapping]\nmap_file = " + b->dir +
                    "/users.map\n");
    AuthdRun run = spawn_authd(b->address, conf);
    const std::string err = read_all(run.err_fd);
    assert_int_equal(exit_code(reap(run.pid)), 1);
    close(run.err_fd);
    if (err.find("tls_key_encrypted") == std::string::npos || err.find(enc) == std::string::npos)
        fail_msg("psc-authd did not name the encrypted key: %s", err.c_str());
}

void test_refuses_when_name_taken(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    auto squatter = connect(b->address, "squatter");
    assert_non_null(squatter.get());
    assert_true(sd_bus_request_name(squatter.get(), kDest, 0) >= 0);
    AuthdRun run = spawn_authd(b->address, unreachable_config(b->dir));
    const std::string err = read_all(run.err_fd);
    assert_int_equal(exit_code(reap(run.pid)), 1);
    close(run.err_fd);
    assert_true(err.find("Failed to own the bus name") != std::string::npos);
}

// The admin methods are exported by the binary (its vtable, not only the in-process one).
void test_admin_methods_exported(void**) {
    PrivateBus* b = spawned_bus();
    assert_non_null(b);
    AuthdRun run = spawn_authd(b->address, unreachable_config(b->dir));
    auto bus = connect(b->address);
    assert_true(wait_name_owned(bus.get()));
    auto r = call(bus.get(), "ListLogins", "");
    assert_string_equal(r.error.c_str(), "");
    assert_true(sd_bus_message_enter_container(r.msg.get(), 'a', "(sssssuu)") >= 0);
    kill(run.pid, SIGTERM);
    assert_int_equal(exit_code(reap(run.pid)), 0);
    close(run.err_fd);
}

} // namespace

#define T(name) cmocka_unit_test_setup_teardown(name, setup, cleanup_spawned)

int main() {
    g_root = geteuid() == 0;
    const struct CMUnitTest tests[] = {
        T(test_ready_after_name_owned),         T(test_serves_and_stops_on_sigterm),
        T(test_lost_bus_exits_non_zero),
        T(test_refused_start_logged_on_stderr), T(test_log_target_journal_keeps_stderr_quiet),
        T(test_refuses_unknown_log_target),     T(test_refuses_bad_config),
        T(test_refuses_encrypted_client_key),
        T(test_refuses_when_name_taken),        T(test_admin_methods_exported),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

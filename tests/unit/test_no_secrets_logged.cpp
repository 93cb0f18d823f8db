// SPDX-License-Identifier: LGPL-2.1-or-later
// design §8: psc-authd never logs a token, code, state, secret or callback address. The real binary
// runs on a private bus against mock-psc (client_secret_basic with the mock's secret), with the
// nss_wrapper test accounts, and writes its audit events on stderr (--log-target=stderr: the same
// KEY="value" fields the journal gets). A scripted browser approves at the wallet
// (&mock_approve=IDNAT) and then either follows the redirect to the daemon's listener or pastes it
// back with SubmitCallback. Everything the daemon wrote is then searched for the secrets the test
// saw on the wire. Every address is numeric (127.0.0.1): nss_wrapper's resolver hooks abort an
// ASan build on a host name lookup.
#include "bus_harness.hpp"
#include "errors.hpp"
#include "mock_harness.hpp"
#include "testing.hpp"

#include <csignal>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace psc;
using namespace psc::bustest;
using psc::mocktest::shared_mock;

namespace {

constexpr const char* kMedecin = "810001234567"; // → claire
constexpr const char* kStudent = "899900045871"; // → lucas, category E: denied

bool g_root = false;

struct Daemon {
    PrivateBus* bus = nullptr;
    AuthdRun run;
    SdBusPtr client;
};

std::string daemon_config(const std::string& dir) {
    const auto& s = shared_mock().state();
    const std::string map = dir + "/users.map";
    std::ofstream(map) << kMedecin << " claire\n" << kStudent << " lucas\n";
    ::chmod(map.c_str(), 0644);
    return write_authd_config(
        dir,
        "[provider]\nprofile = generic\nissuer = " + s.issuer + "\ndiscovery_url = " +
            s.discovery_url + "\nclient_id = " + s.client_id + "\nclient_secret_file = " + dir +
            "/client_secret\ntoken_auth_method = client_secret_basic" + "\nca_file = " + s.ca_file +
            "\nscopes = openid scope_all\nacr_values = eidas1" +
            "\nacr_accept = eidas1\n[callback]\ncallback_listen = " +
            "127.0.0.1:0\n[login]\ntimeout = 30\n[mapping]\n" +
            "identity_claim = preferred_username\nmap_file = " + map + "\ndeny_categories = E\n",
        s.client_secret);
}

Daemon start_daemon() {
    Daemon d;
    d.bus = spawned_bus();
    assert_non_null(d.bus);
    AuthdOptions opts;
    opts.keep_ld_preload = true; // the logins map to nss_wrapper's claire and lucas
    opts.extra_args = {"--log-target=stderr"};
    d.run = spawn_authd(d.bus->address, daemon_config(d.bus->dir), opts);
    d.client = connect(d.bus->address);
    assert_non_null(d.client.get());
    assert_true(wait_name_owned(d.client.get()));
    return d;
}

// SIGTERM, exit 0, and everything the daemon wrote on stderr.
std::string stop_daemon(Daemon& d) {
    kill(d.run.pid, SIGTERM);
    const int status = reap(d.run.pid);
    std::string err = read_all(d.run.err_fd);
    close(d.run.err_fd);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    return err;
}

// StartLogin once the provider is loaded (discovery and JWKS are fetched after start-up).
Reply start_when_ready(Daemon& d, const char* user) {
    for (int i = 0; i < 100; ++i) {
        Reply r = start_login(d.client.get(), user, "127.0.0.1", "login", "code");
        if (r.error != err_name(Errc::unavailable))
            return r;
        usleep(100'000);
    }
    fail_msg("the provider never became ready");
    return {};
}

// One query parameter of a URL, still percent-encoded (what would appear in a log verbatim).
std::string query_param(const std::string& url, const std::string& name) {
    const auto q = url.find('?');
    if (q == std::string::npos)
        return "";
    std::size_t pos = q + 1;
    while (pos < url.size()) {
        const auto amp = std::min(url.find('&', pos), url.size());
        const std::string kv = url.substr(pos, amp - pos);
        if (kv.rfind(name + "=", 0) == 0)
            return kv.substr(name.size() + 1);
        pos = amp + 1;
    }
    return "";
}

struct Wire {
    std::string login_id;
    std::string authorize_url; // carries state, nonce, code_challenge
    std::string callback;      // the redirect: code, state, iss
};

// Starts a login for `user` and approves it at the wallet as `idnat` (no redirect followed).
Wire approve(Daemon& d, const char* user, const char* idnat) {
    Wire w;
    Reply s = start_when_ready(d, user);
    w.login_id = login_id(s);
    auto display = read_dict(s.msg.get());
    w.authorize_url = display["url"];
    auto wallet = mocktest::browser_request(w.authorize_url + "&mock_approve=" + idnat,
                                            shared_mock().state().ca_file);
    assert_ok(wallet);
    assert_int_equal(wallet->status, 302);
    w.callback = wallet->location;
    assert_false(query_param(w.callback, "code").empty());
    return w;
}

void assert_absent(const std::string& log, const std::string& secret, const char* what) {
    assert_false(secret.empty());
    if (log.find(secret) != std::string::npos)
        fail_msg("psc-authd logged the %s", what);
}

void assert_no_secrets(const std::string& log, const Wire& w) {
    assert_absent(log, shared_mock().state().client_secret, "client secret");
    assert_absent(log, query_param(w.callback, "code"), "authorization code");
    assert_absent(log, query_param(w.callback, "state"), "state");
    assert_absent(log, query_param(w.authorize_url, "nonce"), "nonce");
    assert_absent(log, query_param(w.authorize_url, "code_challenge"), "PKCE challenge");
    assert_absent(log, w.callback, "callback address");
    assert_absent(log, "eyJ", "JWT");
    assert_absent(log, "?code=", "callback query");
}

void assert_has(const std::string& log, const std::string& field) {
    if (log.find(field) == std::string::npos)
        fail_msg("no %s in psc-authd's stderr:\n%s", field.c_str(), log.c_str());
}

int group_setup(void**) {
    g_root = geteuid() == 0;
    if (!g_root)
        return 0; // every test skips: only root may own org.psclogin.Auth1
    // The daemon's listener binds port 0, so its redirect_uri port is only known at run time.
    return mocktest::start_shared_mock({"--redirect-loopback-any-port"});
}

int group_teardown(void** state) {
    return g_root ? mocktest::stop_shared_mock(state) : 0;
}

int setup(void** state) {
    if (!g_root)
        skip();
    return mocktest::reset_shared_mock(state);
}

// The browser follows the redirect to the daemon's listener; WaitLogin then says yes.
void test_success_logs_fields_not_secrets(void**) {
    Daemon d = start_daemon();
    Wire w = approve(d, "claire", kMedecin);
    auto page = mocktest::browser_request(w.callback, shared_mock().state().ca_file);
    assert_ok(page);
    assert_int_equal(page->status, 200);
    auto r = call(d.client.get(), "WaitLogin", "su", w.login_id.c_str(), 10000u);
    assert_string_equal(r.error.c_str(), "");
    const std::string log = stop_daemon(d);
    assert_no_secrets(log, w);
    for (const char* f : {"PSC_EVENT=\"login_start\"", "PSC_EVENT=\"login_end\"",
                          "PAM_USER=\"claire\"", "PAM_SERVICE=\"login\"", "PAM_RHOST=\"127.0.0.1\"",
                          "PSC_FLOW=\"code\"", "PSC_RESULT=\"started\"", "PSC_RESULT=\"success\"",
                          "PSC_IDNAT=\"810001234567\"", "PSC_REASON=\"\""})
        assert_has(log, f);
    assert_has(log, "PSC_LOGIN_ID=\"" + w.login_id + "\"");
}

// The address pasted back (SubmitCallback) for a student nurse: denied, and still nothing leaks.
void test_denial_logs_reason_not_secrets(void**) {
    Daemon d = start_daemon();
    Wire w = approve(d, "lucas", kStudent);
    auto r = call(d.client.get(), "SubmitCallback", "ss", w.login_id.c_str(), w.callback.c_str());
    assert_error(r, Errc::denied, "category_denied");
    const std::string log = stop_daemon(d);
    assert_no_secrets(log, w);
    for (const char* f : {"PAM_USER=\"lucas\"", "PSC_EVENT=\"login_end\"", "PSC_RESULT=\"denied\"",
                          "PSC_REASON=\"category_denied\""})
        assert_has(log, f);
}

// SIGTERM with a login pending: the waiting caller gets Cancelled and the end is logged.
void test_sigterm_cancels_and_logs(void**) {
    Daemon d = start_daemon();
    Reply s = start_when_ready(d, "claire");
    const std::string id = login_id(s);
    sd_bus_slot* raw = nullptr;
    struct Outcome {
        bool done = false;
        std::string error, message;
    } outcome;
    assert_true(sd_bus_call_method_async(
                    d.client.get(), &raw, kDest, kPath, kIface, "WaitLogin",
                    [](sd_bus_message* m, void* userdata, sd_bus_error*) -> int {
                        auto* o = static_cast<Outcome*>(userdata);
                        const sd_bus_error* e = sd_bus_message_get_error(m);
                        o->done = true;
                        o->error = e && e->name ? e->name : "";
                        o->message = e && e->message ? e->message : "";
                        return 0;
                    },
                    &outcome, "su", id.c_str(), 20000u) >= 0);
    SdBusSlotPtr slot(raw);
    for (int i = 0; i < 20; ++i) // let the call reach the daemon
        (void)sd_bus_process(d.client.get(), nullptr), usleep(10'000);
    kill(d.run.pid, SIGTERM);
    for (int i = 0; i < 500 && !outcome.done; ++i) {
        while (sd_bus_process(d.client.get(), nullptr) > 0) {
        }
        if (!outcome.done)
            (void)sd_bus_wait(d.client.get(), 10'000);
    }
    assert_true(outcome.done);
    assert_string_equal(outcome.error.c_str(), err_name(Errc::cancelled).c_str());
    assert_true(outcome.message.rfind("shutdown", 0) == 0);
    const std::string log = stop_daemon(d);
    assert_has(log, "PSC_EVENT=\"login_end\"");
    assert_has(log, "PSC_RESULT=\"cancelled\"");
    assert_has(log, "PSC_REASON=\"shutdown\"");
    assert_absent(log, query_param(read_dict(s.msg.get())["url"], "state"), "state");
}

} // namespace

#define T(name) cmocka_unit_test_setup_teardown(name, setup, cleanup_spawned)

int main() {
    const struct CMUnitTest tests[] = {
        T(test_success_logs_fields_not_secrets),
        T(test_denial_logs_reason_not_secrets),
        T(test_sigterm_cancels_and_logs),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

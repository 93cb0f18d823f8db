// SPDX-License-Identifier: LGPL-2.1-or-later
// org.psclogin.Auth1 over a real private dbus-daemon whose config includes the installed policy
// file (tests/dbus/system-bus.conf.in). The bus layer runs in-process on its own sd-event thread
// with a scripted backend; clients are plain sd-bus connections, some from forked non-root
// processes (uids from nss_wrapper: claire = 1001). The audit events and the admin methods are in
// test_auth_bus_admin.cpp, the real psc-authd binary in test_authd_binary.cpp.
#include "errors.hpp"
#include "scripted_service.hpp"

#include <atomic>
#include <csignal>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <mutex>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace psc;
using namespace psc::bustest;

namespace {

// ---- tests ----------------------------------------------------------------------------------

void test_get_flows(void** state) {
    auto r = call(client(state), "GetFlows", "s", "sshd");
    assert_string_equal(r.error.c_str(), "");
    char** flows = nullptr;
    assert_true(sd_bus_message_read_strv(r.msg.get(), &flows) >= 0);
    assert_string_equal(flows[0], "code");
    assert_string_equal(flows[1], "ciba");
    assert_null(flows[2]);
    for (char** f = flows; *f; ++f)
        free(*f);
    free(flows);
}

void test_exception_becomes_internal(void** state) {
    assert_error(call(client(state), "GetFlows", "s", "throw"), Errc::internal, "exception");
}

void test_start_login_display(void** state) {
    auto r = start_login(client(state), "claire", "", "sshd", "ciba");
    const std::string id = login_id(r);
    assert_true(id.size() >= 43); // 256 random bits, base64url
    auto d = read_dict(r.msg.get());
    assert_string_equal(d["flow"].c_str(), "ciba");
    assert_string_equal(d["url"].c_str(), "https://idp.example.org/auth?x=1");
    assert_string_equal(d["expires_in"].c_str(), "180");
    assert_string_equal(d["accepts_paste"].c_str(), "1");
    assert_int_equal(pending_logins(client(state)), 1);
}

void test_login_ids_are_random(void** state) {
    auto a = start_login(client(state), "claire", "");
    auto b = start_login(client(state), "claire", "");
    assert_string_not_equal(login_id(a).c_str(), login_id(b).c_str());
}

void test_backend_start_error(void** state) {
    assert_error(start_login(client(state), "claire", "refuse"), Errc::unavailable,
                 "scripted_refusal");
    assert_int_equal(pending_logins(client(state)), 0);
}

void test_wait_success(void** state) {
    auto s = start_login(client(state), "claire", "ok");
    const std::string id = login_id(s);
    auto r = call(client(state), "WaitLogin", "su", id.c_str(), 5000u);
    assert_string_equal(r.error.c_str(), "");
    int done = 0;
    assert_true(sd_bus_message_read(r.msg.get(), "b", &done) >= 0);
    assert_true(done);
    auto d = read_dict(r.msg.get());
    assert_string_equal(d["user"].c_str(), "claire");
    assert_string_equal(d["idnat"].c_str(), "810001234567");
    assert_string_equal(d["auth_mode"].c_str(), "CARD");
}

void test_result_delivered_then_forgotten(void** state) {
    auto s = start_login(client(state), "claire", "ok");
    const std::string id = login_id(s);
    usleep(200'000); // done fires before anyone waits: the outcome is kept for the owner
    auto r = call(client(state), "WaitLogin", "su", id.c_str(), 0u);
    assert_string_equal(r.error.c_str(), "");
    assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 0u), Errc::invalid,
                 "no_such_login");
}

void test_wait_pending(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    auto r = call(client(state), "WaitLogin", "su", id.c_str(), 100u);
    assert_string_equal(r.error.c_str(), "");
    int done = 1;
    assert_true(sd_bus_message_read(r.msg.get(), "b", &done) >= 0);
    assert_false(done);
    auto d = read_dict(r.msg.get());
    assert_true(d.count("remaining") == 1);
    assert_true(std::stoi(d["remaining"]) > 100 && std::stoi(d["remaining"]) <= 180);
}

void test_wait_failure_maps_each_error(void** state) {
    for (int c = 0; c <= static_cast<int>(Errc::internal); ++c) {
        const auto code = static_cast<Errc>(c);
        const std::string rhost = "fail:" + std::string(errc_label(code));
        auto s = start_login(client(state), "root", rhost.c_str());
        const std::string id = login_id(s);
        const std::string reason = "scripted_" + std::string(errc_label(code));
        assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 5000u), code,
                     reason.c_str());
    }
}

void test_wait_unknown_id(void** state) {
    assert_error(call(client(state), "WaitLogin", "su", "nope", 0u), Errc::invalid,
                 "no_such_login");
}

void test_safety_timeout(void** state) {
    auto s = start_login(client(state), "claire", "", "quick"); // [service:quick] timeout 1 s
    const std::string id = login_id(s);
    const int before = g->svc.backend->cancelled_.load();
    assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 10000u), Errc::timeout,
                 "login_timeout");
    assert_int_equal(g->svc.backend->cancelled_.load(), before + 1);
}

void test_submit_callback(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    auto r = call(client(state), "SubmitCallback", "ss", id.c_str(),
                  "http://127.0.0.1:8765/callback?code=x&state=y");
    assert_string_equal(r.error.c_str(), "");
    auto d = read_dict(r.msg.get());
    assert_string_equal(d["user"].c_str(), "claire");
    assert_int_equal(pending_logins(client(state)), 0);
}

void test_submit_callback_rejected(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    assert_error(call(client(state), "SubmitCallback", "ss", id.c_str(), "bad"), Errc::invalid,
                 "state_mismatch");
}

void test_cancel_login(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    const int before = g->svc.backend->cancelled_.load();
    auto r = call(client(state), "CancelLogin", "s", id.c_str());
    assert_string_equal(r.error.c_str(), "");
    assert_int_equal(g->svc.backend->cancelled_.load(), before + 1);
    assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 0u), Errc::invalid,
                 "no_such_login");
}

// A second WaitLogin (or SubmitCallback) while one is outstanding on the same login is refused.
void test_second_wait_busy(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    sd_bus_slot* raw = nullptr;
    assert_true(sd_bus_call_method_async(client(state), &raw, kDest, kPath, kIface, "WaitLogin",
                                         nullptr, nullptr, "su", id.c_str(), 20000u) >= 0);
    SdBusSlotPtr first(raw);
    assert_error(call(client(state), "WaitLogin", "su", id.c_str(), 0u), Errc::busy,
                 "wait_in_progress");
}

void test_second_submit_busy(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    sd_bus_slot* raw = nullptr;
    // Not "bad": the scripted backend accepts it and finishes 20 ms later.
    assert_true(sd_bus_call_method_async(client(state), &raw, kDest, kPath, kIface,
                                         "SubmitCallback", nullptr, nullptr, "ss", id.c_str(),
                                         "http://127.0.0.1/callback") >= 0);
    SdBusSlotPtr first(raw);
    assert_error(call(client(state), "SubmitCallback", "ss", id.c_str(), "x"), Errc::busy,
                 "submit_in_progress");
}

void test_shutdown_cancels_waits(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    Reply r;
    std::thread waiter([&] { r = call(client(state), "WaitLogin", "su", id.c_str(), 20000u); });
    usleep(300'000);
    command('c');
    waiter.join();
    assert_error(r, Errc::cancelled, "shutdown");
}

void test_other_connection_cannot_use_login(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    auto other = connect(g->bus.address, "intruder");
    assert_non_null(other.get());
    assert_error(call(other.get(), "WaitLogin", "su", id.c_str(), 0u), Errc::invalid,
                 "no_such_login");
    assert_error(call(other.get(), "CancelLogin", "s", id.c_str()), Errc::invalid, "no_such_login");
    assert_error(call(other.get(), "SubmitCallback", "ss", id.c_str(), "x"), Errc::invalid,
                 "no_such_login");
    auto mine = call(client(state), "WaitLogin", "su", id.c_str(), 0u);
    assert_string_equal(mine.error.c_str(), ""); // still alive for its owner
}

void test_caller_leaving_cancels(void** state) {
    const int before = g->svc.backend->cancelled_.load();
    {
        auto leaver = connect(g->bus.address, "leaver");
        auto s = start_login(leaver.get(), "claire", "");
        (void)login_id(s);
        assert_int_equal(pending_logins(client(state)), 1);
    }
    wait_idle(client(state));
    assert_int_equal(g->svc.backend->cancelled_.load(), before + 1);
}

// StartLogin answers when the backend has the display (CIBA and the device grant wait for the
// provider): meanwhile the bus layer answers everyone else at once.
void test_slow_start_blocks_nobody(void** state) {
    std::atomic<bool> answered{false};
    std::string slow_id, slow_error;
    std::thread slow([&] {
        auto own = connect(g->bus.address, "slow");
        auto r = start_login(own.get(), "claire", "slowstart");
        slow_error = r.error;
        if (r.error.empty())
            slow_id = login_id(r);
        answered = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto t0 = std::chrono::steady_clock::now();
    auto quick = start_login(client(state), "lucas", "");
    (void)login_id(quick);
    auto flows = call(client(state), "GetFlows", "s", "sshd");
    assert_string_equal(flows.error.c_str(), "");
    assert_true(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(500));
    assert_false(answered.load());
    slow.join();
    assert_string_equal(slow_error.c_str(), "");
    assert_true(slow_id.size() >= 43);
}

// The provider refused the first request: StartLogin's own error, nothing left pending.
void test_start_refused_later(void** state) {
    assert_error(start_login(client(state), "claire", "startfail:denied"), Errc::denied,
                 "scripted_denied");
    assert_int_equal(pending_logins(client(state)), 0);
}

void test_caller_leaving_while_starting(void** state) {
    const int before = g->svc.backend->cancelled_.load();
    {
        auto leaver = connect(g->bus.address, "leaver");
        sd_bus_message* m = nullptr;
        assert_true(sd_bus_message_new_method_call(leaver.get(), &m, "org.psclogin.Auth1",
                                                   "/org/psclogin/Auth1", "org.psclogin.Auth1",
                                                   "StartLogin") >= 0);
        SdBusMessagePtr msg(m);
        assert_true(sd_bus_message_append(m, "sssss", "claire", "sshd", "slowstart", "", "") >= 0);
        assert_true(sd_bus_send(leaver.get(), m, nullptr) >= 0);
        assert_true(sd_bus_flush(leaver.get()) >= 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        assert_int_equal(pending_logins(client(state)), 1);
    }
    wait_idle(client(state));
    assert_int_equal(g->svc.backend->cancelled_.load(), before + 1);
}

void test_limit_per_user(void** state) {
    auto a = start_login(client(state), "claire", "");
    auto b = start_login(client(state), "claire", "");
    (void)login_id(a), (void)login_id(b);
    assert_error(start_login(client(state), "claire", ""), Errc::busy, "too_many_user_logins");
}

void test_limit_total(void** state) {
    const char* users[] = {"claire", "lucas", "sophie"};
    for (const char* u : users)
        for (int i = 0; i < 2; ++i) {
            auto r = start_login(client(state), u, "");
            (void)login_id(r);
        }
    assert_error(start_login(client(state), "root", ""), Errc::busy, "too_many_logins");
}

void test_string_too_long(void** state) {
    const std::string huge(1025, 'a');
    assert_error(start_login(client(state), huge.c_str(), ""), Errc::invalid, "arg_too_long");
    assert_error(call(client(state), "GetFlows", "s", huge.c_str()), Errc::invalid, "arg_too_long");
}

void test_string_control_char(void** state) {
    assert_error(start_login(client(state), "claire", "host\nforged: line"), Errc::invalid,
                 "arg_control_char");
}

// ---- non-root callers (forked, setresuid to claire) -------------------------------------------

int expect_start_as_claire(const char* user, const std::string& want_error, const char* reason) {
    auto bus = connect(g->bus.address, "claire");
    if (!bus)
        return 101;
    auto r = start_login(bus.get(), user, "");
    if (r.error != want_error)
        return 102;
    if (!want_error.empty() && r.message.rfind(reason, 0) != 0)
        return 103;
    return 0;
}

void test_non_root_may_start_for_itself(void**) {
    assert_int_equal(as_claire([] { return expect_start_as_claire("claire", "", ""); }), 0);
}

void test_non_root_denied_for_other_user(void**) {
    assert_int_equal(as_claire([] {
                         return expect_start_as_claire("lucas", err_name(Errc::denied),
                                                       "caller_not_user");
                     }),
                     0);
}

void test_non_root_denied_for_root(void**) {
    assert_int_equal(as_claire([] {
                         return expect_start_as_claire("root", err_name(Errc::denied),
                                                       "caller_not_user");
                     }),
                     0);
}

void test_non_root_unknown_user(void**) {
    assert_int_equal(as_claire([] {
                         return expect_start_as_claire("no-such-user", err_name(Errc::unknown_user),
                                                       "unknown_user");
                     }),
                     0);
}

void test_non_root_cannot_own_name(void**) {
    assert_int_equal(as_claire([] {
                         auto bus = connect(g->bus.address, "squatter");
                         if (!bus)
                             return 101;
                         int r = sd_bus_request_name(bus.get(), kDest, SD_BUS_NAME_QUEUE);
                         return r == -EACCES ? 0 : 102;
                     }),
                     0);
}

} // namespace

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main() {
    const struct CMUnitTest tests[] = {
        T(test_get_flows),
        T(test_exception_becomes_internal),
        T(test_start_login_display),
        T(test_login_ids_are_random),
        T(test_backend_start_error),
        T(test_slow_start_blocks_nobody),
        T(test_start_refused_later),
        T(test_caller_leaving_while_starting),
        T(test_wait_success),
        T(test_result_delivered_then_forgotten),
        T(test_wait_pending),
        T(test_wait_failure_maps_each_error),
        T(test_wait_unknown_id),
        T(test_safety_timeout),
        T(test_submit_callback),
        T(test_submit_callback_rejected),
        T(test_cancel_login),
        T(test_second_wait_busy),
        T(test_second_submit_busy),
        T(test_shutdown_cancels_waits),
        T(test_other_connection_cannot_use_login),
        T(test_caller_leaving_cancels),
        T(test_limit_per_user),
        T(test_limit_total),
        T(test_string_too_long),
        T(test_string_control_char),
        T(test_non_root_may_start_for_itself),
        T(test_non_root_denied_for_other_user),
        T(test_non_root_denied_for_root),
        T(test_non_root_unknown_user),
        T(test_non_root_cannot_own_name),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

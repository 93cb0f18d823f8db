// SPDX-License-Identifier: LGPL-2.1-or-later
// The operations side of org.psclogin.Auth1, on a private bus with a scripted backend
// (scripted_service.hpp): the audit events the bus layer hands to its LogSink (one login_start per
// StartLogin, exactly one login_end per accepted login, whatever ends it) and the root-only admin
// methods ListLogins and RefreshProvider.
#include "errors.hpp"
#include "scripted_service.hpp"

#include <unistd.h>

using namespace psc;
using namespace psc::bustest;

namespace {

// ---- audit events ---------------------------------------------------------------------------

std::vector<AuditEvent> events_of(const std::string& login_id) {
    std::vector<AuditEvent> out;
    for (auto& e : g->svc.sink.events())
        if (e.login_id == login_id)
            out.push_back(e);
    return out;
}

// Events are written on the service thread; a drop after a disconnect lands a little later.
std::vector<AuditEvent> wait_events(const std::string& login_id, std::size_t n) {
    for (int i = 0; i < 250 && events_of(login_id).size() < n; ++i)
        usleep(20'000);
    return events_of(login_id);
}

void assert_end(const AuditEvent& e, const char* result, const char* reason) {
    assert_int_equal(static_cast<int>(e.event), static_cast<int>(AuditKind::login_end));
    assert_string_equal(e.result.c_str(), result);
    assert_string_equal(e.reason.c_str(), reason);
}

void test_audit_start_and_success(void** state) {
    auto s = call(client(state), "StartLogin", "sssss", "claire", "sshd", "ok", "pts/7", "ciba");
    const std::string id = login_id(s);
    auto r = call(client(state), "WaitLogin", "su", id.c_str(), 5000u);
    assert_string_equal(r.error.c_str(), "");
    auto ev = wait_events(id, 2);
    assert_int_equal(ev.size(), 2);
    const AuditEvent& start = ev[0];
    assert_int_equal(static_cast<int>(start.event), static_cast<int>(AuditKind::login_start));
    assert_string_equal(start.result.c_str(), "started");
    assert_string_equal(start.user.c_str(), "claire");
    assert_string_equal(start.service.c_str(), "sshd");
    assert_string_equal(start.rhost.c_str(), "ok");
    assert_string_equal(start.tty.c_str(), "pts/7");
    assert_string_equal(start.flow.c_str(), "ciba");
    assert_int_equal(start.caller_uid, 0);
    assert_end(ev[1], "success", "");
    assert_string_equal(ev[1].idnat.c_str(), "810001234567");
    assert_string_equal(ev[1].user.c_str(), "claire");
}

void test_audit_failure_reason(void** state) {
    auto s = start_login(client(state), "claire", "fail:denied");
    const std::string id = login_id(s);
    (void)call(client(state), "WaitLogin", "su", id.c_str(), 5000u);
    auto ev = wait_events(id, 2);
    assert_int_equal(ev.size(), 2);
    assert_end(ev[1], "denied", "scripted_denied");
    assert_string_equal(ev[1].idnat.c_str(), "");
}

void test_audit_cancel(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    assert_string_equal(call(client(state), "CancelLogin", "s", id.c_str()).error.c_str(), "");
    auto ev = wait_events(id, 2);
    assert_int_equal(ev.size(), 2);
    assert_end(ev[1], "cancelled", "cancelled");
}

void test_audit_caller_left(void** state) {
    std::string id;
    {
        auto leaver = connect(g->bus.address, "leaver");
        auto s = start_login(leaver.get(), "claire", "");
        id = login_id(s);
    }
    wait_idle(client(state));
    auto ev = wait_events(id, 2);
    assert_int_equal(ev.size(), 2);
    assert_end(ev[1], "cancelled", "caller_left");
}

void test_audit_shutdown(void** state) {
    auto s = start_login(client(state), "claire", "");
    const std::string id = login_id(s);
    command('c');
    auto ev = wait_events(id, 2);
    assert_int_equal(ev.size(), 2);
    assert_end(ev[1], "cancelled", "shutdown");
}

void test_audit_timeout(void** state) {
    auto s = start_login(client(state), "claire", "", "quick");
    const std::string id = login_id(s);
    (void)call(client(state), "WaitLogin", "su", id.c_str(), 10000u);
    auto ev = wait_events(id, 2);
    assert_int_equal(ev.size(), 2);
    assert_end(ev[1], "timeout", "login_timeout");
}

// An outcome kept for its owner, then the owner leaves: still one login_end, not two.
void test_audit_one_end_per_login(void** state) {
    std::string id;
    {
        auto leaver = connect(g->bus.address, "leaver");
        auto s = start_login(leaver.get(), "claire", "ok");
        id = login_id(s);
        (void)wait_events(id, 2);
    }
    wait_idle(client(state));
    auto ev = events_of(id);
    assert_int_equal(ev.size(), 2);
    assert_end(ev[1], "success", "");
}

const AuditEvent* last_event(const std::vector<AuditEvent>& all) {
    return all.empty() ? nullptr : &all.back();
}

void test_audit_refused_start(void** state) {
    const auto before = g->svc.sink.events().size();
    assert_error(start_login(client(state), "claire", "refuse"), Errc::unavailable,
                 "scripted_refusal");
    auto all = g->svc.sink.events();
    assert_int_equal(all.size(), before + 1);
    const AuditEvent* e = last_event(all);
    assert_int_equal(static_cast<int>(e->event), static_cast<int>(AuditKind::login_start));
    assert_string_equal(e->result.c_str(), "unavailable");
    assert_string_equal(e->reason.c_str(), "scripted_refusal");
    assert_string_equal(e->user.c_str(), "claire");
    assert_string_equal(e->login_id.c_str(), "");
}

// A refused argument is not copied into the log (it may be hostile).
void test_audit_rejected_argument_not_logged(void** state) {
    assert_error(start_login(client(state), "claire", "host\nPSC_RESULT=success"), Errc::invalid,
                 "arg_control_char");
    const auto all = g->svc.sink.events();
    const AuditEvent* e = last_event(all);
    assert_non_null(e);
    assert_string_equal(e->reason.c_str(), "arg_control_char");
    assert_string_equal(e->rhost.c_str(), "");
    assert_string_equal(e->user.c_str(), "");
}

// ---- admin methods ------------------------------------------------------------------------------

struct Listed {
    std::string id, user, service, rhost, flow;
    uint32_t caller_uid = 0, seconds_left = 0;
};

std::vector<Listed> list_logins(sd_bus* bus) {
    auto r = call(bus, "ListLogins", "");
    assert_string_equal(r.error.c_str(), "");
    std::vector<Listed> out;
    assert_true(sd_bus_message_enter_container(r.msg.get(), 'a', "(sssssuu)") >= 0);
    const char *id, *user, *service, *rhost, *flow;
    Listed l;
    while (sd_bus_message_read(r.msg.get(), "(sssssuu)", &id, &user, &service, &rhost, &flow,
                               &l.caller_uid, &l.seconds_left) > 0) {
        l.id = id, l.user = user, l.service = service, l.rhost = rhost, l.flow = flow;
        out.push_back(l);
    }
    return out;
}

void test_list_logins(void** state) {
    auto a = start_login(client(state), "claire", "ws-12", "sshd", "code");
    auto b = start_login(client(state), "lucas", "", "login", "ciba");
    const std::string ida = login_id(a), idb = login_id(b);
    auto listed = list_logins(client(state));
    assert_int_equal(listed.size(), 2);
    const Listed& la = listed[0].id == ida ? listed[0] : listed[1];
    const Listed& lb = listed[0].id == ida ? listed[1] : listed[0];
    assert_string_equal(la.id.c_str(), ida.c_str());
    assert_string_equal(la.user.c_str(), "claire");
    assert_string_equal(la.service.c_str(), "sshd");
    assert_string_equal(la.rhost.c_str(), "ws-12");
    assert_string_equal(la.flow.c_str(), "code");
    assert_int_equal(la.caller_uid, 0);
    assert_true(la.seconds_left > 100 && la.seconds_left <= 180);
    assert_string_equal(lb.id.c_str(), idb.c_str());
    assert_string_equal(lb.user.c_str(), "lucas");
    assert_string_equal(lb.flow.c_str(), "ciba");
}

void test_list_logins_empty(void** state) {
    assert_int_equal(list_logins(client(state)).size(), 0);
}

int expect_admin_refused_as_claire(const char* member) {
    auto bus = connect(g->bus.address, "claire");
    if (!bus)
        return 101;
    auto r = call(bus.get(), member, "");
    if (r.error != err_name(Errc::denied))
        return 102;
    return r.message.rfind("caller_not_root", 0) == 0 ? 0 : 103;
}

void test_list_logins_refused_for_non_root(void**) {
    assert_int_equal(as_claire([] { return expect_admin_refused_as_claire("ListLogins"); }), 0);
}

void test_refresh_refused_for_non_root(void**) {
    const int before = g->svc.backend->refreshes.load();
    assert_int_equal(as_claire([] { return expect_admin_refused_as_claire("RefreshProvider"); }),
                     0);
    assert_int_equal(g->svc.backend->refreshes.load(), before);
}

// Each refresh test starts outside the previous one's rate-limit window (1 s here).
void fresh_refresh_window() {
    usleep(1'100'000);
}

void test_refresh_provider(void** state) {
    fresh_refresh_window();
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_ok;
    const int before = g->svc.backend->refreshes.load();
    auto r = call(client(state), "RefreshProvider", "");
    assert_string_equal(r.error.c_str(), "");
    assert_int_equal(g->svc.backend->refreshes.load(), before + 1);
}

void test_refresh_rate_limited(void** state) {
    fresh_refresh_window();
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_ok;
    assert_string_equal(call(client(state), "RefreshProvider", "").error.c_str(), "");
    const int before = g->svc.backend->refreshes.load();
    assert_error(call(client(state), "RefreshProvider", ""), Errc::busy, "refresh_rate_limited");
    assert_int_equal(g->svc.backend->refreshes.load(), before);
}

void test_refresh_failure_is_unavailable(void** state) {
    fresh_refresh_window();
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_fail;
    assert_error(call(client(state), "RefreshProvider", ""), Errc::unavailable, "jwks_fetch");
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_ok;
}

// The backend's own limiter (shared with the unknown-kid refetch) answers at once.
void test_refresh_backend_rate_limit(void** state) {
    fresh_refresh_window();
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_refuse;
    assert_error(call(client(state), "RefreshProvider", ""), Errc::busy, "jwks_rate_limited");
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_ok;
}

// Calls during a refresh wait for that refresh: one backend refresh, every caller answered.
void test_refresh_calls_join(void** state) {
    fresh_refresh_window();
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_slow;
    const int before = g->svc.backend->refreshes.load();
    Reply first;
    std::thread t([&] { first = call(client(state), "RefreshProvider", ""); });
    usleep(300'000);
    auto other = connect(g->bus.address, "second-admin");
    auto second = call(other.get(), "RefreshProvider", "");
    t.join();
    assert_string_equal(first.error.c_str(), "");
    assert_string_equal(second.error.c_str(), "");
    assert_int_equal(g->svc.backend->refreshes.load(), before + 1);
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_ok;
}

void test_refresh_cancelled_on_shutdown(void** state) {
    fresh_refresh_window();
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_slow;
    Reply r;
    std::thread t([&] { r = call(client(state), "RefreshProvider", ""); });
    usleep(300'000);
    command('c');
    t.join();
    assert_error(r, Errc::cancelled, "shutdown");
    usleep(1'500'000); // the backend's late outcome finds nobody to answer
    g->svc.backend->refresh_mode = ScriptedBackend::refresh_ok;
}

// A backend without on-demand refresh (the LoginBackend default) says so.
class MinimalBackend final : public LoginBackend {
public:
    std::vector<std::string> flows_for(std::string_view) const override { return {}; }
    Result<BackendLoginId> start(const LoginRequest&, LoginStartedCb, LoginDone) override {
        return make_error(Errc::internal, "unused");
    }
    Status submit_callback(BackendLoginId, std::string_view) override { return {}; }
    void check_account(const std::string&, std::function<void(Status)> done) override { done({}); }
    void cancel(BackendLoginId) noexcept override {}
};

void test_default_refresh_unsupported(void**) {
    MinimalBackend b;
    bool called = false;
    assert_reason(b.refresh_provider([&](Status) { called = true; }), "refresh_unsupported");
    assert_false(called);
}

} // namespace

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main() {
    const struct CMUnitTest tests[] = {
        T(test_audit_start_and_success),
        T(test_audit_failure_reason),
        T(test_audit_cancel),
        T(test_audit_caller_left),
        T(test_audit_shutdown),
        T(test_audit_timeout),
        T(test_audit_one_end_per_login),
        T(test_audit_refused_start),
        T(test_audit_rejected_argument_not_logged),
        T(test_list_logins),
        T(test_list_logins_empty),
        T(test_list_logins_refused_for_non_root),
        T(test_refresh_refused_for_non_root),
        T(test_refresh_provider),
        T(test_refresh_rate_limited),
        T(test_refresh_failure_is_unavailable),
        T(test_refresh_backend_rate_limit),
        T(test_refresh_calls_join),
        T(test_refresh_cancelled_on_shutdown),
        cmocka_unit_test(test_default_refresh_unsupported),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

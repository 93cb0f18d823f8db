// SPDX-License-Identifier: LGPL-2.1-or-later
// The `auth` logic against a scripted daemon and a scripted user: every way out returns the right
// PAM code, shows the right line, and cancels the daemon's login when it is still running.
#include "login_flow.hpp"
#include "testing.hpp"

#include <deque>
#include <security/_pam_types.h>

using namespace psc;
using namespace psc::pam;

namespace {

// A fake monotonic clock, advanced by the fake daemon as WaitLogin "blocks".
Clock::time_point g_now{};
Clock::time_point fake_now() {
    return g_now;
}

struct FakeApi final : AuthApi {
    Result<std::vector<std::string>> flows = std::vector<std::string>{"code"};
    Display display{
        "code", "https://psc.example/auth?state=s", "https://psc.example/auth?state=s", "", "", 180,
        true};
    Result<Started> start_error = make_error(Errc::internal, "unused");
    bool fail_start = false;
    std::deque<Result<Outcome>> waits;   // answered in order; when empty: pending
    std::deque<Result<Outcome>> submits; // answered in order
    std::vector<std::string> calls;
    std::vector<std::string> pasted;
    std::string started_flow;

    Result<std::vector<std::string>> get_flows(const std::string&, const std::string&) override {
        calls.push_back("GetUserFlows");
        return flows;
    }
    Result<Started> start_login(const LoginParams& p) override {
        calls.push_back("StartLogin");
        started_flow = p.flow;
        if (fail_start)
            return start_error;
        return Started{"id-1", display};
    }
    Result<Outcome> wait_login(const std::string& id, std::uint32_t ms) override {
        assert_string_equal(id.c_str(), "id-1");
        calls.push_back("WaitLogin");
        g_now += std::chrono::milliseconds(ms);
        if (waits.empty())
            return Outcome{false, 100, "", "", "", "", ""};
        auto r = std::move(waits.front());
        waits.pop_front();
        return r;
    }
    Result<Outcome> submit_callback(const std::string&, std::string_view address) override {
        calls.push_back("SubmitCallback");
        pasted.emplace_back(address);
        auto r = std::move(submits.front());
        submits.pop_front();
        return r;
    }
    Status cancel_login(const std::string&) override {
        calls.push_back("CancelLogin");
        return {};
    }
    Status open_session(const std::string&, const std::string&) override {
        calls.push_back("OpenSession");
        return {};
    }
    Status close_session(const std::string&) override {
        calls.push_back("CloseSession");
        return {};
    }
    [[nodiscard]] bool called(const char* name) const {
        return std::find(calls.begin(), calls.end(), name) != calls.end();
    }
};

struct FakeConv final : Conversation {
    std::vector<std::string> infos, errors, prompts;
    std::deque<Result<Secret>> answers; // when empty: conversation error
    bool fail_info = false;

    Status info(const std::string& t) override {
        if (fail_info)
            return make_error(Errc::cancelled, "conversation", "no conv");
        infos.push_back(t);
        return {};
    }
    void error(const std::string& t) noexcept override { errors.push_back(t); }
    Result<Secret> prompt(const std::string& t) override {
        prompts.push_back(t);
        if (answers.empty())
            return make_error(Errc::cancelled, "conversation", "Ctrl-C");
        auto r = std::move(answers.front());
        answers.pop_front();
        return r;
    }
    void answer(const char* s) { answers.emplace_back(Secret(s)); }
    [[nodiscard]] bool showed(const char* part) const {
        for (const auto* v : {&infos, &errors})
            for (const auto& s : *v)
                if (s.find(part) != std::string::npos)
                    return true;
        return false;
    }
};

struct FakeLog final : Log {
    std::vector<std::string> lines;
    void write(int, const std::string& l) noexcept override { lines.push_back(l); }
    [[nodiscard]] bool has(const char* part) const {
        for (const auto& l : lines)
            if (l.find(part) != std::string::npos)
                return true;
        return false;
    }
};

Outcome success(const char* user) {
    return Outcome{true, 0, user, "810001234567", "10", "CARD", ""};
}

LoginContext ctx(const char* rhost = "") {
    LoginContext c;
    c.user = "claire";
    c.service = "sshd";
    c.rhost = rhost;
    c.lang = Lang::en;
    c.now = &fake_now;
    return c;
}

} // namespace

static void test_local_success_passive_wait(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.waits.emplace_back(Outcome{false, 170, "", "", "", "", ""});
    api.waits.emplace_back(success("claire"));
    const auto r = run_login(api, conv, log, ctx());
    assert_int_equal(r.pam_code, PAM_SUCCESS);
    assert_string_equal(r.decision->idnat.c_str(), "810001234567");
    assert_true(conv.prompts.empty()); // local: no prompt, only info lines
    assert_true(conv.showed("https://psc.example/auth?state=s"));
    assert_true(conv.showed("QR code"));
    assert_false(api.called("CancelLogin"));
}

static void test_answer_for_other_user_is_perm_denied(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.waits.emplace_back(success("lucas"));
    const auto r = run_login(api, conv, log, ctx());
    assert_int_equal(r.pam_code, PAM_PERM_DENIED);
    assert_false(r.decision.has_value());
    assert_true(conv.showed("another account"));
    assert_true(log.has("answered for \"lucas\""));
}

static void test_daemon_denial_is_perm_denied_and_shown(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.waits.emplace_back(make_error(Errc::denied, "category_denied", "students"));
    const auto r = run_login(api, conv, log, ctx());
    assert_int_equal(r.pam_code, PAM_PERM_DENIED);
    assert_true(conv.showed("Access denied (category_denied)"));
    assert_false(api.called("CancelLogin")); // the daemon ended it itself
}

// An account psc-login does not manage (root, an unmapped user) passes to the next module at once
// and in silence: no menu, no StartLogin, no line on screen, no ack prompt over SSH.
static void test_unmanaged_account_passes_silently(void**) {
    for (const char* rhost : {"", "192.0.2.7"}) {
        FakeApi api;
        FakeConv conv;
        FakeLog log;
        api.flows = make_error(Errc::unknown_user, "system_user", "root");
        assert_int_equal(run_login(api, conv, log, ctx(rhost)).pam_code, PAM_USER_UNKNOWN);
        assert_false(api.called("StartLogin"));
        assert_true(conv.infos.empty());
        assert_true(conv.errors.empty());
        assert_true(conv.prompts.empty());
    }
}

static void test_daemon_unreachable_is_authinfo_unavail(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.flows = make_error(Errc::unavailable, "daemon_unreachable", "ServiceUnknown");
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_AUTHINFO_UNAVAIL);
    assert_false(api.called("StartLogin"));
    assert_true(conv.showed("unavailable"));
}

static void test_start_refused_is_mapped(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.fail_start = true;
    api.start_error = make_error(Errc::busy, "too_many_user_logins", "4 pending");
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_AUTH_ERR);
    assert_false(api.called("CancelLogin"));
}

static void test_ssh_conversation_error_cancels(void**) {
    FakeApi api;
    FakeConv conv; // no answers: the first prompt fails (Ctrl-C)
    FakeLog log;
    const auto r = run_login(api, conv, log, ctx("192.0.2.7"));
    assert_int_equal(r.pam_code, PAM_CONV_ERR);
    assert_true(api.called("CancelLogin"));
    assert_true(log.has("Failed to converse"));
    assert_true(log.has("login cancelled"));
}

static void test_info_failure_cancels(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    conv.fail_info = true;
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_CONV_ERR);
    assert_true(api.called("CancelLogin"));
}

static void test_ssh_no_qr_and_prompt_with_remaining_time(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    conv.answer("");
    conv.answer("");
    api.waits.emplace_back(Outcome{false, 120, "", "", "", "", ""});
    api.waits.emplace_back(success("claire"));
    const auto r = run_login(api, conv, log, ctx("192.0.2.7"));
    assert_int_equal(r.pam_code, PAM_SUCCESS);
    assert_false(conv.showed("QR code")); // qr=auto over SSH: the URL only
    assert_int_equal(conv.prompts.size(), 2);
    assert_true(conv.prompts[0].ends_with("paste the address: "));
    assert_true(conv.showed("Waiting for approval ("));
}

static void test_ssh_paste_back(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    conv.answer("  http://127.0.0.1:8765/callback?code=c&state=s  ");
    api.submits.emplace_back(success("claire"));
    assert_int_equal(run_login(api, conv, log, ctx("192.0.2.7")).pam_code, PAM_SUCCESS);
    assert_string_equal(api.pasted.at(0).c_str(), "http://127.0.0.1:8765/callback?code=c&state=s");
    assert_false(api.called("CancelLogin"));
}

static void test_rejected_paste_prompts_again(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    conv.answer("http://evil/callback?state=other");
    conv.answer("http://127.0.0.1:8765/callback?code=c&state=s");
    api.submits.emplace_back(make_error(Errc::invalid, "callback_state_mismatch", "x"));
    api.submits.emplace_back(success("claire"));
    // The probe after the refusal finds the login still pending (empty waits).
    assert_int_equal(run_login(api, conv, log, ctx("192.0.2.7")).pam_code, PAM_SUCCESS);
    assert_true(conv.showed("Address refused (callback_state_mismatch)"));
    assert_int_equal(conv.prompts.size(), 2);
}

// confirm_code on a local seat: WaitLogin says the browser's code is awaited; the module asks for
// it, a wrong one is refused and asked again, the right one finishes.
static void test_local_confirm_code(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    Outcome awaiting{false, 100, "", "", "", "", "", true};
    api.waits.emplace_back(awaiting);
    api.waits.emplace_back(awaiting); // the probe after the wrong code
    api.waits.emplace_back(awaiting); // still awaiting: asked again
    api.submits.emplace_back(make_error(Errc::invalid, "confirm_code_wrong", "2 attempts left"));
    api.submits.emplace_back(success("claire"));
    conv.answer("ABC-DEF");
    conv.answer("k7q-4m2");
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_SUCCESS);
    assert_int_equal(conv.prompts.size(), 2);
    assert_string_equal(conv.prompts[0].c_str(), "Code shown by the browser: ");
    assert_true(conv.showed("Code refused (confirm_code_wrong)"));
    assert_string_equal(api.pasted.at(1).c_str(), "k7q-4m2");
}

static void test_ssh_prompt_mentions_code(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.display.confirm_code = true;
    conv.answer("K7Q4M2");
    api.submits.emplace_back(success("claire"));
    assert_int_equal(run_login(api, conv, log, ctx("192.0.2.7")).pam_code, PAM_SUCCESS);
    assert_true(conv.prompts.at(0).find("type the browser's code") != std::string::npos);
}

static void test_paste_ending_the_login_fails(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    conv.answer("http://127.0.0.1:8765/callback?error=access_denied&state=s");
    api.submits.emplace_back(make_error(Errc::denied, "access_denied", "user refused"));
    api.waits.emplace_back(make_error(Errc::invalid, "no_such_login", "gone"));
    assert_int_equal(run_login(api, conv, log, ctx("192.0.2.7")).pam_code, PAM_PERM_DENIED);
    assert_true(conv.showed("access_denied"));
}

static void test_oversized_paste_is_not_sent(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    conv.answer(std::string(3000, 'a').c_str());
    conv.answer("");
    api.waits.emplace_back(success("claire"));
    assert_int_equal(run_login(api, conv, log, ctx("192.0.2.7")).pam_code, PAM_SUCCESS);
    assert_false(api.called("SubmitCallback"));
    assert_true(conv.showed("Address too long"));
}

static void test_ciba_prompt_enter_and_code(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.flows = std::vector<std::string>{"ciba"};
    api.display = Display{"ciba", "", "", "42", "", 120, false};
    conv.answer("typed something");
    api.waits.emplace_back(success("claire"));
    assert_int_equal(run_login(api, conv, log, ctx("192.0.2.7")).pam_code, PAM_SUCCESS);
    assert_true(conv.showed(">> 42 <<"));
    assert_true(conv.prompts[0].ends_with("once approved: "));
    assert_false(api.called("SubmitCallback"));
    assert_true(conv.showed("Nothing to paste"));
}

static void test_module_deadline_cancels(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    auto c = ctx();
    c.options.timeout = std::chrono::seconds(20); // the fake WaitLogin never finishes
    const auto r = run_login(api, conv, log, c);
    assert_int_equal(r.pam_code, PAM_AUTH_ERR);
    assert_true(api.called("CancelLogin"));
    assert_true(conv.showed("Sign-in timed out (pam_timeout)"));
}

static void test_daemon_timeout_is_auth_err(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.waits.emplace_back(make_error(Errc::timeout, "login_timeout", "late"));
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_AUTH_ERR);
    assert_false(api.called("CancelLogin"));
}

static void test_passive_wait_shows_remaining_time(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    for (int i = 0; i < 7; ++i) // 7 slices of 5 s: past the 30 s mark
        api.waits.emplace_back(Outcome{false, 100, "", "", "", "", ""});
    api.waits.emplace_back(success("claire"));
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_SUCCESS);
    assert_true(conv.showed("Waiting for approval (2 min"));
}

static void test_flows_filter_and_menu(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.flows = std::vector<std::string>{"ciba", "code", "device"};
    auto c = ctx();
    c.options.flows = {"code", "device"};
    conv.answer("2");
    api.waits.emplace_back(success("claire"));
    assert_int_equal(run_login(api, conv, log, c).pam_code, PAM_SUCCESS);
    assert_string_equal(api.started_flow.c_str(), "device");
    assert_true(conv.showed("1) browser"));
    assert_true(conv.showed("2) code on another device"));
    assert_false(conv.showed("e-CPS app notification"));
}

static void test_menu_empty_answer_picks_first(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.flows = std::vector<std::string>{"ciba", "code"};
    conv.answer("");
    api.waits.emplace_back(success("claire"));
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_SUCCESS);
    assert_string_equal(api.started_flow.c_str(), "ciba");
}

static void test_menu_invalid_answers_fail(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.flows = std::vector<std::string>{"ciba", "code"};
    conv.answer("3");
    conv.answer("x");
    conv.answer("0");
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_AUTH_ERR);
    assert_false(api.called("StartLogin"));
    assert_true(conv.showed("Invalid choice"));
}

static void test_menu_conversation_error(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.flows = std::vector<std::string>{"ciba", "code"};
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_CONV_ERR);
    assert_false(api.called("StartLogin"));
}

static void test_prompt_never_takes_first_flow(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.flows = std::vector<std::string>{"ciba", "code"};
    auto c = ctx("192.0.2.7");
    c.options.prompt = PromptMode::never;
    api.waits.emplace_back(success("claire"));
    assert_int_equal(run_login(api, conv, log, c).pam_code, PAM_SUCCESS);
    assert_true(conv.prompts.empty());
    assert_string_equal(api.started_flow.c_str(), "ciba");
}

static void test_no_common_flow_fails_without_start(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    auto c = ctx();
    c.options.flows = {"device"};
    assert_int_equal(run_login(api, conv, log, c).pam_code, PAM_SYSTEM_ERR);
    assert_false(api.called("StartLogin"));
    assert_true(log.has("no_flow"));
}

// Over SSH, a refusal ends with one more prompt: OpenSSH shows the error line only with it.
static void test_ssh_denial_ends_with_ack_prompt(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.flows = std::vector<std::string>{"ciba"};
    api.display = Display{"ciba", "", "", "42", "", 120, false};
    conv.answer(""); // Enter once "approved"
    conv.answer(""); // Enter to close
    api.waits.emplace_back(make_error(Errc::denied, "category_denied", "student"));
    assert_int_equal(run_login(api, conv, log, ctx("192.0.2.7")).pam_code, PAM_PERM_DENIED);
    assert_true(conv.showed("Access denied (category_denied)"));
    assert_int_equal(conv.prompts.size(), 2);
    assert_true(conv.prompts[1].ends_with("Press Enter to close: "));
}

// The answer to that last prompt changes nothing, even a failed conversation.
static void test_ssh_ack_prompt_failure_keeps_code(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.fail_start = true;
    api.start_error = make_error(Errc::invalid, "flow_not_allowed", "no");
    assert_int_equal(run_login(api, conv, log, ctx("192.0.2.7")).pam_code, PAM_AUTH_ERR);
    assert_int_equal(conv.prompts.size(), 1); // the ack prompt; the fake answers Ctrl-C
    assert_true(conv.prompts[0].ends_with("Press Enter to close: "));
}

// No ack prompt locally (the terminal shows errors), nor for PAM_AUTHINFO_UNAVAIL, whose
// break-glass line prompts next anyway.
static void test_no_ack_prompt_locally_or_when_unavailable(void**) {
    FakeApi api;
    FakeConv conv;
    FakeLog log;
    api.waits.emplace_back(make_error(Errc::denied, "category_denied", "student"));
    assert_int_equal(run_login(api, conv, log, ctx()).pam_code, PAM_PERM_DENIED);
    assert_true(conv.prompts.empty());
    FakeApi down;
    down.fail_start = true;
    down.start_error = make_error(Errc::unavailable, "provider_not_ready", "down");
    FakeConv ssh;
    assert_int_equal(run_login(down, ssh, log, ctx("192.0.2.7")).pam_code, PAM_AUTHINFO_UNAVAIL);
    assert_true(ssh.prompts.empty());
    assert_true(ssh.showed("unavailable (provider_not_ready)"));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_success_passive_wait),
        cmocka_unit_test(test_answer_for_other_user_is_perm_denied),
        cmocka_unit_test(test_daemon_denial_is_perm_denied_and_shown),
        cmocka_unit_test(test_unmanaged_account_passes_silently),
        cmocka_unit_test(test_daemon_unreachable_is_authinfo_unavail),
        cmocka_unit_test(test_start_refused_is_mapped),
        cmocka_unit_test(test_ssh_conversation_error_cancels),
        cmocka_unit_test(test_info_failure_cancels),
        cmocka_unit_test(test_ssh_no_qr_and_prompt_with_remaining_time),
        cmocka_unit_test(test_ssh_paste_back),
        cmocka_unit_test(test_rejected_paste_prompts_again),
        cmocka_unit_test(test_local_confirm_code),
        cmocka_unit_test(test_ssh_prompt_mentions_code),
        cmocka_unit_test(test_paste_ending_the_login_fails),
        cmocka_unit_test(test_oversized_paste_is_not_sent),
        cmocka_unit_test(test_ciba_prompt_enter_and_code),
        cmocka_unit_test(test_module_deadline_cancels),
        cmocka_unit_test(test_daemon_timeout_is_auth_err),
        cmocka_unit_test(test_passive_wait_shows_remaining_time),
        cmocka_unit_test(test_flows_filter_and_menu),
        cmocka_unit_test(test_menu_empty_answer_picks_first),
        cmocka_unit_test(test_menu_invalid_answers_fail),
        cmocka_unit_test(test_menu_conversation_error),
        cmocka_unit_test(test_prompt_never_takes_first_flow),
        cmocka_unit_test(test_no_common_flow_fails_without_start),
        cmocka_unit_test(test_ssh_denial_ends_with_ack_prompt),
        cmocka_unit_test(test_ssh_ack_prompt_failure_keeps_code),
        cmocka_unit_test(test_no_ack_prompt_locally_or_when_unavailable),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

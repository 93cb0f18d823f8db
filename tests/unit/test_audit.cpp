// SPDX-License-Identifier: LGPL-2.1-or-later
// daemon/audit.hpp: the fields of a login event, their one-line form, and the choice of sink.
#include "audit.hpp"
#include "testing.hpp"

#include <unistd.h>

using namespace psc;

namespace {

AuditEvent sample_end() {
    AuditEvent e;
    e.event = AuditKind::login_end;
    e.user = "claire";
    e.service = "sshd";
    e.rhost = "10.0.0.7";
    e.tty = "ssh";
    e.flow = "code";
    e.idnat = "810001234567";
    e.result = "success";
    e.caller_uid = 0;
    e.login_id = "abc";
    return e;
}

std::string field(const std::vector<AuditField>& f, const std::string& key) {
    for (const auto& [k, v] : f)
        if (k == key)
            return v;
    return "<absent>";
}

void fields_of_success(void**) {
    const auto f = audit_fields(sample_end());
    assert_string_equal(f[0].first.c_str(), "MESSAGE");
    assert_string_equal(f[0].second.c_str(), "login end for claire (sshd): success");
    assert_string_equal(field(f, "PRIORITY").c_str(), "5");
    assert_string_equal(field(f, "MESSAGE_ID").c_str(), std::string(kAuditLoginEndId).c_str());
    assert_string_equal(field(f, "PSC_EVENT").c_str(), "login_end");
    assert_string_equal(field(f, "PAM_USER").c_str(), "claire");
    assert_string_equal(field(f, "PAM_SERVICE").c_str(), "sshd");
    assert_string_equal(field(f, "PAM_RHOST").c_str(), "10.0.0.7");
    assert_string_equal(field(f, "PAM_TTY").c_str(), "ssh");
    assert_string_equal(field(f, "PSC_FLOW").c_str(), "code");
    assert_string_equal(field(f, "PSC_IDNAT").c_str(), "810001234567");
    assert_string_equal(field(f, "PSC_RESULT").c_str(), "success");
    assert_string_equal(field(f, "PSC_REASON").c_str(), "");
    assert_string_equal(field(f, "PSC_CALLER_UID").c_str(), "0");
    assert_string_equal(field(f, "PSC_LOGIN_ID").c_str(), "abc");
}

void start_event_has_its_own_id(void**) {
    AuditEvent e = sample_end();
    e.event = AuditKind::login_start;
    e.result = "started";
    const auto f = audit_fields(e);
    assert_string_equal(field(f, "MESSAGE_ID").c_str(), std::string(kAuditLoginStartId).c_str());
    assert_string_equal(field(f, "PSC_EVENT").c_str(), "login_start");
    assert_string_equal(field(f, "PRIORITY").c_str(), "6");
}

void denial_is_a_warning_with_reason(void**) {
    AuditEvent e = sample_end();
    e.result = "denied";
    e.reason = "category_denied";
    e.idnat.clear();
    const auto f = audit_fields(e);
    assert_string_equal(field(f, "PRIORITY").c_str(), "4");
    assert_string_equal(field(f, "PSC_REASON").c_str(), "category_denied");
    assert_string_equal(f[0].second.c_str(),
                        "login end for claire (sshd): denied (category_denied)");
}

void outage_is_an_error(void**) {
    AuditEvent e = sample_end();
    e.result = "unavailable";
    e.reason = "provider_not_ready";
    assert_string_equal(field(audit_fields(e), "PRIORITY").c_str(), "3");
}

void optional_fields_left_out(void**) {
    AuditEvent e = sample_end();
    e.tty.clear();
    e.login_id.clear();
    e.caller_uid = static_cast<uid_t>(-1);
    const auto f = audit_fields(e);
    assert_string_equal(field(f, "PAM_TTY").c_str(), "<absent>");
    assert_string_equal(field(f, "PSC_LOGIN_ID").c_str(), "<absent>");
    assert_string_equal(field(f, "PSC_CALLER_UID").c_str(), "<absent>");
    assert_string_equal(field(f, "PAM_RHOST").c_str(), "10.0.0.7"); // design §8 fields always
}

// A hostile value cannot start a new line or a new journal field.
void control_chars_replaced(void**) {
    AuditEvent e = sample_end();
    e.reason = "x\nPSC_RESULT=success\r";
    const auto f = audit_fields(e);
    assert_string_equal(field(f, "PSC_REASON").c_str(), "x?PSC_RESULT=success?");
    assert_true(audit_line(e).find('\n') == std::string::npos);
}

void values_capped(void**) {
    AuditEvent e = sample_end();
    e.reason = std::string(5000, 'r');
    assert_int_equal(field(audit_fields(e), "PSC_REASON").size(), 256);
}

void line_quotes_and_escapes(void**) {
    AuditEvent e = sample_end();
    e.rhost = "a\"b\\c";
    const std::string line = audit_line(e);
    assert_true(line.rfind("psc-authd: login end for claire (sshd): success ", 0) == 0);
    assert_true(line.find(" PAM_RHOST=\"a\\\"b\\\\c\" ") != std::string::npos);
    assert_true(line.find(" PSC_RESULT=\"success\" ") != std::string::npos);
    assert_true(line.find("MESSAGE=") == std::string::npos); // the message leads the line instead
}

void stream_sink_writes_one_line(void**) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    StreamSink sink(fds[1]);
    sink.audit(sample_end());
    close(fds[1]);
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    close(fds[0]);
    assert_true(n > 0);
    const std::string got(buf, static_cast<std::size_t>(n));
    assert_string_equal(got.c_str(), (audit_line(sample_end()) + "\n").c_str());
}

void log_targets_parsed(void**) {
    assert_true(*parse_log_target("auto") == LogTarget::automatic);
    assert_true(*parse_log_target("journal") == LogTarget::journal);
    assert_true(*parse_log_target("stderr") == LogTarget::stderr_lines);
}

void log_target_unknown(void**) {
    assert_reason(parse_log_target("syslog"), "log_target_unknown");
    assert_reason(parse_log_target(""), "log_target_unknown");
}

void auto_target_follows_journal_stream(void**) {
    auto under_systemd = make_log_sink(LogTarget::automatic, "8:12345");
    assert_non_null(dynamic_cast<JournalSink*>(under_systemd.get()));
    auto by_hand = make_log_sink(LogTarget::automatic, nullptr);
    assert_non_null(dynamic_cast<StreamSink*>(by_hand.get()));
    auto empty = make_log_sink(LogTarget::automatic, "");
    assert_non_null(dynamic_cast<StreamSink*>(empty.get()));
}

void explicit_target_wins(void**) {
    assert_non_null(dynamic_cast<StreamSink*>(make_log_sink(LogTarget::stderr_lines, "8:1").get()));
    assert_non_null(dynamic_cast<JournalSink*>(make_log_sink(LogTarget::journal, nullptr).get()));
}

} // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_of_success),
        cmocka_unit_test(start_event_has_its_own_id),
        cmocka_unit_test(denial_is_a_warning_with_reason),
        cmocka_unit_test(outage_is_an_error),
        cmocka_unit_test(optional_fields_left_out),
        cmocka_unit_test(control_chars_replaced),
        cmocka_unit_test(values_capped),
        cmocka_unit_test(line_quotes_and_escapes),
        cmocka_unit_test(stream_sink_writes_one_line),
        cmocka_unit_test(log_targets_parsed),
        cmocka_unit_test(log_target_unknown),
        cmocka_unit_test(auto_target_follows_journal_stream),
        cmocka_unit_test(explicit_target_wins),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

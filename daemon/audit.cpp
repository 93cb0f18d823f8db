// SPDX-License-Identifier: LGPL-2.1-or-later
#include "audit.hpp"

#include "strutil.hpp"

#include <cerrno>
#include <cstring>
#include <sys/uio.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

namespace psc {

namespace {

// Arguments are capped at the bus (1 KiB by default); this caps what the engine adds (reasons,
// idNat) and keeps one event well under the journal's line limits.
constexpr std::size_t kMaxValue = 256;

std::string clean(std::string_view v) {
    std::string s = strip_control(v.substr(0, kMaxValue));
    return s;
}

// Refusals and denials are what an operator looks for; outages are errors; the rest is routine.
int priority_of(const AuditEvent& e) {
    const std::string_view r = e.result;
    // An account psc-login does not manage, passed on to the next PAM module, is routine too.
    if (r == "started" || r == "cancelled" || r == "timeout" || r == "unknown-user")
        return LOG_INFO;
    if (r == "success")
        return LOG_NOTICE;
    if (r == "denied" || r == "invalid" || r == "busy")
        return LOG_WARNING;
    return LOG_ERR;
}

struct KindNames {
    std::string_view message, event, id;
};

KindNames names_of(AuditKind k) {
    switch (k) {
    case AuditKind::login_start:
        return {"login start for ", "login_start", kAuditLoginStartId};
    case AuditKind::login_end:
        return {"login end for ", "login_end", kAuditLoginEndId};
    case AuditKind::session_open:
        return {"session open for ", "session_open", kAuditSessionOpenId};
    case AuditKind::session_close:
        return {"session close for ", "session_close", kAuditSessionCloseId};
    case AuditKind::logout:
        return {"logout at the provider for ", "logout", kAuditLogoutId};
    case AuditKind::backchannel_logout:
        return {"back-channel logout for ", "backchannel_logout", kAuditBackchannelLogoutId};
    }
    return {"event for ", "unknown", kAuditLoginEndId};
}

std::string message_of(const AuditEvent& e) {
    std::string m(names_of(e.event).message);
    m += clean(e.user) + " (" + clean(e.service) + "): " + clean(e.result);
    if (!e.reason.empty())
        m += " (" + clean(e.reason) + ")";
    return m;
}

void add(std::vector<AuditField>& out, const char* key, std::string_view value, bool always) {
    if (always || !value.empty())
        out.emplace_back(key, clean(value));
}

// Quotes a value for the one-line form: the line stays one line and "KEY=" inside a value cannot
// be mistaken for a field.
std::string quoted(std::string_view v) {
    std::string out = "\"";
    for (char c : v) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

} // namespace

std::vector<AuditField> audit_fields(const AuditEvent& e) {
    std::vector<AuditField> f;
    const KindNames names = names_of(e.event);
    f.emplace_back("MESSAGE", message_of(e));
    f.emplace_back("PRIORITY", std::to_string(priority_of(e)));
    f.emplace_back("MESSAGE_ID", std::string(names.id));
    f.emplace_back("PSC_EVENT", std::string(names.event));
    add(f, "PAM_USER", e.user, true);
    add(f, "PAM_SERVICE", e.service, true);
    add(f, "PAM_RHOST", e.rhost, true);
    add(f, "PAM_TTY", e.tty, false);
    add(f, "PSC_FLOW", e.flow, true);
    add(f, "PSC_IDNAT", e.idnat, true);
    add(f, "PSC_IDNAT_ALIAS", e.idnat_alias, false);
    add(f, "PSC_RESULT", e.result, true);
    add(f, "PSC_REASON", e.reason, true);
    if (e.caller_uid != static_cast<uid_t>(-1))
        f.emplace_back("PSC_CALLER_UID", std::to_string(e.caller_uid));
    add(f, "PSC_LOGIN_ID", e.login_id, false);
    add(f, "PSC_SESSION_ID", e.session_id, false);
    return f;
}

std::string audit_line(const AuditEvent& e) {
    const auto fields = audit_fields(e);
    std::string line = "psc-authd: " + fields.front().second;
    for (std::size_t i = 1; i < fields.size(); ++i)
        line += " " + fields[i].first + "=" + quoted(fields[i].second);
    return line;
}

void JournalSink::audit(const AuditEvent& e) noexcept {
    try {
        std::vector<std::string> kv;
        for (auto& [k, v] : audit_fields(e))
            kv.push_back(k + "=" + v);
        kv.emplace_back("SYSLOG_IDENTIFIER=psc-authd");
        std::vector<iovec> iov;
        for (auto& s : kv)
            iov.push_back(iovec{s.data(), s.size()});
        (void)sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    } catch (...) {
    }
}

void StreamSink::audit(const AuditEvent& e) noexcept {
    try {
        const std::string line = audit_line(e) + "\n";
        std::size_t off = 0;
        while (off < line.size()) {
            const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return;
            off += static_cast<std::size_t>(n);
        }
    } catch (...) {
    }
}

Result<LogTarget> parse_log_target(std::string_view s) {
    if (s == "auto")
        return LogTarget::automatic;
    if (s == "journal")
        return LogTarget::journal;
    if (s == "stderr")
        return LogTarget::stderr_lines;
    return make_error(Errc::invalid, "log_target_unknown",
                      "log target must be auto, journal or stderr, not \"" + strip_control(s) +
                          "\"");
}

std::unique_ptr<LogSink> make_log_sink(LogTarget target, const char* journal_stream_env) {
    // systemd.exec(5): JOURNAL_STREAM is set when stderr goes to the journal; structured fields
    // are then worth sending directly instead of as text.
    const bool journal = target == LogTarget::journal ||
                         (target == LogTarget::automatic && journal_stream_env != nullptr &&
                          *journal_stream_env != '\0');
    if (journal)
        return std::make_unique<JournalSink>();
    return std::make_unique<StreamSink>(STDERR_FILENO);
}

} // namespace psc

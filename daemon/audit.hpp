// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-authd's audit trail (design §8): one event when a login starts and one when it ends, with the
// journal fields operators filter on (PAM_USER, PAM_SERVICE, PAM_RHOST, PSC_IDNAT, PSC_FLOW,
// PSC_RESULT, PSC_REASON). The bus layer only builds events and hands them to a LogSink; main
// picks where they go (STYLE: library code does not log), and tests capture them.
//
// What an event may carry is fixed here: names, the flow, the idNat, stable reason tokens. Never a
// token, code, state, secret or callback address — there is no field for them.
#pragma once

#include "result.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace psc {

enum class AuditKind {
    login_start, // StartLogin accepted ("started") or refused (the error's label)
    login_end,   // the one outcome of an accepted login
    session_open,  // the PAM session of a psc-login authentication opened (PSC_SESSION_ID)
    session_close, // ... and closed
    logout,        // a logout at the provider (end_session_endpoint): "success" or the failure
    // a logout token from the provider (back-channel): per session ended, "success" once logind
    // locked/terminated it, or the failure; a refused token, with its reason
    backchannel_logout,
};

struct AuditEvent {
    AuditKind event = AuditKind::login_start;
    std::string user;    // PAM_USER
    std::string service; // PAM_SERVICE
    std::string rhost;   // PAM_RHOST
    std::string tty;     // PAM_TTY
    std::string flow;    // PSC_FLOW
    // PSC_IDNAT: the person's own idNat, known once an ID token was validated (success and
    // every refusal after that point); "" before.
    std::string idnat;
    std::string idnat_alias; // PSC_IDNAT_ALIAS: the former identifier that matched the account
    // PSC_RESULT: "started", "success", or errc_label() of the failure ("denied", "timeout",
    // "cancelled", "unavailable", "invalid", "unknown_user", "busy", "internal", ...).
    std::string result;
    std::string reason;                        // PSC_REASON: the stable reason token, "" on success
    uid_t caller_uid = static_cast<uid_t>(-1); // -1: not known (creds unavailable)
    std::string login_id;                      // PSC_LOGIN_ID ("" when none was assigned)
    std::string session_id;                    // PSC_SESSION_ID (session events)
};

using AuditField = std::pair<std::string, std::string>;

// The journal fields of an event, in a fixed order: MESSAGE, PRIORITY, MESSAGE_ID, PSC_EVENT, then
// the design §8 fields. Values have control characters replaced and are capped, so a hostile rhost
// cannot forge a second line or field. Empty optional fields are left out.
[[nodiscard]] std::vector<AuditField> audit_fields(const AuditEvent& e);

// The same fields as one text line: `psc-authd: MESSAGE KEY="value" ...` with `\` and `"`
// escaped (what the stderr sink writes; also how tests read the journal form).
[[nodiscard]] std::string audit_line(const AuditEvent& e);

// sd-journal MESSAGE_IDs (journalctl MESSAGE_ID=...), stable across releases.
inline constexpr std::string_view kAuditLoginStartId = "518a489343eb47a5a3f62ca07a10b055";
inline constexpr std::string_view kAuditLoginEndId = "466bee6f609a479ea7f5f234cc273940";
inline constexpr std::string_view kAuditSessionOpenId = "1d3c4f0e3a5b4c8e9d1f2a7b6c5e4d30";
inline constexpr std::string_view kAuditSessionCloseId = "7a2e9c1b5d4f4e6a8b3c0d9e1f2a3b41";
inline constexpr std::string_view kAuditLogoutId = "c4b8e2d1f6a34b5c9e7d0a1b2c3d4e52";
inline constexpr std::string_view kAuditBackchannelLogoutId = "5a0e3f7b9c2d4e61a8b7c6d5e4f30b19";

class LogSink {
public:
    virtual ~LogSink() = default;
    // Must not throw or block for long; failures to write are swallowed (an audit sink that
    // cannot write must not turn a login into a crash).
    virtual void audit(const AuditEvent& e) noexcept = 0;
};

// sd_journal_sendv with the fields of audit_fields().
class JournalSink final : public LogSink {
public:
    void audit(const AuditEvent& e) noexcept override;
};

// audit_line() plus '\n', written with one write(2) to `fd` (stderr by default) so concurrent
// writers do not interleave a line.
class StreamSink final : public LogSink {
public:
    explicit StreamSink(int fd = 2) noexcept : fd_(fd) {}
    void audit(const AuditEvent& e) noexcept override;

private:
    int fd_;
};

// Discards everything (a bus layer built without a sink).
class NullSink final : public LogSink {
public:
    void audit(const AuditEvent&) noexcept override {}
};

enum class LogTarget { automatic, journal, stderr_lines };

// "auto", "journal", "stderr". Reasons: log_target_unknown.
[[nodiscard]] Result<LogTarget> parse_log_target(std::string_view s);

// auto: the journal when stderr is connected to it (JOURNAL_STREAM, set by systemd), else stderr.
[[nodiscard]] std::unique_ptr<LogSink> make_log_sink(LogTarget target,
                                                     const char* journal_stream_env);

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// The INI dialect of psc-login.conf(5): "[section]" and "[service:NAME]" headers, "key = value"
// lines, full-line "#"/";" comments. No quoting, no inline comments, no line continuations: what
// an administrator sees is what the daemon gets. Every problem is reported as "file:line: message"
// and parsing goes on, so one run shows every error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

inline constexpr std::size_t kIniMaxFileBytes = 256 * 1024;
inline constexpr std::size_t kIniMaxLineBytes = 8 * 1024;

// One error or warning about the configuration. `line` 0 means the whole file (or, with an empty
// `file`, the built-in defaults).
struct ConfigIssue {
    bool warning = false;
    std::string file;
    unsigned line = 0;
    std::string reason;  // stable token, e.g. "unknown_value"
    std::string message; // for the operator, e.g. `unknown value "maybe" for acr_missing (...)`

    // "file:line: message", or "file:line: warning: message" for a warning. Never holds secrets.
    [[nodiscard]] std::string text() const;
};

struct ConfigDiagnostics {
    std::vector<ConfigIssue> errors;
    std::vector<ConfigIssue> warnings;

    void error(std::string file, unsigned line, std::string reason, std::string message);
    void warn(std::string file, unsigned line, std::string reason, std::string message);
};

struct IniEntry {
    std::string section; // "provider", "service:sshd", ...
    std::string key;
    std::string value; // trimmed; may be empty
    unsigned line = 0;
};

struct IniSectionHeader {
    std::string name;
    unsigned line = 0;
};

struct IniDocument {
    std::string file;
    std::vector<IniSectionHeader> sections; // in file order, repeats included
    std::vector<IniEntry> entries; // in file order; a duplicate key keeps both (later wins)
};

// True for a PAM service name usable in "[service:NAME]": [A-Za-z0-9_.-]+, at most 64 bytes.
[[nodiscard]] bool is_valid_service_name(std::string_view name) noexcept;

// Parses `text` (already size-capped by the reader) named `file` for messages. Problems go to
// `diag`; lines in error are skipped. The caller decides which sections and keys exist.
[[nodiscard]] IniDocument parse_ini(std::string_view file, std::string_view text,
                                    ConfigDiagnostics& diag);

} // namespace psc

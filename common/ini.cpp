// SPDX-License-Identifier: LGPL-2.1-or-later
#include "ini.hpp"

#include "utf8.hpp"

#include "strutil.hpp"

#include <map>
#include <utility>

namespace psc {
namespace {

bool is_section_char(char c) {
    return (c >= 'a' && c <= 'z') || c == '_';
}
bool is_key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Tab is whitespace; a CR before the LF (a file edited on Windows) is trimmed like a space.
// Every other C0 control and DEL is refused: values end up in logs and on terminals.
bool has_forbidden_control(std::string_view line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c == '\t' || (c == '\r' && i + 1 == line.size()))
            continue;
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

std::string quoted(std::string_view s) {
    return "\"" + strip_control(s) + "\"";
}

// "[provider]" or "[service:sshd]"; returns the name, or an empty string after reporting.
std::string parse_header(std::string_view line, std::string_view file, unsigned lineno,
                         ConfigDiagnostics& diag) {
    if (line.back() != ']') {
        diag.error(std::string(file), lineno, "bad_section",
                   "section header " + quoted(line) + " does not end with \"]\"");
        return {};
    }
    const std::string_view name = trim(line.substr(1, line.size() - 2));
    constexpr std::string_view kService = "service:";
    if (name.substr(0, kService.size()) == kService) {
        if (is_valid_service_name(name.substr(kService.size())))
            return std::string(name);
        diag.error(std::string(file), lineno, "bad_section",
                   "invalid PAM service name in " + quoted(line) + " (expected [A-Za-z0-9_.-]+)");
        return {};
    }
    bool ok = !name.empty();
    for (char c : name)
        ok = ok && is_section_char(c);
    if (!ok) {
        diag.error(std::string(file), lineno, "bad_section",
                   "invalid section name " + quoted(line));
        return {};
    }
    return std::string(name);
}

struct Parser {
    std::string_view file;
    ConfigDiagnostics& diag;
    IniDocument doc;
    std::string section;
    bool after_bad_header = false;
    // (section, key) -> line, to warn about a key set twice in one file.
    std::map<std::pair<std::string, std::string>, unsigned> seen;

    void error(unsigned lineno, std::string reason, std::string message) {
        diag.error(std::string(file), lineno, std::move(reason), std::move(message));
    }

    bool line_is_clean(std::string_view raw, unsigned lineno) {
        if (raw.size() > kIniMaxLineBytes) {
            error(lineno, "line_too_long",
                  "line longer than " + std::to_string(kIniMaxLineBytes) + " bytes");
            return false;
        }
        if (raw.find('\0') != std::string_view::npos) {
            error(lineno, "nul_byte", "NUL byte in line");
            return false;
        }
        if (!is_valid_utf8(raw)) {
            error(lineno, "invalid_utf8", "line is not valid UTF-8");
            return false;
        }
        if (has_forbidden_control(raw)) {
            error(lineno, "control_character", "control character in line");
            return false;
        }
        return true;
    }

    void key_value(std::string_view line, unsigned lineno) {
        const auto eq = line.find('=');
        if (eq == std::string_view::npos) {
            error(lineno, "syntax", "expected \"key = value\", \"[section]\" or a comment");
            return;
        }
        const std::string_view key = trim(line.substr(0, eq));
        bool ok = !key.empty();
        for (char c : key)
            ok = ok && is_key_char(c);
        if (!ok) {
            error(lineno, "bad_key", "invalid key name " + quoted(key) + " (expected [a-z0-9_]+)");
            return;
        }
        if (section.empty()) {
            // After a bad header its keys are skipped: that header was reported already.
            if (!after_bad_header)
                error(lineno, "key_outside_section",
                      "key " + quoted(key) + " outside any [section]");
            return;
        }
        const auto [it, inserted] = seen.try_emplace({section, std::string(key)}, lineno);
        if (!inserted) {
            diag.warn(std::string(file), lineno, "duplicate_key",
                      "key " + quoted(key) + " in [" + section + "] already set on line " +
                          std::to_string(it->second) + "; the later value wins");
            it->second = lineno;
        }
        doc.entries.push_back(
            IniEntry{section, std::string(key), std::string(trim(line.substr(eq + 1))), lineno});
    }

    void one_line(std::string_view raw, unsigned lineno) {
        if (!line_is_clean(raw, lineno))
            return;
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';')
            return;
        if (line.front() == '[') {
            section = parse_header(line, file, lineno, diag);
            after_bad_header = section.empty();
            if (!section.empty())
                doc.sections.push_back(IniSectionHeader{section, lineno});
            return;
        }
        key_value(line, lineno);
    }
};

} // namespace

std::string ConfigIssue::text() const {
    std::string out = file.empty() ? std::string("(built-in)") : file;
    if (line > 0)
        out += ":" + std::to_string(line);
    out += warning ? ": warning: " : ": ";
    out += message;
    return out;
}

void ConfigDiagnostics::error(std::string file, unsigned line, std::string reason,
                              std::string message) {
    errors.push_back(
        ConfigIssue{false, std::move(file), line, std::move(reason), std::move(message)});
}

void ConfigDiagnostics::warn(std::string file, unsigned line, std::string reason,
                             std::string message) {
    warnings.push_back(
        ConfigIssue{true, std::move(file), line, std::move(reason), std::move(message)});
}

bool is_valid_service_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64)
        return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

IniDocument parse_ini(std::string_view file, std::string_view text, ConfigDiagnostics& diag) {
    Parser p{file, diag, IniDocument{std::string(file), {}, {}}, {}, false, {}};
    // A UTF-8 byte-order mark, as some editors write, is not part of the first line.
    if (text.substr(0, 3) == "\xef\xbb\xbf")
        text.remove_prefix(3);
    unsigned lineno = 0;
    while (!text.empty()) {
        ++lineno;
        const auto nl = text.find('\n');
        const std::string_view raw = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        p.one_line(raw, lineno);
    }
    return std::move(p.doc);
}

} // namespace psc

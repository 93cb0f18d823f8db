// SPDX-License-Identifier: LGPL-2.1-or-later
// Shared by the config loader's translation units (config.cpp, config_keys.cpp,
// config_validate.cpp); not part of the public API.
#pragma once

#include "config.hpp"
#include "ini.hpp"

#include <map>
#include <string>
#include <string_view>

namespace psc::config_detail {

struct Location {
    std::string file;
    unsigned line = 0;
    bool preset = false; // value came from the profile preset; the location is the `profile` line
};

struct LoadState {
    Config cfg;
    ConfigDiagnostics& diag;
    std::string main_file;
    // "provider.issuer", "service:sshd.flows" → where the effective value was set.
    std::map<std::string, Location, std::less<>> origins;
    // "provider", "service:sshd" → first header seen.
    std::map<std::string, Location, std::less<>> sections;
};

[[nodiscard]] std::string origin_key(std::string_view section, std::string_view key);
// Where to point for a problem with `key`: its line, else its section's header, else the file.
[[nodiscard]] Location locate(const LoadState& st, std::string_view section, std::string_view key);
// Set in a file (not by a preset or a default).
[[nodiscard]] bool set_explicitly(const LoadState& st, std::string_view section,
                                  std::string_view key);
void error_at(LoadState& st, std::string_view section, std::string_view key, std::string reason,
              std::string message);
void warn_at(LoadState& st, std::string_view section, std::string_view key, std::string reason,
             std::string message);

// config_keys.cpp
[[nodiscard]] bool is_known_section(std::string_view section) noexcept;
// Applies one effective entry: a bad value is an error at its line, an unknown key a warning,
// a key that belongs to another section an error (silently ignoring a misplaced authorization
// rule would fail open).
void apply_entry(LoadState& st, const std::string& file, const IniEntry& e);
[[nodiscard]] Result<Profile> parse_profile(std::string_view v);
void apply_profile_preset(LoadState& st, Profile p, const Location& where);

// config_validate.cpp
void validate_config(LoadState& st);
void check_config_files(LoadState& st, uid_t trusted_owner);

} // namespace psc::config_detail

// SPDX-License-Identifier: LGPL-2.1-or-later
// Small argument parsing shared by the pscctl subcommands: "--opt VALUE" / "--opt=VALUE" options
// and positional words, plus loading the configuration the way check-config does.
#pragma once

#include "config.hpp"
#include "result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc::ctl {

struct ParsedArgs {
    std::vector<std::string> positional;
    std::vector<std::pair<std::string, std::string>> options; // name (with "--") → value
    std::vector<std::string> flags;                           // options without a value given
    bool help = false;
    std::string error; // non-empty: bad usage, with the offending word
};

// `value_options` are the options that take a value (e.g. {"--config", "--service"}),
// `flag_options` those that take none (e.g. {"--json"}); any other word starting with '-' is an
// error, "-h"/"--help" sets help.
[[nodiscard]] ParsedArgs parse_args(int argc, char** argv,
                                    const std::vector<std::string_view>& value_options,
                                    const std::vector<std::string_view>& flag_options = {});
// Whether a flag option was given.
[[nodiscard]] bool has_flag(const ParsedArgs& a, std::string_view name);
// The last value given for an option.
[[nodiscard]] std::optional<std::string> option(const ParsedArgs& a, std::string_view name);

// load_config() as check-config does (files owned by the caller accepted when not root, with a
// note on stderr); diagnostics go to stderr. Reason on failure: config_invalid.
[[nodiscard]] Result<Config> load_config_for_cli(const std::string& path, bool quiet_note = false);

} // namespace psc::ctl

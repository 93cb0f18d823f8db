// SPDX-License-Identifier: LGPL-2.1-or-later
#include "cli_args.hpp"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace psc::ctl {

ParsedArgs parse_args(int argc, char** argv, const std::vector<std::string_view>& value_options,
                      const std::vector<std::string_view>& flag_options) {
    ParsedArgs out;
    for (int i = 1; i < argc && out.error.empty(); ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help") {
            out.help = true;
            continue;
        }
        if (a.empty() || a[0] != '-' || a == "-") {
            out.positional.emplace_back(a);
            continue;
        }
        if (std::find(flag_options.begin(), flag_options.end(), a) != flag_options.end()) {
            out.flags.emplace_back(a);
            continue;
        }
        const auto eq = a.find('=');
        const std::string_view name = a.substr(0, eq);
        if (std::find(value_options.begin(), value_options.end(), name) == value_options.end()) {
            out.error = std::string(a);
        } else if (eq != std::string_view::npos) {
            out.options.emplace_back(name, a.substr(eq + 1));
        } else if (i + 1 < argc) {
            out.options.emplace_back(name, argv[++i]);
        } else {
            out.error = std::string(a) + " (missing value)";
        }
    }
    return out;
}

std::optional<std::string> option(const ParsedArgs& a, std::string_view name) {
    std::optional<std::string> v;
    for (const auto& [n, val] : a.options)
        if (n == name)
            v = val;
    return v;
}

bool has_flag(const ParsedArgs& a, std::string_view name) {
    return std::find(a.flags.begin(), a.flags.end(), name) != a.flags.end();
}

Result<Config> load_config_for_cli(const std::string& path, bool quiet_note) {
    LoadOptions opts;
    opts.proxy_environment = true;
    // As check-config: root sees exactly psc-authd's view; another user may check a draft.
    opts.trusted_owner = ::geteuid();
    if (opts.trusted_owner != 0 && !quiet_note)
        std::fprintf(stderr,
                     "note: not running as root: files owned by uid %u are accepted here, "
                     "psc-authd accepts only root-owned files\n",
                     static_cast<unsigned>(opts.trusted_owner));
    ConfigDiagnostics diag;
    auto cfg = load_config(path, opts, &diag);
    for (const auto& w : diag.warnings)
        std::fprintf(stderr, "%s\n", w.text().c_str());
    if (!cfg) {
        for (const auto& e : diag.errors)
            std::fprintf(stderr, "%s\n", e.text().c_str());
        return make_error(Errc::config, "config_invalid", path + " is not valid");
    }
    return std::move(*cfg);
}

} // namespace psc::ctl

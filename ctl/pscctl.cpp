// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl: the administrator's command line for psc-login (design §1).
#include "commands.hpp"

#include <cstdio>
#include <exception>
#include <string_view>

namespace {

struct Command {
    std::string_view name;
    int (*run)(int argc, char** argv);
    std::string_view summary;
};

constexpr Command kCommands[] = {
    {"status", psc::ctl::cmd_status, "is psc-authd running, is the configuration valid"},
    {"sessions", psc::ctl::cmd_sessions, "list pending logins and open sessions (root)"},
    {"logout", psc::ctl::cmd_logout, "end a user's sessions at the provider (root)"},
    {"jwks", psc::ctl::cmd_jwks, "jwks refresh: refetch discovery and JWKS now (root)"},
    {"map", psc::ctl::cmd_map, "the local account(s) an idNat maps to"},
    {"discover", psc::ctl::cmd_discover, "fetch and check discovery document and JWKS"},
    {"login", psc::ctl::cmd_login, "run one login for a user through psc-authd"},
    {"check-config", psc::ctl::cmd_check_config, "check psc-login.conf and its drop-ins"},
    {"verify-id-token", psc::ctl::cmd_verify_id_token,
     "check an ID token's signature and claims offline"},
};

void usage(std::FILE* out) {
    std::fputs("Usage: pscctl COMMAND [OPTIONS...]\n       pscctl --version\n\nCommands:\n", out);
    for (const auto& c : kCommands)
        std::fprintf(out, "  %-18.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    std::fputs("\nSee pscctl(1).\n", out);
}

} // namespace

int main(int argc, char** argv) try {
    if (argc < 2) {
        usage(stderr);
        return psc::ctl::kExitUsage;
    }
    const std::string_view name = argv[1];
    if (name == "-h" || name == "--help") {
        usage(stdout);
        return psc::ctl::kExitOk;
    }
    if (name == "--version") {
        std::printf("pscctl %s\n", PSC_VERSION);
        return psc::ctl::kExitOk;
    }
    for (const auto& c : kCommands)
        if (c.name == name)
            return c.run(argc - 1, argv + 1);
    std::fprintf(stderr, "pscctl: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return psc::ctl::kExitUsage;
} catch (const std::exception& e) {
    std::fprintf(stderr, "pscctl: %s\n", e.what());
    return psc::ctl::kExitUsage;
}

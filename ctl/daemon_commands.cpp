// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl status, sessions and jwks refresh: the administrator's view of psc-authd over
// org.psclogin.Auth1 (ListLogins and RefreshProvider are root-only in the daemon).
#include "bus_client.hpp"
#include "cli_args.hpp"
#include "commands.hpp"
#include "strutil.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace psc::ctl {
namespace {

// RefreshProvider waits for both fetches; the daemon's own HTTP timeouts bound it well below.
constexpr std::uint64_t kRefreshTimeoutUsec = 120'000'000;

int usage_error(const char* cmd, const ParsedArgs& a, const char* usage) {
    if (a.help) {
        std::fputs(usage, stdout);
        return kExitOk;
    }
    std::fprintf(stderr, "pscctl %s: invalid argument \"%s\"\n%s", cmd,
                 a.error.empty() ? (a.positional.empty() ? "" : a.positional.front().c_str())
                                 : a.error.c_str(),
                 usage);
    return kExitUsage;
}

int fail(const char* cmd, const Error& e) {
    std::fprintf(stderr, "pscctl %s: %s\n", cmd, describe_failure(e).c_str());
    return exit_code_for(e);
}

// The daemon part of `status`; returns the exit status it calls for.
int daemon_status() {
    auto client = AuthClient::connect();
    if (!client) {
        std::printf("daemon: not reachable (%s)\n", describe_failure(client.error()).c_str());
        return kExitUnavailable;
    }
    auto version = client->version();
    if (!version) {
        std::printf("daemon: not running (%s)\n", describe_failure(version.error()).c_str());
        return kExitUnavailable;
    }
    auto pending = client->pending_logins();
    if (!pending) {
        std::printf("daemon: %s\n", describe_failure(pending.error()).c_str());
        return exit_code_for(pending.error());
    }
    std::printf("daemon: running, version %s, %u pending login(s)\n",
                strip_control(*version).c_str(), *pending);
    return kExitOk;
}

struct LoginRow {
    std::string id, user, service, rhost, flow;
    std::uint32_t uid = 0;
    std::uint32_t left = 0;
};

Result<std::vector<LoginRow>> read_logins(sd_bus_message* m) {
    std::vector<LoginRow> rows;
    int r = sd_bus_message_enter_container(m, 'a', "(sssssuu)");
    while (r >= 0) {
        const char* f[5] = {};
        LoginRow row;
        r = sd_bus_message_read(m, "(sssssuu)", &f[0], &f[1], &f[2], &f[3], &f[4], &row.uid,
                                &row.left);
        if (r <= 0)
            break;
        row.id = strip_control(f[0]);
        row.user = strip_control(f[1]);
        row.service = strip_control(f[2]);
        row.rhost = strip_control(f[3]);
        row.flow = strip_control(f[4]);
        rows.push_back(std::move(row));
    }
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
        return AuthClient::local_error(r);
    return rows;
}

std::string or_dash(const std::string& s) {
    return s.empty() ? "-" : s;
}

void print_logins(const std::vector<LoginRow>& rows) {
    std::printf("%-8s  %-16s  %-12s  %-20s  %-6s  %6s  %5s\n", "ID", "USER", "SERVICE", "RHOST",
                "FLOW", "UID", "LEFT");
    for (const auto& r : rows)
        // The id is only shown shortened: it identifies the row, and is useless to anyone else
        // anyway (a login belongs to the connection that started it).
        std::printf("%-8.8s  %-16s  %-12s  %-20s  %-6s  %6u  %4us\n", r.id.c_str(),
                    or_dash(r.user).c_str(), or_dash(r.service).c_str(), or_dash(r.rhost).c_str(),
                    or_dash(r.flow).c_str(), r.uid, r.left);
    std::printf("%zu login(s)\n", rows.size());
}

} // namespace

int cmd_status(int argc, char** argv) {
    static const char* kUsage = "Usage: pscctl status [--config PATH]\n\n"
                                "Says whether psc-authd answers on the system bus and checks the "
                                "configuration.\nExit status: 0 both fine, 1 configuration "
                                "invalid, 2 bad usage, 3 daemon not reachable.\n";
    const auto a = parse_args(argc, argv, {"--config"});
    if (a.help || !a.error.empty() || !a.positional.empty())
        return usage_error("status", a, kUsage);
    const int daemon_rc = daemon_status();
    const std::string path = option(a, "--config").value_or(std::string(kDefaultConfigPath));
    auto cfg = load_config_for_cli(path, true);
    int config_rc = kExitOk;
    if (cfg) {
        std::string files;
        for (const auto& f : cfg->files)
            files += (files.empty() ? "" : " ") + f;
        std::printf("config: OK (%s), issuer %s, client_id %s\n", files.c_str(),
                    cfg->provider.issuer.c_str(), cfg->provider.client_id.c_str());
    } else {
        std::printf("config: INVALID (see pscctl check-config --config %s)\n", path.c_str());
        config_rc = kExitRejected;
    }
    return daemon_rc != kExitOk ? daemon_rc : config_rc;
}

int cmd_sessions(int argc, char** argv) {
    static const char* kUsage = "Usage: pscctl sessions\n\n"
                                "Lists the logins psc-authd holds (root only).\n"
                                "Exit status: 0 listed, 1 refused, 2 bad usage, 3 daemon not "
                                "reachable.\n";
    const auto a = parse_args(argc, argv, {});
    if (a.help || !a.error.empty() || !a.positional.empty())
        return usage_error("sessions", a, kUsage);
    auto client = AuthClient::connect();
    if (!client)
        return fail("sessions", client.error());
    auto reply = client->call("ListLogins", 0, "");
    if (!reply)
        return fail("sessions", reply.error());
    auto rows = read_logins(reply->get());
    if (!rows)
        return fail("sessions", rows.error());
    print_logins(*rows);
    return kExitOk;
}

int cmd_jwks(int argc, char** argv) {
    static const char* kUsage = "Usage: pscctl jwks refresh\n\n"
                                "Makes psc-authd refetch the provider's discovery document and "
                                "JWKS now (root only).\nExit status: 0 done, 1 refused or failed, "
                                "2 bad usage, 3 daemon not reachable.\n";
    const auto a = parse_args(argc, argv, {});
    if (a.help || !a.error.empty() || a.positional.size() != 1 || a.positional[0] != "refresh")
        return usage_error("jwks", a, kUsage);
    auto client = AuthClient::connect();
    if (!client)
        return fail("jwks refresh", client.error());
    auto reply = client->call("RefreshProvider", kRefreshTimeoutUsec, "");
    if (!reply) {
        std::printf("%s\n", describe_failure(reply.error()).c_str());
        return exit_code_for(reply.error());
    }
    std::puts("OK");
    return kExitOk;
}

} // namespace psc::ctl

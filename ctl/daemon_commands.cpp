// SPDX-License-Identifier: LGPL-2.1-or-later
// pscctl status, sessions and jwks refresh: the administrator's view of psc-authd over
// org.psclogin.Auth1 (ListLogins and RefreshProvider are root-only in the daemon).
#include "bus_client.hpp"
#include "cli_args.hpp"
#include "commands.hpp"
#include "output.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <sys/stat.h>
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

// One provider part as the daemon reports it (the Discovery and SigningKeys properties).
struct PartView {
    bool loaded = false, is_static = false;
    std::uint64_t loaded_at = 0, next_refresh = 0; // realtime µs; 0: never / none scheduled
    std::uint32_t failures = 0, keys = 0;
    std::string last_error;
};

// What `status` learns from the running daemon.
struct DaemonView {
    std::optional<Error> error; // set: not reachable or not running (the rest is empty)
    std::string version, issuer, listener;
    std::uint32_t pending = 0;
    std::map<std::string, std::uint32_t> pending_by_flow;
    std::vector<std::string> config_files;
    std::uint64_t config_loaded_at = 0;
    bool ready = false;
    PartView discovery, keys;
};

std::uint64_t now_usec() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
}

// A number from a BusDict (written by read_bus_dict in decimal); 0 when absent.
template <class T>
T number(const std::string& text) {
    auto v = parse_int<T>(text, 0, std::numeric_limits<T>::max());
    return v ? *v : 0;
}

Status read_part(AuthClient& c, const char* name, PartView& out) {
    auto m = c.property(name, "a{sv}");
    if (!m)
        return std::move(m).error();
    BusDict d;
    PSC_TRY(read_bus_dict(m->get(), d));
    out.loaded = d["loaded"] == "true";
    out.is_static = d["static"] == "true";
    out.loaded_at = number<std::uint64_t>(d["loaded_at"]);
    out.next_refresh = number<std::uint64_t>(d["next_refresh"]);
    out.failures = number<std::uint32_t>(d["failures"]);
    out.keys = number<std::uint32_t>(d["keys"]);
    out.last_error = strip_control(d["last_error"]);
    return {};
}

Status read_pending_by_flow(AuthClient& c, std::map<std::string, std::uint32_t>& out) {
    auto m = c.property("PendingByFlow", "a{su}");
    if (!m)
        return std::move(m).error();
    int r = sd_bus_message_enter_container(m->get(), 'a', "{su}");
    const char* flow = nullptr;
    std::uint32_t n = 0;
    while (r >= 0 && (r = sd_bus_message_read(m->get(), "{su}", &flow, &n)) > 0)
        out[strip_control(flow ? flow : "")] = n;
    if (r < 0 || (r = sd_bus_message_exit_container(m->get())) < 0)
        return AuthClient::local_error(r);
    return {};
}

Status read_daemon_details(AuthClient& c, DaemonView& v) {
    auto pending = c.pending_logins();
    if (!pending)
        return std::move(pending).error();
    v.pending = *pending;
    for (auto [name, dest] : {std::pair{"Issuer", &v.issuer}, {"ListenerAddress", &v.listener}}) {
        auto m = c.property(name, "s");
        if (!m)
            return std::move(m).error();
        const char* text = nullptr;
        if (int r = sd_bus_message_read(m->get(), "s", &text); r < 0)
            return AuthClient::local_error(r);
        *dest = strip_control(text ? text : "");
    }
    auto ready = c.property("ProviderReady", "b");
    if (!ready)
        return std::move(ready).error();
    int b = 0;
    if (int r = sd_bus_message_read(ready->get(), "b", &b); r < 0)
        return AuthClient::local_error(r);
    v.ready = b != 0;
    auto files = c.property("ConfigFiles", "as");
    if (!files)
        return std::move(files).error();
    char** strv = nullptr;
    if (int r = sd_bus_message_read_strv(files->get(), &strv); r < 0)
        return AuthClient::local_error(r);
    for (char** f = strv; f && *f; ++f) {
        v.config_files.push_back(strip_control(*f));
        std::free(*f);
    }
    std::free(static_cast<void*>(strv));
    auto at = c.property("ConfigLoadedAt", "t");
    if (!at)
        return std::move(at).error();
    if (int r = sd_bus_message_read(at->get(), "t", &v.config_loaded_at); r < 0)
        return AuthClient::local_error(r);
    PSC_TRY(read_part(c, "Discovery", v.discovery));
    PSC_TRY(read_part(c, "SigningKeys", v.keys));
    return read_pending_by_flow(c, v.pending_by_flow);
}

DaemonView read_daemon() {
    DaemonView v;
    auto client = AuthClient::connect();
    if (!client) {
        v.error = client.error();
        return v;
    }
    auto version = client->version();
    if (!version) {
        v.error = version.error();
        return v;
    }
    v.version = strip_control(*version);
    if (auto st = read_daemon_details(*client, v); !st)
        v.error = st.error();
    return v;
}

// "2026-12-05 23:40:01 UTC" for a realtime µs timestamp.
std::string utc_text(std::uint64_t usec, bool iso) {
    const std::time_t t = static_cast<std::time_t>(usec / 1000000);
    std::tm tm{};
    char buf[40];
    if (::gmtime_r(&t, &tm) == nullptr ||
        std::strftime(buf, sizeof buf, iso ? "%Y-%m-%dT%H:%M:%SZ" : "%Y-%m-%d %H:%M:%S UTC",
                      &tm) == 0)
        return "?";
    return buf;
}

// "42 s", "5 min", "3 h 10 min".
std::string span_text(std::uint64_t usec) {
    const std::uint64_t s = usec / 1000000;
    if (s < 120)
        return std::to_string(s) + " s";
    if (s < 7200)
        return std::to_string(s / 60) + " min";
    return std::to_string(s / 3600) + " h " + std::to_string(s / 60 % 60) + " min";
}

// "2 key(s), loaded 5 min ago, next refresh in 55 min" and the last error on its own line.
std::string part_text(const PartView& p, const std::string& what, std::uint64_t now) {
    std::string out = what;
    if (p.loaded) {
        out += p.is_static ? "loaded from a local file" : "loaded";
        if (p.loaded_at != 0)
            out += " " + span_text(now > p.loaded_at ? now - p.loaded_at : 0) + " ago";
    } else {
        out += paint(stdout, Tone::bad, "not loaded");
    }
    if (p.failures > 0)
        out += ", " + paint(stdout, Tone::warn, std::to_string(p.failures) + " failed load(s)");
    if (p.next_refresh != 0)
        out += std::string(p.failures > 0 ? ", retrying in " : ", next refresh in ") +
               span_text(p.next_refresh > now ? p.next_refresh - now : 0);
    if (!p.last_error.empty())
        out += std::string("\n    last error") + (p.failures > 0 ? "" : " (since recovered)") +
               ": " + p.last_error;
    return out;
}

void print_daemon(const DaemonView& v) {
    if (v.error) {
        const bool answered = daemon_answered(*v.error) || v.error->reason != "bus_connect";
        std::printf("daemon: %s (%s)\n",
                    paint(stdout, Tone::bad, answered ? "not running" : "not reachable").c_str(),
                    describe_failure(*v.error).c_str());
        return;
    }
    std::string flows;
    for (const auto& [flow, n] : v.pending_by_flow)
        flows += (flows.empty() ? " (" : ", ") + flow + " " + std::to_string(n);
    std::printf("daemon: %s, version %s, %u pending login(s)%s\n",
                paint(stdout, Tone::good, "running").c_str(), v.version.c_str(), v.pending,
                flows.empty() ? "" : (flows + ")").c_str());
    const std::uint64_t now = now_usec();
    std::string files;
    for (const auto& f : v.config_files)
        files += (files.empty() ? "" : " ") + f;
    std::printf("  configuration: %s, loaded %s (%s ago)\n", files.c_str(),
                utc_text(v.config_loaded_at, false).c_str(),
                span_text(now > v.config_loaded_at ? now - v.config_loaded_at : 0).c_str());
    std::printf("  provider: %s, issuer %s\n",
                v.ready ? paint(stdout, Tone::good, "ready").c_str()
                        : paint(stdout, Tone::bad, "NOT READY (logins cannot start)").c_str(),
                v.issuer.c_str());
    std::printf("  discovery: %s\n", part_text(v.discovery, "", now).c_str());
    std::printf("  signing keys: %s\n",
                part_text(v.keys, std::to_string(v.keys.keys) + " key(s), ", now).c_str());
    std::printf("  listener: %s\n", v.listener.c_str());
}

JsonPtr part_json(const PartView& p, std::uint64_t now, bool with_keys) {
    auto o = json_new_object();
    json_put_bool(o.get(), "loaded", p.loaded);
    json_put_bool(o.get(), "static", p.is_static);
    if (p.loaded_at != 0) {
        json_put_string(o.get(), "loaded_at", utc_text(p.loaded_at, true));
        json_put_int(o.get(), "age_seconds",
                     static_cast<std::int64_t>((now > p.loaded_at ? now - p.loaded_at : 0) / 1000000));
    } else {
        json_put_null(o.get(), "loaded_at");
        json_put_null(o.get(), "age_seconds");
    }
    if (p.next_refresh != 0)
        json_put_int(o.get(), "next_refresh_in_seconds",
                     static_cast<std::int64_t>(
                         (p.next_refresh > now ? p.next_refresh - now : 0) / 1000000));
    else
        json_put_null(o.get(), "next_refresh_in_seconds");
    json_put_int(o.get(), "failures", p.failures);
    if (p.last_error.empty())
        json_put_null(o.get(), "last_error");
    else
        json_put_string(o.get(), "last_error", p.last_error);
    if (with_keys)
        json_put_int(o.get(), "keys", p.keys);
    return o;
}

JsonPtr daemon_json(const DaemonView& v) {
    auto o = json_new_object();
    json_put_bool(o.get(), "running", !v.error);
    if (v.error) {
        json_put(o.get(), "error", json_error(*v.error));
        return o;
    }
    const std::uint64_t now = now_usec();
    json_put_string(o.get(), "version", v.version);
    json_put_int(o.get(), "pending_logins", v.pending);
    auto by_flow = json_new_object();
    for (const auto& [flow, n] : v.pending_by_flow)
        json_put_int(by_flow.get(), flow.c_str(), n);
    json_put(o.get(), "pending_by_flow", std::move(by_flow));
    json_put_strings(o.get(), "config_files", v.config_files);
    json_put_string(o.get(), "config_loaded_at", utc_text(v.config_loaded_at, true));
    json_put_string(o.get(), "issuer", v.issuer);
    json_put_bool(o.get(), "provider_ready", v.ready);
    json_put(o.get(), "discovery", part_json(v.discovery, now, false));
    json_put(o.get(), "signing_keys", part_json(v.keys, now, true));
    json_put_string(o.get(), "listener", v.listener);
    return o;
}

// The newest modification time of the configuration's files, realtime µs (0 when unknown).
std::uint64_t newest_mtime(const std::vector<std::string>& files) {
    std::uint64_t newest = 0;
    for (const auto& f : files) {
        struct stat st {};
        if (::stat(f.c_str(), &st) == 0)
            newest = std::max<std::uint64_t>(
                newest, static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000 +
                            static_cast<std::uint64_t>(st.st_mtim.tv_nsec) / 1000);
    }
    return newest;
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

// An open session (ListSessions).
struct SessionRow {
    std::string id, user, idnat, service, rhost, tty, logind;
    bool ended = false;
    std::uint64_t opened_at = 0;
};

Result<std::vector<SessionRow>> read_sessions(sd_bus_message* m) {
    std::vector<SessionRow> rows;
    int r = sd_bus_message_enter_container(m, 'a', "(sssssssbt)");
    while (r >= 0) {
        const char* f[7] = {};
        int ended = 0;
        SessionRow row;
        r = sd_bus_message_read(m, "(sssssssbt)", &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6],
                                &ended, &row.opened_at);
        if (r <= 0)
            break;
        row.id = strip_control(f[0]);
        row.user = strip_control(f[1]);
        row.idnat = strip_control(f[2]);
        row.service = strip_control(f[3]);
        row.rhost = strip_control(f[4]);
        row.tty = strip_control(f[5]);
        row.logind = strip_control(f[6]);
        row.ended = ended != 0;
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

void print_sessions(const std::vector<SessionRow>& rows) {
    std::printf("\n%-8s  %-16s  %-14s  %-12s  %-20s  %-7s  %s\n", "SESSION", "USER", "IDNAT",
                "SERVICE", "RHOST", "LOGIND", "OPENED");
    for (const auto& s : rows)
        std::printf("%-8s  %-16s  %-14s  %-12s  %-20s  %-7s  %s%s\n", s.id.c_str(),
                    or_dash(s.user).c_str(), or_dash(s.idnat).c_str(), or_dash(s.service).c_str(),
                    or_dash(s.rhost).c_str(), or_dash(s.logind).c_str(),
                    utc_text(s.opened_at, false).c_str(),
                    s.ended ? " (ended at the provider)" : "");
    std::printf("%zu open session(s)\n", rows.size());
}

JsonPtr sessions_json(const std::vector<SessionRow>& rows) {
    auto list = json_new_array();
    for (const auto& s : rows) {
        auto o = json_new_object();
        json_put_string(o.get(), "id", s.id);
        json_put_string(o.get(), "user", s.user);
        json_put_string(o.get(), "idnat", s.idnat);
        json_put_string(o.get(), "service", s.service);
        json_put_string(o.get(), "rhost", s.rhost);
        json_put_string(o.get(), "tty", s.tty);
        json_put_string(o.get(), "logind_session", s.logind);
        json_put_string(o.get(), "opened_at", utc_text(s.opened_at, true));
        json_put_bool(o.get(), "ended_at_provider", s.ended);
        json_append(list.get(), std::move(o));
    }
    return list;
}

// {"logins": [{"id", "user", "service", "rhost", "flow", "caller_uid", "seconds_left"}],
//  "sessions": [...]}; the login id shortened as in the table.
void logins_json(const std::vector<LoginRow>& rows, const std::vector<SessionRow>& sessions) {
    auto list = json_new_array();
    for (const auto& r : rows) {
        auto o = json_new_object();
        json_put_string(o.get(), "id", r.id.substr(0, 8));
        json_put_string(o.get(), "user", r.user);
        json_put_string(o.get(), "service", r.service);
        json_put_string(o.get(), "rhost", r.rhost);
        json_put_string(o.get(), "flow", r.flow);
        json_put_int(o.get(), "caller_uid", r.uid);
        json_put_int(o.get(), "seconds_left", r.left);
        json_append(list.get(), std::move(o));
    }
    auto doc = json_new_object();
    json_put(doc.get(), "logins", std::move(list));
    json_put(doc.get(), "sessions", sessions_json(sessions));
    json_print(doc.get());
}

// --json failure: {"error": {...}} on standard output, the usual exit status.
int fail_json(const Error& e) {
    auto doc = json_new_object();
    json_put(doc.get(), "error", json_error(e));
    json_print(doc.get());
    return exit_code_for(e);
}

} // namespace

int cmd_status(int argc, char** argv) {
    static const char* kUsage =
        "Usage: pscctl status [--config PATH] [--json]\n\n"
        "What the running psc-authd knows (its configuration, the provider's discovery document\n"
        "and signing keys, the listener, pending logins per flow), then a check of the\n"
        "configuration on disk.\nExit status: 0 all fine, 1 configuration invalid or the provider "
        "not loaded\n(logins cannot start), 2 bad usage, 3 daemon not reachable.\n";
    const auto a = parse_args(argc, argv, {"--config"}, {"--json"});
    if (a.help || !a.error.empty() || !a.positional.empty())
        return usage_error("status", a, kUsage);
    const bool json = has_flag(a, "--json");
    const DaemonView daemon = read_daemon();
    const std::string path = option(a, "--config").value_or(std::string(kDefaultConfigPath));
    auto cfg = load_config_for_cli(path, true);
    // A file changed after the daemon loaded its configuration: it runs an older one.
    const bool stale = cfg && !daemon.error &&
                       newest_mtime(cfg->files) > daemon.config_loaded_at &&
                       daemon.config_loaded_at != 0;
    if (json) {
        auto doc = json_new_object();
        json_put(doc.get(), "daemon", daemon_json(daemon));
        auto c = json_new_object();
        json_put_string(c.get(), "path", path);
        json_put_bool(c.get(), "valid", static_cast<bool>(cfg));
        if (cfg) {
            json_put_strings(c.get(), "files", cfg->files);
            json_put_string(c.get(), "issuer", cfg->provider.issuer);
            json_put_string(c.get(), "client_id", cfg->provider.client_id);
            json_put_bool(c.get(), "changed_since_daemon_loaded", stale);
        }
        json_put(doc.get(), "config", std::move(c));
        json_print(doc.get());
    } else {
        print_daemon(daemon);
        if (cfg) {
            std::string files;
            for (const auto& f : cfg->files)
                files += (files.empty() ? "" : " ") + f;
            std::printf("config: %s (%s), issuer %s, client_id %s\n",
                        paint(stdout, Tone::good, "OK").c_str(), files.c_str(),
                        cfg->provider.issuer.c_str(), cfg->provider.client_id.c_str());
            if (stale)
                std::printf("  %s: changed since psc-authd loaded it; apply with "
                            "\"systemctl reload psc-authd\"\n",
                            paint(stdout, Tone::warn, "note").c_str());
        } else {
            std::printf("config: %s (see pscctl check-config --config %s)\n",
                        paint(stdout, Tone::bad, "INVALID").c_str(), path.c_str());
        }
    }
    if (daemon.error)
        return daemon_answered(*daemon.error) ? kExitRejected : kExitUnavailable;
    return cfg && daemon.ready ? kExitOk : kExitRejected;
}

int cmd_sessions(int argc, char** argv) {
    static const char* kUsage = "Usage: pscctl sessions [--json]\n\n"
                                "Lists the logins psc-authd holds and the open sessions that "
                                "followed a psc-login\nauthentication (root only).\n"
                                "Exit status: 0 listed, 1 refused, 2 bad usage, 3 daemon not "
                                "reachable.\n";
    const auto a = parse_args(argc, argv, {}, {"--json"});
    if (a.help || !a.error.empty() || !a.positional.empty())
        return usage_error("sessions", a, kUsage);
    const bool json = has_flag(a, "--json");
    std::vector<SessionRow> sessions;
    auto rows = [&]() -> Result<std::vector<LoginRow>> {
        auto client = AuthClient::connect();
        if (!client)
            return std::move(client).error();
        auto reply = client->call("ListLogins", 0, "");
        if (!reply)
            return std::move(reply).error();
        auto logins = read_logins(reply->get());
        if (!logins)
            return logins;
        auto s = client->call("ListSessions", 0, "");
        if (!s)
            return std::move(s).error();
        auto open = read_sessions(s->get());
        if (!open)
            return std::move(open).error();
        sessions = std::move(*open);
        return logins;
    }();
    if (!rows)
        return json ? fail_json(rows.error()) : fail("sessions", rows.error());
    if (json) {
        logins_json(*rows, sessions);
    } else {
        print_logins(*rows);
        print_sessions(sessions);
    }
    return kExitOk;
}

int cmd_logout(int argc, char** argv) {
    static const char* kUsage =
        "Usage: pscctl logout USER | --session ID [--json]\n\n"
        "Ends at the provider (end_session_endpoint, with the ID token as id_token_hint) the open\n"
        "sessions of USER, or the one session ID of `pscctl sessions` (root only). The local\n"
        "sessions stay open.\nExit status: 0 every session ended at the provider, 1 refused or "
        "a provider\nfailure, 2 bad usage, 3 daemon not reachable.\n";
    const auto a = parse_args(argc, argv, {"--session"}, {"--json"});
    const auto session = option(a, "--session");
    if (a.help || !a.error.empty() || a.positional.size() + (session ? 1 : 0) != 1 ||
        (session && session->empty()) || (!a.positional.empty() && a.positional[0].empty()))
        return usage_error("logout", a, kUsage);
    const bool json = has_flag(a, "--json");
    const std::string user = a.positional.empty() ? std::string() : a.positional[0];
    const std::string id = session.value_or("");
    auto results = [&]() -> Result<std::vector<std::pair<std::string, std::string>>> {
        auto client = AuthClient::connect();
        if (!client)
            return std::move(client).error();
        auto reply = client->call("Logout", kRefreshTimeoutUsec, "ss", user.c_str(), id.c_str());
        if (!reply)
            return std::move(reply).error();
        std::vector<std::pair<std::string, std::string>> out;
        sd_bus_message* m = reply->get();
        int r = sd_bus_message_enter_container(m, 'a', "(ss)");
        const char* sid = nullptr;
        const char* outcome = nullptr;
        while (r >= 0 && (r = sd_bus_message_read(m, "(ss)", &sid, &outcome)) > 0)
            out.emplace_back(strip_control(sid ? sid : ""), strip_control(outcome ? outcome : ""));
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
            return AuthClient::local_error(r);
        return out;
    }();
    if (!results)
        return json ? fail_json(results.error()) : fail("logout", results.error());
    const bool all_ok = std::all_of(results->begin(), results->end(),
                                    [](const auto& p) { return p.second == "ok"; });
    if (json) {
        auto doc = json_new_object();
        auto list = json_new_array();
        for (const auto& [sid, outcome] : *results) {
            auto o = json_new_object();
            json_put_string(o.get(), "session", sid);
            json_put_bool(o.get(), "ok", outcome == "ok");
            if (outcome != "ok")
                json_put_string(o.get(), "error", outcome);
            json_append(list.get(), std::move(o));
        }
        json_put(doc.get(), "sessions", std::move(list));
        json_print(doc.get());
    } else {
        for (const auto& [sid, outcome] : *results)
            std::printf("session %s: %s\n", sid.c_str(),
                        outcome == "ok" ? paint(stdout, Tone::good, "ended at the provider").c_str()
                                        : (paint(stdout, Tone::bad, "FAILED") + ": " + outcome)
                                              .c_str());
    }
    return all_ok ? kExitOk : kExitRejected;
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

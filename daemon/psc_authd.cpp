// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-authd(8). Startup order after systemd's hostnamed: parse args → config → event loop →
// signals → bus + vtable → request name → attach → READY=1. Errors are reported once, here.
#include "audit.hpp"
#include "auth_bus.hpp"
#include "config.hpp"
#include "daemon.hpp"
#include "errors.hpp"
#include "event_loop.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <systemd/sd-daemon.h>

#ifndef PSC_VERSION
#define PSC_VERSION "unknown"
#endif

namespace {

using namespace psc;

struct Args {
    std::string config{kDefaultConfigPath};
    LogTarget log_target = LogTarget::automatic;
    bool help = false;
    bool version = false;
};

void usage(std::FILE* out) {
    std::fprintf(out,
                 "Usage: psc-authd [--config PATH] [--log-target=auto|journal|stderr] [--help]\n"
                 "                 [--version]\n"
                 "Pro Santé Connect login daemon (org.psclogin.Auth1 on the system bus).\n"
                 "  --config PATH        configuration file (default %s)\n"
                 "  --log-target TARGET  where login audit events go: journal (structured\n"
                 "                       fields), stderr (one KEY=\"value\" line each), or auto\n"
                 "                       (journal when started by systemd; the default)\n",
                 std::string(kDefaultConfigPath).c_str());
}

// Returns false on a usage error (already reported).
bool parse_args(int argc, char** argv, Args& args) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "--help" || a == "-h")
            args.help = true;
        else if (a == "--version")
            args.version = true;
        else if (a == "--config" && i + 1 < argc)
            args.config = argv[++i];
        else if (a.substr(0, 9) == "--config=")
            args.config = std::string(a.substr(9));
        else if ((a == "--log-target" && i + 1 < argc) || a.substr(0, 13) == "--log-target=") {
            const std::string_view v = a.size() > 12 ? a.substr(13) : std::string_view(argv[++i]);
            auto t = parse_log_target(v);
            if (!t) {
                std::fprintf(stderr, "psc-authd: %s\n", t.error().message.c_str());
                return false;
            }
            args.log_target = *t;
        } else {
            std::fprintf(stderr, "psc-authd: unknown or incomplete argument: %s\n", argv[i]);
            usage(stderr);
            return false;
        }
    }
    return true;
}

int fail(const char* what, int r) {
    std::fprintf(stderr, "psc-authd: Failed to %s: %s\n", what, std::strerror(r < 0 ? -r : r));
    return 1;
}

// Everything the daemon holds, destroyed in reverse order: the bus layer before the backend it
// calls, both before the connection and the loop.
struct Daemon {
    std::string config_path;
    Config cfg;
    std::unique_ptr<LogSink> audit; // outlives the bus layer that writes to it
    SdEventPtr event;
    SdEventSourcePtr sigterm, sigint, sighup;
    SdBusPtr bus;
    std::unique_ptr<LoginBackend> backend;
    std::unique_ptr<AuthBus> auth;
};

int on_signal(sd_event_source* s, const struct signalfd_siginfo*, void* userdata) noexcept {
    auto* d = static_cast<Daemon*>(userdata);
    if (d->auth)
        d->auth->cancel_all(); // pending WaitLogin calls get Error.Cancelled
    return sd_event_exit(sd_event_source_get_event(s), 0);
}

void log_line(const std::string& line) {
    std::fprintf(stderr, "psc-authd: %s\n", line.c_str());
}

LoadOptions daemon_load_options() {
    return LoadOptions{.proxy_environment = true};
}

// SIGHUP (systemctl reload): the configuration, its drop-ins, the map and the credentials are read
// again; new logins use them once the provider has loaded with them. A configuration that does
// not load, or whose provider cannot be reached, is refused and the running one stays. Pending
// logins finish under the configuration they started with.
int on_reload(sd_event_source*, const struct signalfd_siginfo*, void* userdata) noexcept {
    auto* d = static_cast<Daemon*>(userdata);
    try {
        (void)sd_notify(0, "RELOADING=1");
        ConfigDiagnostics diag;
        auto cfg = load_config(d->config_path, daemon_load_options(), &diag);
        for (const auto& w : diag.warnings)
            log_line("reload: " + w.text());
        if (!cfg) {
            for (const auto& e : diag.errors)
                log_line("reload refused, the running configuration stays: " + e.text());
            if (diag.errors.empty())
                log_line("reload refused, the running configuration stays: " +
                         cfg.error().describe());
            (void)sd_notify(0, "READY=1");
            return 0;
        }
        auto fresh = std::make_shared<Config>(std::move(*cfg));
        auto st = d->backend->reload(*fresh, [d, fresh](Status outcome) {
            if (outcome) {
                d->cfg = std::move(*fresh);
                AuthBusLimits limits = auth_bus_limits(d->cfg);
                limits.version = PSC_VERSION;
                if (d->auth)
                    d->auth->set_limits(std::move(limits));
                log_line("configuration reloaded from " + d->config_path +
                         "; new logins use it, pending ones finish under the previous one");
            } else {
                log_line("reload refused, the running configuration stays: " +
                         outcome.error().describe());
            }
            (void)sd_notify(0, "READY=1");
        });
        if (!st) {
            log_line("reload refused, the running configuration stays: " + st.error().describe());
            (void)sd_notify(0, "READY=1");
        }
    } catch (const std::exception& e) {
        log_line(std::string("reload failed, the running configuration stays: ") + e.what());
        (void)sd_notify(0, "READY=1");
    }
    return 0;
}

int run(Daemon& d) {
    sd_event* ev = nullptr;
    int r = sd_event_new(&ev);
    d.event.reset(ev);
    if (r < 0)
        return fail("create the event loop", r);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0)
        return fail("block signals", errno);
    // A peer that closed its end (a directory server, a bus client) is an EPIPE to handle, never
    // a reason for the daemon to die.
    std::signal(SIGPIPE, SIG_IGN);
    sd_event_source* src = nullptr;
    if ((r = sd_event_add_signal(ev, &src, SIGTERM, on_signal, &d)) < 0)
        return fail("watch SIGTERM", r);
    d.sigterm.reset(src);
    if ((r = sd_event_add_signal(ev, &src, SIGINT, on_signal, &d)) < 0)
        return fail("watch SIGINT", r);
    d.sigint.reset(src);
    if ((r = sd_event_add_signal(ev, &src, SIGHUP, on_reload, &d)) < 0)
        return fail("watch SIGHUP", r);
    d.sighup.reset(src);

    sd_bus* bus = nullptr;
    r = sd_bus_open_system(&bus); // honours DBUS_SYSTEM_BUS_ADDRESS
    d.bus.reset(bus);
    if (r < 0)
        return fail("connect to the system bus", r);
    auto backend = make_login_backend(d.cfg, ev, log_line);
    if (!backend) {
        std::fprintf(stderr, "psc-authd: Failed to start the login engine: %s\n",
                     backend.error().describe().c_str());
        return 1;
    }
    d.backend = std::move(*backend);
    AuthBusLimits limits = auth_bus_limits(d.cfg);
    limits.version = PSC_VERSION;
    auto auth = AuthBus::create(bus, ev, *d.backend, d.cfg, limits, d.audit.get());
    if (!auth) {
        std::fprintf(stderr, "psc-authd: Failed to export the API: %s\n",
                     auth.error().describe().c_str());
        return 1;
    }
    d.auth = std::move(*auth);
    const std::string name(kBusName);
    if ((r = sd_bus_request_name(bus, name.c_str(), 0)) < 0)
        return fail(
            ("own the bus name " + name + " (only root may; is it already running?)").c_str(), r);
    if ((r = sd_bus_attach_event(bus, ev, SD_EVENT_PRIORITY_NORMAL)) < 0)
        return fail("attach the bus to the event loop", r);
    // A lost bus connection ends the loop with EXIT_FAILURE (sd-bus), so systemd's
    // Restart=on-failure brings the daemon back; pending logins cannot survive it anyway.
    (void)sd_bus_set_exit_on_disconnect(bus, 1);
    (void)sd_notify(0, "READY=1");
    if ((r = sd_event_loop(ev)) < 0)
        return fail("run the event loop", r);
    if (r != 0) {
        std::fprintf(stderr, "psc-authd: Failed to stay on the system bus: the connection was "
                             "lost; exiting so that the service is restarted\n");
        if (d.auth)
            d.auth->cancel_all();
        return 1;
    }
    (void)sd_notify(0, "STOPPING=1");
    (void)sd_bus_flush(bus); // deliver the Cancelled replies before closing
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    try {
        Args args;
        if (!parse_args(argc, argv, args))
            return 2;
        if (args.help) {
            usage(stdout);
            return 0;
        }
        if (args.version) {
            std::printf("psc-authd %s\n", PSC_VERSION);
            return 0;
        }
        ConfigDiagnostics diag;
        auto cfg = load_config(args.config, daemon_load_options(), &diag);
        for (const auto& w : diag.warnings)
            std::fprintf(stderr, "%s\n", w.text().c_str());
        if (!cfg) {
            for (const auto& e : diag.errors)
                std::fprintf(stderr, "%s\n", e.text().c_str());
            if (diag.errors.empty())
                std::fprintf(stderr, "%s: %s\n", args.config.c_str(),
                             cfg.error().describe().c_str());
            return 1;
        }
        Daemon d;
        d.config_path = args.config;
        d.cfg = std::move(*cfg);
        d.audit = make_log_sink(args.log_target, std::getenv("JOURNAL_STREAM"));
        const int rc = run(d);
        d.auth.reset();
        return rc;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "psc-authd: Failed: %s\n", e.what());
        return 1;
    }
}

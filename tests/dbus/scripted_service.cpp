// SPDX-License-Identifier: LGPL-2.1-or-later
#include "scripted_service.hpp"

#include <fcntl.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

namespace psc::bustest {

namespace {

bool start_service(Service& s, const std::string& address) {
    s.cfg.services["quick"].timeout = std::chrono::seconds(1);
    auto ev = event_new();
    if (!ev)
        return false;
    s.event = std::move(*ev);
    s.bus = connect(address, "psc-authd-under-test");
    if (!s.bus)
        return false;
    s.backend = std::make_unique<ScriptedBackend>(s.event.get());
    AuthBusLimits limits;
    limits.max_pending = 6;
    limits.max_pending_per_user = 2;
    limits.safety_margin = std::chrono::seconds(0);
    limits.version = "test-version";
    limits.refresh_interval = std::chrono::seconds(1);
    auto auth = AuthBus::create(s.bus.get(), s.event.get(), *s.backend, s.cfg, limits, &s.sink);
    if (!auth)
        return false;
    s.auth = std::move(*auth);
    if (sd_bus_request_name(s.bus.get(), kDest, 0) < 0 ||
        sd_bus_attach_event(s.bus.get(), s.event.get(), 0) < 0 ||
        pipe2(s.command_fds, O_CLOEXEC) < 0)
        return false;
    sd_event_source* src = nullptr;
    if (sd_event_add_io(s.event.get(), &src, s.command_fds[0], EPOLLIN, Service::on_command, &s) <
        0)
        return false;
    s.command_source.reset(src);
    s.thread = std::thread([&s] { (void)sd_event_loop(s.event.get()); });
    return true;
}

} // namespace

Fixture* g = nullptr;

void command(char c) {
    assert_int_equal(write(g->svc.command_fds[1], &c, 1), 1);
}

int group_setup(void**) {
    if (geteuid() != 0)
        return 0; // every test skips: only root may own org.psclogin.Auth1
    g = new Fixture;
    if (!start_bus(g->bus) || !start_service(g->svc, g->bus.address)) {
        std::fprintf(stderr, "cannot start the private bus or the service\n");
        return -1;
    }
    return 0;
}

int group_teardown(void**) {
    if (!g)
        return 0;
    if (g->svc.thread.joinable()) {
        command('q');
        g->svc.thread.join();
    }
    g->svc.auth.reset();
    g->svc.command_source.reset();
    g->svc.bus.reset();
    g->svc.event.reset();
    close(g->svc.command_fds[0]);
    close(g->svc.command_fds[1]);
    stop_bus(g->bus);
    delete g;
    g = nullptr;
    return 0;
}

uint32_t pending_logins(sd_bus* bus) {
    sd_bus_error e{}; // == SD_BUS_ERROR_NULL, whose compound literal is not C++
    uint32_t n = 0;
    int r = sd_bus_get_property_trivial(bus, kDest, kPath, kIface, "PendingLogins", &e, 'u', &n);
    sd_bus_error_free(&e);
    assert_true(r >= 0);
    return n;
}

// Logins of closed connections are dropped asynchronously; tests start from an empty registry.
void wait_idle(sd_bus* bus) {
    for (int i = 0; i < 250 && pending_logins(bus) != 0; ++i)
        usleep(20'000);
    assert_int_equal(pending_logins(bus), 0);
}

int setup(void** state) {
    if (!g)
        skip();
    auto* bus = connect(g->bus.address).release();
    assert_non_null(bus);
    wait_idle(bus);
    *state = bus;
    return 0;
}

int teardown(void** state) {
    SdBusPtr bus(static_cast<sd_bus*>(*state));
    return 0;
}

sd_bus* client(void** state) {
    return static_cast<sd_bus*>(*state);
}

// Runs `body` as uid/gid 1001 in a child; the child's exit status is the result (0 = as expected).
int as_claire(const std::function<int()>& body) {
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, nullptr) < 0 || setresgid(kClaireUid, kClaireUid, kClaireUid) < 0 ||
            setresuid(kClaireUid, kClaireUid, kClaireUid) < 0)
            _exit(100);
        _exit(body());
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

} // namespace psc::bustest

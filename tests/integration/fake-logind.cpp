// SPDX-License-Identifier: LGPL-2.1-or-later
// A stand-in for systemd-logind on a test bus: owns org.freedesktop.login1 and answers
// org.freedesktop.login1.Manager.LockSession(s) and TerminateSession(s) as logind does (the
// session "gone" is unknown: org.freedesktop.login1.NoSuchSession), appending one line per call
// ("LockSession c7") to the file named on the command line. The bus is $DBUS_SYSTEM_BUS_ADDRESS.
// Runs until the bus goes away or SIGTERM.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

namespace {

const char* g_log = nullptr;

int record(sd_bus_message* m, const char* method, sd_bus_error* err) {
    const char* id = nullptr;
    int r = sd_bus_message_read(m, "s", &id);
    if (r < 0)
        return r;
    if (std::strcmp(id, "gone") == 0)
        return sd_bus_error_setf(err, "org.freedesktop.login1.NoSuchSession",
                                 "No session '%s' known", id);
    std::FILE* f = std::fopen(g_log, "a");
    if (!f)
        return -errno;
    std::fprintf(f, "%s %s\n", method, id);
    std::fclose(f);
    return sd_bus_reply_method_return(m, "");
}

int lock(sd_bus_message* m, void*, sd_bus_error* err) {
    return record(m, "LockSession", err);
}
int terminate(sd_bus_message* m, void*, sd_bus_error* err) {
    return record(m, "TerminateSession", err);
}

const sd_bus_vtable kVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("LockSession", "s", "", lock, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("TerminateSession", "s", "", terminate, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fake-logind CALL_LOG\n");
        return 2;
    }
    g_log = argv[1];
    sd_event* event = nullptr;
    sd_bus* bus = nullptr;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    if (sd_event_default(&event) < 0 || sd_bus_open_system(&bus) < 0 ||
        sd_bus_add_object_vtable(bus, nullptr, "/org/freedesktop/login1",
                                 "org.freedesktop.login1.Manager", kVtable, nullptr) < 0 ||
        sd_bus_request_name(bus, "org.freedesktop.login1", 0) < 0 ||
        sd_bus_attach_event(bus, event, 0) < 0 || sd_bus_set_exit_on_disconnect(bus, 1) < 0 ||
        sd_event_add_signal(event, nullptr, SIGTERM, nullptr, nullptr) < 0 ||
        sd_event_add_signal(event, nullptr, SIGINT, nullptr, nullptr) < 0) {
        std::fprintf(stderr, "fake-logind: cannot set up on the bus\n");
        return 1;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    const int r = sd_event_loop(event);
    sd_bus_flush_close_unref(bus);
    sd_event_unref(event);
    return r < 0 ? 1 : 0;
}

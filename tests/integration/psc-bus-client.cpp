// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-bus-client: drives org.psclogin.Auth1 over ONE bus connection, for the integration tests.
// A login belongs to the connection that started it (and is cancelled when it leaves), so
// `busctl call` (a connection per call) cannot run one; this client keeps its connection open
// and takes commands on stdin, one per line, answering each with one line on stdout (flushed), so
// bash can drive it as a coproc.
//
//   psc-bus-client [start USER SERVICE FLOW [RHOST]]   (the same as a first `start` command)
//
// Commands (stdin):
//   start USER SERVICE FLOW [RHOST]  StartLogin (FLOW "-": the service's first flow); prints
//                                    `login_id=ID`, each display field as `key=value` (b as
//                                    true/false), then `ready`
//   use ID                           act on another login id (to prove ids cannot be hijacked);
//                                    prints `using ID`
//   wait MS                          WaitLogin(ID, MS)
//   submit ADDRESS                   SubmitCallback(ID, ADDRESS) (the rest of the line)
//   cancel                           CancelLogin(ID); prints `cancelled`
//   flows SERVICE                    GetFlows; prints `flows F1 F2 ...`
//   userflows USER SERVICE           GetUserFlows; the same, or the error for an unmanaged USER
//   own NAME                         RequestName(NAME); prints `owned NAME` (or `queued NAME N`)
//   quit                             exit 0 (EOF too)
// A finished login prints `done user=U idnat=I profession=P auth_mode=M [ticket=T]`, a pending one
// `pending remaining=N` (` confirm` when the browser's code is awaited), any failure `error <D-Bus error name> <message>` (psc-authd's message
// starts with the stable reason token).
//
// Exit codes: 0 after quit/EOF; 1 cannot connect to the bus; 2 usage; 3 the StartLogin given on
// the command line failed (the error line was printed).
#include "bus_client.hpp" // pscctl's read_bus_dict
#include "errors.hpp"
#include "owned.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <systemd/sd-bus.h>
#include <unistd.h>

namespace {

using BusPtr = psc::Owned<sd_bus, sd_bus_flush_close_unref>;
using MessagePtr = psc::Owned<sd_bus_message, sd_bus_message_unref>;

const std::string kName(psc::kBusName);
const std::string kPath(psc::kObjectPath);
const std::string kIface(psc::kInterface);

// Longer than any WaitLogin we ask for, so the daemon (not the bus call) decides.
constexpr std::uint64_t kCallSlackUsec = 30'000'000;

void say(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
}

// sd_bus_error wipes itself on every exit path.
struct BusError {
    sd_bus_error e{}; // == SD_BUS_ERROR_NULL, whose compound literal is not C++
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&e); }
};

void say_error(const BusError& err, int r) {
    if (sd_bus_error_is_set(&err.e))
        say(std::string("error ") + err.e.name + " " + (err.e.message ? err.e.message : ""));
    else
        say("error local " + std::to_string(-r));
}

// pscctl's reader of the a{sv} answers (s, u and b values as text).
int read_dict(sd_bus_message* m, psc::ctl::BusDict& out) {
    return psc::ctl::read_bus_dict(m, out).ok() ? 0 : -EBADMSG;
}

void say_done(const std::map<std::string, std::string>& d) {
    auto get = [&](const char* k) {
        auto it = d.find(k);
        return it == d.end() ? std::string() : it->second;
    };
    say("done user=" + get("user") + " idnat=" + get("idnat") + " profession=" + get("profession") +
        " auth_mode=" + get("auth_mode") +
        (get("session_ticket").empty() ? "" : " ticket=" + get("session_ticket")));
}

class Client {
public:
    explicit Client(sd_bus* bus) : bus_(bus) {}

    // Returns false when the StartLogin failed. FLOW "-" is "" (the service's first flow): a
    // command line cannot carry an empty word.
    bool start(const std::string& user, const std::string& service, std::string flow,
               const std::string& rhost) {
        if (flow == "-")
            flow.clear();
        MessagePtr reply;
        BusError err;
        int r = call("StartLogin", err, reply, 0, "sssss", user.c_str(), service.c_str(),
                     rhost.c_str(), "", flow.c_str());
        if (r < 0) {
            say_error(err, r);
            return false;
        }
        const char* id = nullptr;
        std::map<std::string, std::string> display;
        if ((r = sd_bus_message_read(reply.get(), "s", &id)) < 0 ||
            (r = read_dict(reply.get(), display)) < 0) {
            say("error local " + std::to_string(-r));
            return false;
        }
        id_ = id;
        say("login_id=" + id_);
        for (const auto& [k, v] : display)
            say(k + "=" + v);
        say("ready");
        return true;
    }

    void wait(std::uint32_t ms) {
        MessagePtr reply;
        BusError err;
        int r = call("WaitLogin", err, reply, std::uint64_t{ms} * 1000, "su", id_.c_str(), ms);
        if (r < 0)
            return say_error(err, r);
        int done = 0;
        std::map<std::string, std::string> result;
        if ((r = sd_bus_message_read(reply.get(), "b", &done)) < 0 ||
            (r = read_dict(reply.get(), result)) < 0)
            return say("error local " + std::to_string(-r));
        if (done)
            return say_done(result);
        say("pending remaining=" + result["remaining"] +
            (result["confirm"] == "true" ? " confirm" : ""));
    }

    void submit(const std::string& address) {
        MessagePtr reply;
        BusError err;
        int r = call("SubmitCallback", err, reply, 0, "ss", id_.c_str(), address.c_str());
        if (r < 0)
            return say_error(err, r);
        std::map<std::string, std::string> result;
        if ((r = read_dict(reply.get(), result)) < 0)
            return say("error local " + std::to_string(-r));
        say_done(result);
    }

    void cancel() {
        MessagePtr reply;
        BusError err;
        int r = call("CancelLogin", err, reply, 0, "s", id_.c_str());
        if (r < 0)
            return say_error(err, r);
        say("cancelled");
    }

    // GetFlows SERVICE, or GetUserFlows USER SERVICE when a user is given.
    void flows(const std::string& service, const std::string& user = "") {
        MessagePtr reply;
        BusError err;
        int r = user.empty() ? call("GetFlows", err, reply, 0, "s", service.c_str())
                             : call("GetUserFlows", err, reply, 0, "ss", user.c_str(),
                                    service.c_str());
        if (r < 0)
            return say_error(err, r);
        std::string line = "flows";
        const char* f = nullptr;
        r = sd_bus_message_enter_container(reply.get(), 'a', "s");
        while (r >= 0 && (r = sd_bus_message_read(reply.get(), "s", &f)) > 0)
            line += std::string(" ") + f;
        if (r < 0)
            return say("error local " + std::to_string(-r));
        say(line);
    }

    // RequestName by hand: sd_bus_request_name() would hide the bus's error name.
    void own(const std::string& name) {
        BusError err;
        sd_bus_message* raw = nullptr;
        int r = sd_bus_call_method(bus_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "RequestName", &err.e, &raw, "su",
                                   name.c_str(), 0u);
        MessagePtr reply(raw);
        if (r < 0)
            return say_error(err, r);
        std::uint32_t answer = 0;
        if ((r = sd_bus_message_read(reply.get(), "u", &answer)) < 0)
            return say("error local " + std::to_string(-r));
        // DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER is 1; anything else leaves the name to another.
        say(answer == 1 ? "owned " + name : "queued " + name + " " + std::to_string(answer));
    }

    void use(const std::string& id) {
        id_ = id;
        say("using " + id_);
    }

private:
    // A method call with a timeout of extra_usec plus slack (sd-bus's default is 25 s).
    template <class... Args>
    int call(const char* method, BusError& err, MessagePtr& reply, std::uint64_t extra_usec,
             const char* sig, Args... args) {
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_call(bus_, &raw, kName.c_str(), kPath.c_str(),
                                               kIface.c_str(), method);
        MessagePtr m(raw);
        if (r >= 0)
            r = sd_bus_message_append(m.get(), sig, args...);
        if (r < 0)
            return r;
        raw = nullptr;
        r = sd_bus_call(bus_, m.get(), extra_usec + kCallSlackUsec, &err.e, &raw);
        reply.reset(raw);
        return r;
    }

    sd_bus* bus_;
    std::string id_;
};

// The test's private bus from DBUS_SYSTEM_BUS_ADDRESS, read with getenv(): sd_bus_open_system()
// uses secure_getenv(), which glibc empties when the real and effective uids differ, and the
// tests run this client with a real uid of 0 and an effective uid of a test user on purpose.
BusPtr connect_bus() {
    sd_bus* raw = nullptr;
    const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    if (address == nullptr || *address == '\0') {
        if (sd_bus_open_system(&raw) < 0)
            return nullptr;
        return BusPtr(raw);
    }
    if (sd_bus_new(&raw) < 0)
        return nullptr;
    BusPtr bus(raw);
    if (sd_bus_set_address(raw, address) < 0 || sd_bus_set_bus_client(raw, 1) < 0 ||
        sd_bus_start(raw) < 0)
        return nullptr;
    return bus;
}

// One command line; returns false on quit.
bool run_command(Client& c, const std::string& line) {
    std::istringstream in(line);
    std::string cmd;
    in >> cmd;
    if (cmd == "quit")
        return false;
    if (cmd == "start") {
        std::string user, service, flow, rhost;
        in >> user >> service >> flow >> rhost;
        (void)c.start(user, service, flow, rhost);
    } else if (cmd == "wait") {
        unsigned long ms = 0;
        in >> ms;
        c.wait(static_cast<std::uint32_t>(ms));
    } else if (cmd == "submit") {
        std::string address;
        std::getline(in >> std::ws, address);
        c.submit(address);
    } else if (cmd == "cancel") {
        c.cancel();
    } else if (cmd == "userflows") {
        std::string user, service;
        in >> user >> service;
        c.flows(service, user);
    } else if (cmd == "flows" || cmd == "own" || cmd == "use") {
        std::string arg;
        in >> arg;
        if (cmd == "flows")
            c.flows(arg);
        else if (cmd == "own")
            c.own(arg);
        else
            c.use(arg);
    } else if (!cmd.empty()) {
        say("error usage unknown command: " + cmd);
    }
    return true;
}

} // namespace

// LeakSanitizer's documented hook (sanitizer/lsan_interface.h; unused without ASan). Started with
// a real uid of 0 and another effective uid (the tests' spoofing case), this process may not
// ptrace its own threads, which LeakSanitizer needs: it would fail instead of checking.
extern "C" int __lsan_is_turned_off();
extern "C" int __lsan_is_turned_off() {
    return getuid() != geteuid() ? 1 : 0;
}

int main(int argc, char** argv) {
    if (argc > 1 && (std::string(argv[1]) != "start" || argc < 5 || argc > 6)) {
        std::fprintf(stderr, "usage: psc-bus-client [start USER SERVICE FLOW|- [RHOST]]\n");
        return 2;
    }
    BusPtr bus = connect_bus();
    if (!bus) {
        std::fprintf(stderr, "psc-bus-client: cannot connect to the system bus\n");
        return 1;
    }
    Client client(bus.get());
    if (argc > 1 && !client.start(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : ""))
        return 3;
    std::string line;
    while (std::getline(std::cin, line))
        if (!run_command(client, line))
            break;
    return 0;
}

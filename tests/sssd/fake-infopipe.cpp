// SPDX-License-Identifier: LGPL-2.1-or-later
// A stand-in for SSSD's InfoPipe responder (sssd_ifp, package sssd-dbus) on a test bus: owns
// org.freedesktop.sssd.infopipe and serves the part of its interface psc-login uses, with the
// names, signatures and errors of SSSD 2.8 (Debian 12), as tests/sssd/infopipe-users.xml records:
//
//   /org/freedesktop/sssd/infopipe/Users   org.freedesktop.sssd.infopipe.Users
//       FindByName(s name) → o             the user, matched without case (as a domain with
//                                          case_sensitive = false does); none: sbus.Error.NotFound
//       ListByAttr(s attr, s value, u limit) → ao
//                                          the users whose attribute holds value, at most limit
//                                          (0: no limit); none: an empty list (as SSSD 2.8), or
//                                          NotFound when the mode says so
//   /org/freedesktop/sssd/infopipe/Users/<domain>/<uid>
//                                          org.freedesktop.sssd.infopipe.Users.User
//       name (s), uidNumber (u), extraAttributes (a{sas})
//
// The users come from DATA, re-read at every call, one per line: "UID NAME [ATTR=V1,V2 ...]".
// DATA.mode (re-read too) may hold: "deny" (every call: org.freedesktop.DBus.Error.AccessDenied,
// as for a caller missing from [ifp] allowed_uids), "slow" (each call answered after 4 s),
// "notfound-list" (ListByAttr without match: NotFound), "bad-reply" (ListByAttr answers "as").
// Each call is appended to CALL_LOG ("FindByName claire", "ListByAttr pscIdNat 8100... 3",
// "Get /org/.../1001 extraAttributes"). The bus is $DBUS_SYSTEM_BUS_ADDRESS. Runs until the bus
// goes away or SIGTERM.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <strings.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr char kUsers[] = "/org/freedesktop/sssd/infopipe/Users";
constexpr char kDomain[] = "hospital";
constexpr char kNotFound[] = "sbus.Error.NotFound"; // as SSSD 2.8 names it

std::string g_data, g_log;

struct User {
    unsigned uid = 0;
    std::string name;
    std::map<std::string, std::vector<std::string>> attrs;
};

std::vector<User> users() {
    std::vector<User> out;
    std::ifstream in(g_data);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        User u;
        if (!(words >> u.uid >> u.name))
            continue;
        std::string kv;
        while (words >> kv) {
            const auto eq = kv.find('=');
            if (eq == std::string::npos)
                continue;
            auto& values = u.attrs[kv.substr(0, eq)];
            std::istringstream list(kv.substr(eq + 1));
            std::string v;
            while (std::getline(list, v, ','))
                values.push_back(v);
        }
        out.push_back(std::move(u));
    }
    return out;
}

bool mode(const char* word) {
    std::ifstream in(g_data + ".mode");
    std::string w;
    while (in >> w)
        if (w == word)
            return true;
    return false;
}

void record(const std::string& line) {
    if (std::FILE* f = std::fopen(g_log.c_str(), "a")) {
        std::fprintf(f, "%s\n", line.c_str());
        std::fclose(f);
    }
}

// What every call goes through first: the log, "slow" and "deny". Nonzero: answered already.
int gate(const std::string& call, sd_bus_error* err) {
    record(call);
    if (mode("slow"))
        ::sleep(4);
    if (mode("deny"))
        return sd_bus_error_set(err, SD_BUS_ERROR_ACCESS_DENIED, "Access denied");
    return 0;
}

std::string path_of(const User& u) {
    return std::string(kUsers) + "/" + kDomain + "/" + std::to_string(u.uid);
}

int find_by_name(sd_bus_message* m, void*, sd_bus_error* err) {
    const char* name = nullptr;
    int r = sd_bus_message_read(m, "s", &name);
    if (r < 0)
        return r;
    if ((r = gate(std::string("FindByName ") + name, err)) != 0)
        return r;
    for (const auto& u : users())
        if (strcasecmp(u.name.c_str(), name) == 0)
            return sd_bus_reply_method_return(m, "o", path_of(u).c_str());
    return sd_bus_error_setf(err, kNotFound, "User %s not found", name);
}

int list_by_attr(sd_bus_message* m, void*, sd_bus_error* err) {
    const char* attr = nullptr;
    const char* value = nullptr;
    unsigned limit = 0;
    int r = sd_bus_message_read(m, "ssu", &attr, &value, &limit);
    if (r < 0)
        return r;
    if ((r = gate(std::string("ListByAttr ") + attr + " " + value + " " + std::to_string(limit),
                  err)) != 0)
        return r;
    if (mode("bad-reply"))
        return sd_bus_reply_method_return(m, "as", 1, "not-a-path");
    std::vector<std::string> paths;
    for (const auto& u : users()) {
        const auto it = u.attrs.find(attr);
        if (it == u.attrs.end())
            continue;
        for (const auto& v : it->second)
            if (v == value) {
                paths.push_back(path_of(u));
                break;
            }
        if (limit != 0 && paths.size() >= limit)
            break;
    }
    if (paths.empty() && mode("notfound-list"))
        return sd_bus_error_setf(err, kNotFound, "No users with %s=%s", attr, value);
    sd_bus_message* reply = nullptr;
    if ((r = sd_bus_message_new_method_return(m, &reply)) < 0)
        return r;
    r = sd_bus_message_open_container(reply, 'a', "o");
    for (const auto& p : paths)
        if (r >= 0)
            r = sd_bus_message_append(reply, "o", p.c_str());
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    if (r >= 0)
        r = sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
    return r;
}

// The user objects: /Users/<domain>/<uid> for every uid in DATA.
bool user_at(const char* path, User* out) {
    const std::string prefix = std::string(kUsers) + "/" + kDomain + "/";
    if (std::strncmp(path, prefix.c_str(), prefix.size()) != 0)
        return false;
    for (auto& u : users())
        if (std::to_string(u.uid) == path + prefix.size()) {
            *out = std::move(u);
            return true;
        }
    return false;
}

// sd-bus does not mix fallback and plain vtables on one path: /Users is a fallback too, that
// finds itself only.
int find_users(sd_bus*, const char* path, const char*, void*, void** found, sd_bus_error*) {
    if (std::strcmp(path, kUsers) != 0)
        return 0;
    *found = nullptr;
    return 1;
}

int find_user(sd_bus*, const char* path, const char*, void*, void** found, sd_bus_error*) {
    User u;
    if (!user_at(path, &u))
        return 0;
    *found = nullptr;
    return 1;
}

int get_property(sd_bus*, const char* path, const char*, const char* property,
                 sd_bus_message* reply, void*, sd_bus_error* err) {
    User u;
    int r = gate(std::string("Get ") + path + " " + property, err);
    if (r != 0)
        return r;
    if (!user_at(path, &u))
        return sd_bus_error_setf(err, kNotFound, "No such user object %s", path);
    if (std::strcmp(property, "name") == 0)
        return sd_bus_message_append(reply, "s", u.name.c_str());
    if (std::strcmp(property, "uidNumber") == 0)
        return sd_bus_message_append(reply, "u", u.uid);
    if ((r = sd_bus_message_open_container(reply, 'a', "{sas}")) < 0)
        return r;
    for (const auto& [key, values] : u.attrs) {
        if ((r = sd_bus_message_open_container(reply, 'e', "sas")) < 0 ||
            (r = sd_bus_message_append(reply, "s", key.c_str())) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', "s")) < 0)
            return r;
        for (const auto& v : values)
            if ((r = sd_bus_message_append(reply, "s", v.c_str())) < 0)
                return r;
        if ((r = sd_bus_message_close_container(reply)) < 0 ||
            (r = sd_bus_message_close_container(reply)) < 0)
            return r;
    }
    return sd_bus_message_close_container(reply);
}

const sd_bus_vtable kUsersVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD_WITH_NAMES("FindByName", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(result),
                             find_by_name, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD_WITH_NAMES("ListByAttr", "ssu", SD_BUS_PARAM(attr) SD_BUS_PARAM(value)
                             SD_BUS_PARAM(limit), "ao", SD_BUS_PARAM(result), list_by_attr,
                             SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

const sd_bus_vtable kUserVtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("name", "s", get_property, 0, 0),
    SD_BUS_PROPERTY("uidNumber", "u", get_property, 0, 0),
    SD_BUS_PROPERTY("extraAttributes", "a{sas}", get_property, 0, 0),
    SD_BUS_VTABLE_END,
};

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: fake-infopipe DATA CALL_LOG\n");
        return 2;
    }
    g_data = argv[1];
    g_log = argv[2];
    sd_event* event = nullptr;
    sd_bus* bus = nullptr;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, nullptr);
    int r = 0;
    const char* step = "";
    if ((step = "event", r = sd_event_default(&event)) < 0 ||
        (step = "bus", r = sd_bus_open_system(&bus)) < 0 ||
        (step = "Users", r = sd_bus_add_fallback_vtable(bus, nullptr, kUsers,
                                                        "org.freedesktop.sssd.infopipe.Users",
                                                        kUsersVtable, find_users, nullptr)) < 0 ||
        (step = "User", r = sd_bus_add_fallback_vtable(bus, nullptr, kUsers,
                                                       "org.freedesktop.sssd.infopipe.Users.User",
                                                       kUserVtable, find_user, nullptr)) < 0 ||
        (step = "name", r = sd_bus_request_name(bus, "org.freedesktop.sssd.infopipe", 0)) < 0 ||
        (step = "attach", r = sd_bus_attach_event(bus, event, 0)) < 0 ||
        (step = "exit", r = sd_bus_set_exit_on_disconnect(bus, 1)) < 0 ||
        (step = "signals", r = sd_event_add_signal(event, nullptr, SIGTERM, nullptr, nullptr)) < 0 ||
        (r = sd_event_add_signal(event, nullptr, SIGINT, nullptr, nullptr)) < 0) {
        std::fprintf(stderr, "fake-infopipe: cannot set up on the bus (%s): %s\n", step,
                     std::strerror(-r));
        return 1;
    }
    std::printf("ready\n");
    std::fflush(stdout);
    r = sd_event_loop(event);
    sd_bus_flush_close_unref(bus);
    sd_event_unref(event);
    return r < 0 ? 1 : 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "sssd.hpp"

#include "owned.hpp"
#include "strutil.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <strings.h>
#include <systemd/sd-bus.h>

namespace psc {

namespace {

constexpr char kService[] = "org.freedesktop.sssd.infopipe";
constexpr char kUsersPath[] = "/org/freedesktop/sssd/infopipe/Users";
constexpr char kUsersIface[] = "org.freedesktop.sssd.infopipe.Users";
constexpr char kUserIface[] = "org.freedesktop.sssd.infopipe.Users.User";
// SSSD 2.x answers "no such user" with sbus.Error.NotFound; older releases used the longer name.
constexpr const char* kNotFound[] = {"sbus.Error.NotFound", "org.freedesktop.sssd.Error.NotFound"};

using MessagePtr = Owned<sd_bus_message, sd_bus_message_unref>;

struct BusError {
    sd_bus_error e{}; // == SD_BUS_ERROR_NULL, whose compound literal is not C++
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&e); }
    [[nodiscard]] bool is(const char* name) const { return sd_bus_error_has_name(&e, name) > 0; }
    [[nodiscard]] bool not_found() const { return is(kNotFound[0]) || is(kNotFound[1]); }
};

std::string errno_text(int r) { return std::strerror(r < 0 ? -r : r); }

bool starts_with(const char* s, std::string_view prefix) {
    return s != nullptr && std::string_view(s).substr(0, prefix.size()) == prefix;
}

// What an InfoPipe call's failure means (see sssd.hpp).
Error call_error(const BusError& err, int r, std::string_view what, const SssdConfig& cfg) {
    const char* name = err.e.name;
    if (err.is(SD_BUS_ERROR_NO_REPLY) || err.is(SD_BUS_ERROR_TIMEOUT) ||
        (name == nullptr && r == -ETIMEDOUT))
        return make_error(Errc::unavailable, "directory_timeout",
                          "SSSD's InfoPipe did not answer " + std::string(what) + " within " +
                              std::to_string(cfg.timeout.count()) + " s (sssd_timeout)");
    if (err.is(SD_BUS_ERROR_SERVICE_UNKNOWN) || err.is(SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
        err.is(SD_BUS_ERROR_DISCONNECTED) || starts_with(name, "org.freedesktop.DBus.Error.Spawn.") ||
        (name == nullptr && r < 0))
        return make_error(Errc::unavailable, "directory_unavailable",
                          "SSSD's InfoPipe (" + std::string(kService) +
                              ") cannot be reached on the system bus: " +
                              (name != nullptr ? strip_control(name) : errno_text(r)) +
                              " (is sssd-dbus installed, ifp listed in sssd.conf's [sssd] "
                              "services and sssd running?)");
    if (err.is(SD_BUS_ERROR_ACCESS_DENIED))
        return make_error(Errc::config, "directory_search_failed",
                          "SSSD's InfoPipe refused psc-authd " + std::string(what) +
                              ": add 0 (root) to allowed_uids in sssd.conf's [ifp] section");
    std::string message = err.e.message != nullptr ? strip_control(err.e.message) : "";
    if (message.size() > 200)
        message.resize(200);
    return make_error(Errc::config, "directory_search_failed",
                      "SSSD's InfoPipe answered " + std::string(what) + " with " +
                          (name != nullptr ? strip_control(name) : errno_text(r)) +
                          (message.empty() ? "" : ": " + message));
}

Error reply_error(int r, std::string_view what) {
    return make_error(Errc::config, "directory_search_failed",
                      "SSSD's InfoPipe answered " + std::string(what) +
                          " with a reply psc-login cannot read (" + errno_text(r) +
                          "): is this InfoPipe a different version?");
}

} // namespace

int open_system_bus(sd_bus** out) {
    *out = nullptr;
    const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    if (address == nullptr || *address == '\0')
        return sd_bus_open_system(out);
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    if (r < 0)
        return r;
    if ((r = sd_bus_set_address(raw, address)) < 0 || (r = sd_bus_set_bus_client(raw, 1)) < 0 ||
        (r = sd_bus_start(raw)) < 0) {
        sd_bus_flush_close_unref(raw);
        return r;
    }
    *out = raw;
    return 0;
}

SssdDirectory::SssdDirectory(SssdConfig cfg) : cfg_(std::move(cfg)) {}

SssdDirectory::~SssdDirectory() { close(); }

void SssdDirectory::close() noexcept {
    if (bus_ != nullptr)
        bus_ = sd_bus_flush_close_unref(bus_);
}

std::string SssdDirectory::where() const { return std::string("SSSD InfoPipe (") + kService + ")"; }

Status SssdDirectory::open() {
    if (bus_ != nullptr && sd_bus_is_open(bus_) > 0)
        return {};
    close(); // the bus went away (dbus-daemon restarted): a new connection
    sd_bus* raw = nullptr;
    const int r = open_system_bus(&raw);
    if (r < 0)
        return make_error(Errc::unavailable, "directory_unavailable",
                          "cannot connect to the system bus to reach SSSD's InfoPipe: " +
                              errno_text(r));
    bus_ = raw;
    // Every call below uses this timeout (sd_bus_call with 0, sd_bus_get_property).
    (void)sd_bus_set_method_call_timeout(
        bus_, static_cast<std::uint64_t>(cfg_.timeout.count()) * 1'000'000U);
    return {};
}

namespace {

// SSSD may turn a value into an LDAP filter on a cache miss: a value with a filter's special
// characters is never sent as an idNat (no idNat holds one), and no value with a NUL (it would be
// cut short on the bus; no account name or idNat holds one).
bool sendable(const std::string& v, bool is_idnat) {
    if (v.empty() || v.find('\0') != std::string::npos)
        return false;
    return !is_idnat || v.find_first_of("*()\\") == std::string::npos;
}

} // namespace

Result<std::vector<DirectoryEntry>> SssdDirectory::account_entries(const std::string& user) {
    if (!sendable(user, false))
        return std::vector<DirectoryEntry>{};
    PSC_TRY(open());
    BusError err;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call_method(bus_, kService, kUsersPath, kUsersIface, "FindByName", &err.e, &raw,
                               "s", user.c_str());
    MessagePtr reply(raw);
    if (r == -EINVAL && err.e.name == nullptr)
        return std::vector<DirectoryEntry>{}; // not UTF-8: no SSSD entry can be named so
    if (r < 0) {
        if (err.not_found())
            return std::vector<DirectoryEntry>{};
        auto e = call_error(err, r, "FindByName(" + strip_control(user) + ")", cfg_);
        if (e.code == Errc::unavailable)
            close();
        return e;
    }
    const char* path = nullptr;
    if ((r = sd_bus_message_read(reply.get(), "o", &path)) < 0)
        return reply_error(r, "FindByName");
    auto entry = entry_at(path);
    if (!entry)
        return std::move(entry).error();
    return std::vector<DirectoryEntry>{std::move(*entry)};
}

Result<std::vector<DirectoryEntry>> SssdDirectory::idnat_entries(const std::string& idnat) {
    if (!sendable(idnat, true))
        return std::vector<DirectoryEntry>{};
    PSC_TRY(open());
    BusError err;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_call_method(bus_, kService, kUsersPath, kUsersIface, "ListByAttr", &err.e,
                               &raw, "ssu", cfg_.idnat_attribute.c_str(), idnat.c_str(),
                               kMaxEntries);
    MessagePtr reply(raw);
    if (r == -EINVAL && err.e.name == nullptr)
        return std::vector<DirectoryEntry>{};
    if (r < 0) {
        if (err.not_found())
            return std::vector<DirectoryEntry>{};
        auto e = call_error(err, r, "ListByAttr(" + cfg_.idnat_attribute + ")", cfg_);
        if (e.code == Errc::unavailable)
            close();
        return e;
    }
    std::vector<std::string> paths;
    if ((r = sd_bus_message_enter_container(reply.get(), 'a', "o")) < 0)
        return reply_error(r, "ListByAttr");
    const char* path = nullptr;
    while ((r = sd_bus_message_read(reply.get(), "o", &path)) > 0)
        if (paths.size() < kMaxEntries) // an InfoPipe ignoring the limit costs no more
            paths.emplace_back(path);
    if (r < 0)
        return reply_error(r, "ListByAttr");
    std::vector<DirectoryEntry> out;
    for (const auto& p : paths) {
        auto entry = entry_at(p);
        if (!entry)
            return std::move(entry).error();
        out.push_back(std::move(*entry));
    }
    return out;
}

Result<DirectoryEntry> SssdDirectory::entry_at(const std::string& path) {
    DirectoryEntry entry;
    entry.dn = path;
    auto name = get_name(path);
    if (!name)
        return std::move(name).error();
    entry.users.push_back(std::move(*name));
    auto idnats = get_idnats(path);
    if (!idnats)
        return std::move(idnats).error();
    entry.idnats = std::move(*idnats);
    return entry;
}

Result<std::string> SssdDirectory::get_name(const std::string& path) {
    BusError err;
    char* name = nullptr;
    const int r = sd_bus_get_property_string(bus_, kService, path.c_str(), kUserIface, "name",
                                             &err.e, &name);
    if (r < 0) {
        auto e = call_error(err, r, "the name of " + strip_control(path), cfg_);
        if (e.code == Errc::unavailable)
            close();
        return e;
    }
    std::string out(name);
    std::free(name);
    return out;
}

// extraAttributes is a{sas}: the values of the idNat attribute (its name compared as LDAP
// compares attribute names: without case). At most kMaxValues are kept: "more than one" is all
// the rule needs. No such attribute (SSSD not told to fetch or show it): no value.
Result<std::vector<std::string>> SssdDirectory::get_idnats(const std::string& path) {
    BusError err;
    sd_bus_message* raw = nullptr;
    int r = sd_bus_get_property(bus_, kService, path.c_str(), kUserIface, "extraAttributes",
                                &err.e, &raw, "a{sas}");
    MessagePtr reply(raw);
    if (r < 0) {
        auto e = call_error(err, r, "the extraAttributes of " + strip_control(path), cfg_);
        if (e.code == Errc::unavailable)
            close();
        return e;
    }
    std::vector<std::string> values;
    sd_bus_message* m = reply.get();
    if ((r = sd_bus_message_enter_container(m, 'a', "{sas}")) < 0)
        return reply_error(r, "extraAttributes");
    while ((r = sd_bus_message_enter_container(m, 'e', "sas")) > 0) {
        const char* key = nullptr;
        if ((r = sd_bus_message_read(m, "s", &key)) < 0)
            return reply_error(r, "extraAttributes");
        if (strcasecmp(key, cfg_.idnat_attribute.c_str()) != 0) {
            if ((r = sd_bus_message_skip(m, "as")) < 0)
                return reply_error(r, "extraAttributes");
        } else {
            if ((r = sd_bus_message_enter_container(m, 'a', "s")) < 0)
                return reply_error(r, "extraAttributes");
            const char* v = nullptr;
            while ((r = sd_bus_message_read(m, "s", &v)) > 0)
                if (values.size() < kMaxValues)
                    values.emplace_back(v);
            if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
                return reply_error(r, "extraAttributes");
        }
        if ((r = sd_bus_message_exit_container(m)) < 0)
            return reply_error(r, "extraAttributes");
    }
    if (r < 0)
        return reply_error(r, "extraAttributes");
    return values;
}

} // namespace psc

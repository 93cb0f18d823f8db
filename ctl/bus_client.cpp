// SPDX-License-Identifier: LGPL-2.1-or-later
#include "bus_client.hpp"

#include "commands.hpp"
#include "errors.hpp"
#include "strutil.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace psc::ctl {
namespace {

// sd_bus_error frees itself on every path.
struct BusError {
    sd_bus_error e{}; // == SD_BUS_ERROR_NULL, whose compound literal is not C++
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&e); }
};

constexpr std::string_view kBusReasons[] = {"bus_connect", "daemon_unreachable",
                                            "bus_access_denied", "bus_local"};

std::string errno_text(int r) {
    return std::strerror(r < 0 ? -r : r);
}

// psc-authd's messages are "reason: message" (design §5); anything else is kept whole.
Error daemon_error(Errc code, std::string_view text) {
    const auto colon = text.find(": ");
    const std::string_view head = colon == std::string_view::npos ? text : text.substr(0, colon);
    const bool token = !head.empty() && head.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") ==
                                            std::string_view::npos;
    if (!token)
        return make_error(code, std::string(errc_label(code)), std::string(text));
    return make_error(code, std::string(head),
                      colon == std::string_view::npos ? std::string() : std::string(text.substr(colon + 2)));
}

Error error_from_bus(const sd_bus_error& e, int r) {
    if (!sd_bus_error_is_set(&e)) {
        if (r == -ETIMEDOUT)
            return make_error(Errc::unavailable, "daemon_unreachable", "no answer in time");
        return make_error(Errc::unavailable, "daemon_unreachable", errno_text(r));
    }
    const std::string_view name = e.name;
    const std::string_view message = e.message ? e.message : "";
    if (auto code = errc_from_dbus_error_name(name))
        return daemon_error(*code, message);
    if (name == SD_BUS_ERROR_ACCESS_DENIED)
        return make_error(Errc::denied, "bus_access_denied", std::string(message));
    // ServiceUnknown, NameHasNoOwner, NoReply, Disconnected, ...: nobody answers for the name.
    return make_error(Errc::unavailable, "daemon_unreachable",
                      std::string(name) + (message.empty() ? "" : ": ") + std::string(message));
}

} // namespace

Error AuthClient::local_error(int r) {
    return make_error(Errc::internal, "bus_local", errno_text(r));
}

Result<AuthClient> AuthClient::connect() {
    sd_bus* raw = nullptr;
    const char* address = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
    int r = 0;
    if (address == nullptr || *address == '\0') {
        r = sd_bus_open_system(&raw);
        BusPtr bus(raw);
        if (r < 0)
            return make_error(Errc::unavailable, "bus_connect",
                              "cannot connect to the system bus: " + errno_text(r));
        return AuthClient(std::move(bus));
    }
    if ((r = sd_bus_new(&raw)) < 0)
        return local_error(r);
    BusPtr bus(raw);
    if ((r = sd_bus_set_address(raw, address)) < 0 || (r = sd_bus_set_bus_client(raw, 1)) < 0 ||
        (r = sd_bus_start(raw)) < 0)
        return make_error(Errc::unavailable, "bus_connect",
                          std::string("cannot connect to the bus at ") + address + ": " +
                              errno_text(r));
    return AuthClient(std::move(bus));
}

Result<BusMessagePtr> AuthClient::send(sd_bus_message* m, std::uint64_t timeout_usec) {
    BusError err;
    sd_bus_message* raw = nullptr;
    const int r = sd_bus_call(bus_.get(), m, timeout_usec, &err.e, &raw);
    BusMessagePtr reply(raw);
    if (r < 0)
        return error_from_bus(err.e, r);
    return reply;
}

Result<std::string> AuthClient::version() {
    BusError err;
    char* raw = nullptr;
    const int r = sd_bus_get_property_string(bus_.get(), kDest, kPath, kIface, "Version", &err.e,
                                             &raw);
    Owned<char, ::free> s(raw);
    if (r < 0)
        return error_from_bus(err.e, r);
    return std::string(s.get() ? s.get() : "");
}

Result<std::uint32_t> AuthClient::pending_logins() {
    BusError err;
    std::uint32_t n = 0;
    const int r = sd_bus_get_property_trivial(bus_.get(), kDest, kPath, kIface, "PendingLogins",
                                              &err.e, 'u', &n);
    if (r < 0)
        return error_from_bus(err.e, r);
    return n;
}

Result<BusMessagePtr> AuthClient::property(const char* name, const char* sig) {
    BusError err;
    sd_bus_message* raw = nullptr;
    const int r = sd_bus_get_property(bus_.get(), kDest, kPath, kIface, name, &err.e, &raw, sig);
    BusMessagePtr reply(raw);
    if (r < 0)
        return error_from_bus(err.e, r);
    return reply;
}

Status read_bus_dict(sd_bus_message* m, BusDict& out) {
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char* key = nullptr;
        const char* contents = nullptr;
        char type = 0;
        if ((r = sd_bus_message_read(m, "s", &key)) < 0 ||
            (r = sd_bus_message_peek_type(m, &type, &contents)) < 0 ||
            (r = sd_bus_message_enter_container(m, 'v', contents)) < 0)
            return AuthClient::local_error(r);
        const std::string_view sig = contents ? contents : "";
        if (sig == "s") {
            const char* s = nullptr;
            r = sd_bus_message_read(m, "s", &s);
            out[key] = s ? s : "";
        } else if (sig == "u") {
            std::uint32_t u = 0;
            r = sd_bus_message_read(m, "u", &u);
            out[key] = std::to_string(u);
        } else if (sig == "t") {
            std::uint64_t t = 0;
            r = sd_bus_message_read(m, "t", &t);
            out[key] = std::to_string(t);
        } else if (sig == "b") {
            int b = 0;
            r = sd_bus_message_read(m, "b", &b);
            out[key] = b ? "true" : "false";
        } else {
            r = sd_bus_message_skip(m, contents);
            out[key] = "?" + std::string(sig);
        }
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 ||
            (r = sd_bus_message_exit_container(m)) < 0)
            return AuthClient::local_error(r);
    }
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
        return AuthClient::local_error(r);
    return {};
}

bool daemon_answered(const Error& e) noexcept {
    for (auto r : kBusReasons)
        if (e.reason == r)
            return false;
    return true;
}

std::string describe_failure(const Error& e) {
    if (e.reason == "bus_access_denied")
        return strip_control("refused by the bus policy: " + e.message);
    if (!daemon_answered(e))
        return strip_control("daemon unavailable: " + e.describe());
    const std::string label =
        (e.code == Errc::denied || e.code == Errc::busy) ? "refused" : std::string(errc_label(e.code));
    return strip_control(label + ": " + e.describe());
}

int exit_code_for(const Error& e) noexcept {
    if (e.reason == "bus_access_denied")
        return kExitRejected;
    return daemon_answered(e) ? kExitRejected : kExitUnavailable;
}

} // namespace psc::ctl

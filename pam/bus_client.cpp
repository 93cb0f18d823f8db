// SPDX-License-Identifier: LGPL-2.1-or-later
#include "bus_client.hpp"

#include "errors.hpp"
#include "sanitize.hpp"
#include "secret.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace psc::pam {
namespace {

using MsgPtr = Owned<sd_bus_message, sd_bus_message_unref>;

// sd_bus_message_read_strv(3) hands over a NULL-terminated array of malloc'ed strings.
void strv_free(char** v) noexcept {
    for (char** p = v; *p != nullptr; ++p)
        std::free(*p);
    std::free(v);
}
using StrvPtr = Owned<char*, strv_free>;

constexpr std::string_view kDaemonErrorPrefix = "org.psclogin.Auth1.Error.";
constexpr std::uint64_t kCallTimeoutUsec = 25'000'000; // sd-bus's own default
// StartLogin answers once the provider accepted a push (CIBA) or gave a device code; the daemon
// bounds that by its own HTTP timeout (30 s by default), so the module waits a little longer.
constexpr std::uint64_t kStartTimeoutUsec = 45'000'000;
constexpr std::uint64_t kWaitSlackUsec = 10'000'000;   // a WaitLogin answers by max_wait_ms
constexpr std::size_t kMaxLoginId = 256;
constexpr std::size_t kMaxReasonToken = 64;

struct BusError {
    sd_bus_error e{}; // == SD_BUS_ERROR_NULL, whose compound literal is not C++
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&e); }
};

// A call that failed without a D-Bus error: the connection or the daemon is gone (unavailable),
// or something local went wrong (internal).
Error bus_failure(std::string_view what, int r) {
    const int e = r < 0 ? -r : r;
    const std::string text = std::string(what) + ": " + std::strerror(e);
    switch (e) {
    case ETIMEDOUT:
    case ECONNRESET:
    case ECONNREFUSED:
    case ENOTCONN:
    case EPIPE:
    case ENOENT:
    case ESHUTDOWN:
        return make_error(Errc::unavailable, "daemon_unreachable", text);
    default:
        return make_error(Errc::internal, "bus_error", text);
    }
}

Error bad_reply(std::string_view method) {
    return make_error(Errc::internal, "bad_reply",
                      "malformed " + std::string(method) + " reply from psc-authd");
}

// "reason: message" → "reason" when it looks like one of the daemon's stable tokens.
std::string reason_of(std::string_view message, std::string_view fallback) {
    const std::size_t colon = message.find(':');
    const std::string_view head = message.substr(0, colon);
    if (colon == std::string_view::npos || head.empty() || head.size() > kMaxReasonToken)
        return std::string(fallback);
    for (char c : head)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return std::string(fallback);
    return std::string(head);
}

using Appender = std::function<int(sd_bus_message*)>;

Result<MsgPtr> call(sd_bus* bus, const char* method, std::uint64_t timeout_usec,
                    const Appender& append) {
    const std::string dest(kBusName), path(kObjectPath), iface(kInterface);
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, dest.c_str(), path.c_str(), iface.c_str(),
                                           method);
    MsgPtr m(raw);
    if (r >= 0)
        r = append(m.get());
    if (r < 0)
        return make_error(Errc::internal, "bus_message",
                          std::string("cannot build ") + method + ": " + std::strerror(-r));
    BusError err;
    sd_bus_message* reply = nullptr;
    r = sd_bus_call(bus, m.get(), timeout_usec, &err.e, &reply);
    MsgPtr owned_reply(reply);
    if (r < 0) {
        if (sd_bus_error_is_set(&err.e))
            return error_from_bus(err.e.name ? err.e.name : "", err.e.message ? err.e.message : "");
        return bus_failure(method, r);
    }
    return owned_reply;
}

// Walks an a{sv}; `on_entry` reads the variant of the keys it knows (returning <0 on a type
// mismatch) and returns 0 for the others, which are skipped.
using EntryReader = std::function<int(std::string_view key, sd_bus_message*)>;

int read_dict(sd_bus_message* m, const EntryReader& on_entry) {
    int r = sd_bus_message_enter_container(m, 'a', "{sv}");
    if (r < 0)
        return r;
    while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
        const char* key = nullptr;
        if ((r = sd_bus_message_read(m, "s", &key)) < 0)
            return r;
        if ((r = on_entry(key, m)) < 0)
            return r;
        if (r == 0 && (r = sd_bus_message_skip(m, "v")) < 0)
            return r;
        if ((r = sd_bus_message_exit_container(m)) < 0)
            return r;
    }
    if (r < 0)
        return r;
    return sd_bus_message_exit_container(m);
}

int read_string(sd_bus_message* m, std::string& out) {
    const char* s = nullptr;
    const int r = sd_bus_message_read(m, "v", "s", &s);
    if (r < 0)
        return r;
    out = display_safe(s ? s : "");
    return 1;
}

int read_display_entry(std::string_view key, sd_bus_message* m, Display& d) {
    if (key == "flow")
        return read_string(m, d.flow);
    if (key == "url")
        return read_string(m, d.url);
    if (key == "qr")
        return read_string(m, d.qr);
    if (key == "binding_code")
        return read_string(m, d.binding_code);
    if (key == "user_code")
        return read_string(m, d.user_code);
    if (key == "expires_in")
        return sd_bus_message_read(m, "v", "u", &d.expires_in) < 0 ? -EBADMSG : 1;
    if (key == "confirm_code") {
        int b = 0;
        if (sd_bus_message_read(m, "v", "b", &b) < 0)
            return -EBADMSG;
        d.confirm_code = b != 0;
        return 1;
    }
    if (key == "accepts_paste") {
        int b = 0;
        if (sd_bus_message_read(m, "v", "b", &b) < 0)
            return -EBADMSG;
        d.accepts_paste = b != 0;
        return 1;
    }
    return 0;
}

int read_outcome_entry(std::string_view key, sd_bus_message* m, Outcome& o) {
    if (key == "user")
        return read_string(m, o.user);
    if (key == "idnat")
        return read_string(m, o.idnat);
    if (key == "profession")
        return read_string(m, o.profession);
    if (key == "auth_mode")
        return read_string(m, o.auth_mode);
    if (key == "session_ticket")
        return read_string(m, o.session_ticket);
    if (key == "remaining")
        return sd_bus_message_read(m, "v", "u", &o.remaining) < 0 ? -EBADMSG : 1;
    if (key == "confirm") {
        int b = 0;
        if (sd_bus_message_read(m, "v", "b", &b) < 0)
            return -EBADMSG;
        o.confirm = b != 0;
        return 1;
    }
    return 0;
}

Result<Outcome> read_outcome(sd_bus_message* reply, bool with_done, std::string_view method) {
    Outcome o;
    if (with_done) {
        int done = 0;
        if (sd_bus_message_read(reply, "b", &done) < 0)
            return bad_reply(method);
        o.done = done != 0;
    } else {
        o.done = true; // SubmitCallback answers like a finished WaitLogin
    }
    if (read_dict(reply, [&](std::string_view k, sd_bus_message* m) {
            return read_outcome_entry(k, m, o);
        }) < 0)
        return bad_reply(method);
    return o;
}

} // namespace

Error error_from_bus(std::string_view name, std::string_view message) {
    const std::string safe = display_safe(message, 256);
    if (name.substr(0, kDaemonErrorPrefix.size()) == kDaemonErrorPrefix) {
        if (auto code = errc_from_dbus_error_name(name))
            return make_error(*code, reason_of(safe, errc_label(*code)), safe);
        // A newer daemon's error this module does not know: fail, but not as "unavailable",
        // which would open the break-glass line.
        return make_error(Errc::internal, "unknown_daemon_error", display_safe(name, 256));
    }
    // Only "nobody answers" is an outage; anything else the bus says (InvalidArgs, AccessDenied
    // from a missing policy, UnknownMethod after a bad upgrade, ...) is a fault to fix, and must
    // not open the break-glass line.
    static constexpr std::string_view kUnreachable[] = {
        "org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.NoReply",        "org.freedesktop.DBus.Error.Disconnected",
        "org.freedesktop.DBus.Error.NoServer",       "org.freedesktop.DBus.Error.Timeout",
        "org.freedesktop.DBus.Error.TimedOut",       "org.freedesktop.DBus.Error.UnknownObject",
    };
    const std::string text = display_safe(name, 256) + (safe.empty() ? "" : ": " + safe);
    for (std::string_view n : kUnreachable)
        if (name == n)
            return make_error(Errc::unavailable, "daemon_unreachable", text);
    return make_error(Errc::internal, "bus_error", text);
}

Result<std::unique_ptr<BusClient>> BusClient::open() {
    sd_bus* raw = nullptr;
    const int r = sd_bus_open_system(&raw);
    SdBusPtr bus(raw);
    if (r < 0)
        return make_error(Errc::unavailable, "bus_connect",
                          std::string("cannot connect to the system bus: ") + std::strerror(-r));
    return std::unique_ptr<BusClient>(new BusClient(std::move(bus)));
}

Result<std::vector<std::string>> BusClient::get_flows(const std::string& user,
                                                      const std::string& service) {
    auto reply = call(bus_.get(), "GetUserFlows", kCallTimeoutUsec, [&](sd_bus_message* m) {
        return sd_bus_message_append(m, "ss", user.c_str(), service.c_str());
    });
    if (!reply)
        return std::move(reply).error();
    char** raw = nullptr;
    const int r = sd_bus_message_read_strv(reply->get(), &raw);
    StrvPtr strv(raw);
    if (r < 0)
        return bad_reply("GetFlows");
    std::vector<std::string> flows;
    for (char** p = strv.get(); p != nullptr && *p != nullptr; ++p)
        flows.push_back(display_safe(*p, 64));
    return flows;
}

Result<Started> BusClient::start_login(const LoginParams& p) {
    auto reply = call(bus_.get(), "StartLogin", kStartTimeoutUsec, [&](sd_bus_message* m) {
        return sd_bus_message_append(m, "sssss", p.user.c_str(), p.service.c_str(), p.rhost.c_str(),
                                     p.tty.c_str(), p.flow.c_str());
    });
    if (!reply)
        return std::move(reply).error();
    Started s;
    const char* id = nullptr;
    if (sd_bus_message_read(reply->get(), "s", &id) < 0 || id == nullptr || *id == '\0' ||
        std::strlen(id) > kMaxLoginId)
        return bad_reply("StartLogin");
    s.login_id = id;
    if (read_dict(reply->get(), [&](std::string_view k, sd_bus_message* m) {
            return read_display_entry(k, m, s.display);
        }) < 0)
        return bad_reply("StartLogin");
    return s;
}

Result<Outcome> BusClient::wait_login(const std::string& id, std::uint32_t max_wait_ms) {
    const std::uint64_t timeout = std::uint64_t{max_wait_ms} * 1000 + kWaitSlackUsec;
    auto reply = call(bus_.get(), "WaitLogin", timeout, [&](sd_bus_message* m) {
        return sd_bus_message_append(m, "su", id.c_str(), max_wait_ms);
    });
    if (!reply)
        return std::move(reply).error();
    return read_outcome(reply->get(), true, "WaitLogin");
}

Result<Outcome> BusClient::submit_callback(const std::string& id, std::string_view address) {
    const Secret addr(address); // it carries the authorization code: wiped when done
    auto reply = call(bus_.get(), "SubmitCallback", kCallTimeoutUsec, [&](sd_bus_message* m) {
        return sd_bus_message_append(m, "ss", id.c_str(), addr.c_str());
    });
    if (!reply)
        return std::move(reply).error();
    return read_outcome(reply->get(), false, "SubmitCallback");
}

Status BusClient::cancel_login(const std::string& id) {
    auto reply = call(bus_.get(), "CancelLogin", kCallTimeoutUsec,
                      [&](sd_bus_message* m) { return sd_bus_message_append(m, "s", id.c_str()); });
    if (!reply)
        return std::move(reply).error();
    return {};
}

Status BusClient::open_session(const std::string& ticket, const std::string& logind_session) {
    auto reply = call(bus_.get(), "OpenSession", kCallTimeoutUsec, [&](sd_bus_message* m) {
        return sd_bus_message_append(m, "ss", ticket.c_str(), logind_session.c_str());
    });
    if (!reply)
        return std::move(reply).error();
    return {};
}

Status BusClient::close_session(const std::string& ticket) {
    auto reply = call(bus_.get(), "CloseSession", kCallTimeoutUsec, [&](sd_bus_message* m) {
        return sd_bus_message_append(m, "s", ticket.c_str());
    });
    if (!reply)
        return std::move(reply).error();
    return {};
}

} // namespace psc::pam

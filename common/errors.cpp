// SPDX-License-Identifier: LGPL-2.1-or-later
#include "errors.hpp"

#include <array>

namespace psc {
namespace {

struct ErrcName {
    Errc code;
    std::string_view dbus;
    std::string_view label;
};

constexpr std::array kNames{
    ErrcName{Errc::invalid, "org.psclogin.Auth1.Error.Invalid", "invalid"},
    ErrcName{Errc::denied, "org.psclogin.Auth1.Error.Denied", "denied"},
    ErrcName{Errc::timeout, "org.psclogin.Auth1.Error.Timeout", "timeout"},
    ErrcName{Errc::unavailable, "org.psclogin.Auth1.Error.Unavailable", "unavailable"},
    ErrcName{Errc::unknown_user, "org.psclogin.Auth1.Error.UnknownUser", "unknown-user"},
    ErrcName{Errc::cancelled, "org.psclogin.Auth1.Error.Cancelled", "cancelled"},
    ErrcName{Errc::busy, "org.psclogin.Auth1.Error.Busy", "busy"},
    ErrcName{Errc::config, "org.psclogin.Auth1.Error.Config", "config"},
    ErrcName{Errc::io, "org.psclogin.Auth1.Error.IO", "io"},
    ErrcName{Errc::internal, "org.psclogin.Auth1.Error.Internal", "internal"},
};

const ErrcName& lookup(Errc code) noexcept {
    for (const auto& n : kNames)
        if (n.code == code)
            return n;
    return kNames.back(); // Errc::internal
}

} // namespace

std::string_view dbus_error_name(Errc code) noexcept {
    return lookup(code).dbus;
}

std::optional<Errc> errc_from_dbus_error_name(std::string_view name) noexcept {
    for (const auto& n : kNames)
        if (n.dbus == name)
            return n.code;
    return std::nullopt;
}

std::string_view errc_label(Errc code) noexcept {
    return lookup(code).label;
}

Error make_error(Errc code, std::string reason, std::string message) {
    return Error{code, std::move(reason), std::move(message)};
}

std::string Error::describe() const {
    if (reason.empty())
        return message.empty() ? std::string(errc_label(code)) : message;
    if (message.empty())
        return reason;
    return reason + ": " + message;
}

} // namespace psc

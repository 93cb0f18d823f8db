// SPDX-License-Identifier: LGPL-2.1-or-later
// D-Bus names and named errors shared by the daemon, the PAM module and pscctl (design §5).
// Defined once here; the PAM module maps them to PAM codes in one table.
#pragma once

#include "result.hpp"

#include <optional>
#include <string_view>

namespace psc {

inline constexpr std::string_view kBusName = "org.psclogin.Auth1";
inline constexpr std::string_view kObjectPath = "/org/psclogin/Auth1";
inline constexpr std::string_view kInterface = "org.psclogin.Auth1";

// org.psclogin.Auth1.Error.<Name> for every Errc.
[[nodiscard]] std::string_view dbus_error_name(Errc code) noexcept;
// Inverse of dbus_error_name(); unknown names (including the bus's own
// org.freedesktop.DBus.Error.*) yield nullopt so the caller can treat them as "daemon unavailable".
[[nodiscard]] std::optional<Errc> errc_from_dbus_error_name(std::string_view name) noexcept;
// Short English label ("invalid", "denied", ...), for logs and CLI output.
[[nodiscard]] std::string_view errc_label(Errc code) noexcept;

} // namespace psc

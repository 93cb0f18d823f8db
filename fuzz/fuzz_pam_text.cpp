// SPDX-License-Identifier: LGPL-2.1-or-later
// pam_psc's handling of what it does not control, on arbitrary bytes: text relayed by the daemon
// (display_safe, the display lines with a QR code), D-Bus error names and messages, and module
// arguments. Invariants: shown text is capped, has no C0/C1 control or DEL and is idempotent under
// display_safe; an error name is "unavailable" exactly when it says nobody answers (the daemon's
// Error.Unavailable or the bus's ServiceUnknown family); argument parsing never throws and reports
// what it ignores.
#include "bus_client.hpp"
#include "display.hpp"
#include "pam_args.hpp"
#include "sanitize.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool ok) {
    if (!ok)
        __builtin_trap();
}

void check_clean(std::string_view s, std::size_t cap) {
    check(s.size() <= cap);
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto u = static_cast<unsigned char>(s[i]);
        check(u >= 0x20 && u != 0x7F);
        // U+0080..U+009F is C2 80..C2 9F in UTF-8.
        if (u == 0xC2 && i + 1 < s.size())
            check(static_cast<unsigned char>(s[i + 1]) >= 0xA0);
    }
    check(psc::pam::display_safe(s, cap) == s);
}

void fuzz_display(std::string_view in) {
    const std::string safe = psc::pam::display_safe(in, 512);
    check_clean(safe, 512);
    psc::pam::Display d;
    d.url = safe;
    d.binding_code = safe.substr(0, 2);
    const auto lines = psc::pam::display_lines(
        d, {psc::pam::Lang::both, !safe.empty(),
            (in.size() & 1) ? psc::pam::QrStyle::utf8 : psc::pam::QrStyle::ascii});
    check(!safe.empty() ? !lines.messages.empty() : lines.messages.empty());
}

void fuzz_bus_error(std::string_view in) {
    const std::size_t cut = in.find('\0');
    const std::string_view name = in.substr(0, cut);
    const std::string_view message = cut == std::string_view::npos ? "" : in.substr(cut + 1);
    const psc::Error e = psc::pam::error_from_bus(name, message);
    check_clean(e.message, 600); // name (256) + ": " + message (256)
    check(!e.reason.empty());
    // Only "nobody answers" may open the break-glass line: the daemon's own Error.Unavailable or
    // a bus error that means the daemon cannot be reached. Any other name (a typo'd, a spoofed,
    // a newer daemon's) is a failure that is not an outage.
    static constexpr std::string_view kOutages[] = {
        "org.psclogin.Auth1.Error.Unavailable",      "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner", "org.freedesktop.DBus.Error.NoReply",
        "org.freedesktop.DBus.Error.Disconnected",   "org.freedesktop.DBus.Error.NoServer",
        "org.freedesktop.DBus.Error.Timeout",        "org.freedesktop.DBus.Error.TimedOut",
        "org.freedesktop.DBus.Error.UnknownObject",
    };
    bool outage = false;
    for (std::string_view n : kOutages)
        outage = outage || name == n;
    check((e.code == psc::Errc::unavailable) == outage);
}

void fuzz_args(std::string_view in) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= in.size() && parts.size() < 32) {
        const std::size_t end = std::min(in.find('\0', start), in.size());
        parts.emplace_back(in.substr(start, end - start));
        start = end + 1;
    }
    std::vector<const char*> argv;
    for (const auto& p : parts)
        argv.push_back(p.c_str());
    const auto parsed = psc::pam::parse_args(static_cast<int>(argv.size()), argv.data());
    for (const auto& w : parsed.warnings)
        for (char c : w)
            check(static_cast<unsigned char>(c) >= 0x20 || c == '\t');
    if (parsed.options.timeout)
        check(*parsed.options.timeout >= psc::pam::kMinTimeout &&
              *parsed.options.timeout <= psc::pam::kMaxTimeout);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        fuzz_display(in);
        break;
    case 1:
        fuzz_bus_error(in);
        break;
    default:
        fuzz_args(in);
        break;
    }
    return 0;
}

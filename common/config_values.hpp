// SPDX-License-Identifier: LGPL-2.1-or-later
// Value syntax of psc-login.conf(5): durations, booleans, sizes, URLs, listen addresses, username
// templates and JOSE algorithm names. Each parser names the key in its message so the loader only
// has to prefix "file:line: ".
#pragma once

#include "result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// "90", "90s", "90sec", "5min", "5m", "1h" → seconds in [lo, hi]. Reasons: bad_duration,
// duration_range.
[[nodiscard]] Result<std::chrono::seconds> parse_duration(std::string_view key, std::string_view v,
                                                          std::chrono::seconds lo,
                                                          std::chrono::seconds hi);
// yes|no|true|false|on|off|1|0, case-insensitive. Reason: bad_bool.
[[nodiscard]] Result<bool> parse_bool(std::string_view key, std::string_view v);
// "262144", "256K", "256KiB", "1M", "1MiB" (powers of 1024) in [lo, hi]. Reasons: bad_size,
// size_range.
[[nodiscard]] Result<std::size_t> parse_size(std::string_view key, std::string_view v,
                                             std::size_t lo, std::size_t hi);
// Whole-number option in [lo, hi]. Reasons: bad_number, number_range.
[[nodiscard]] Result<std::uint64_t> parse_count(std::string_view key, std::string_view v,
                                                std::uint64_t lo, std::uint64_t hi);

struct ConfigUrl {
    bool https = false;
    std::string host; // without brackets for IPv6
    bool loopback = false;
};
// An absolute http(s) URL with a host, no userinfo, no fragment, no spaces. Whether plain http is
// allowed is decided later, once allow_insecure_http is known. Reason: bad_url.
[[nodiscard]] Result<ConfigUrl> parse_config_url(std::string_view key, std::string_view v);
// An outbound proxy for provider requests: "http://host:port" (the scheme may be left out, as in
// the usual https_proxy environment variable; a trailing "/" is allowed). Only plain-HTTP proxies
// that tunnel with CONNECT; the port is required (curl would otherwise guess 1080); no user
// information (the configuration file is world-readable, and so is a process's environment to
// its owner). Returns the normalised "http://host:port". Reasons: bad_proxy, proxy_credentials.
[[nodiscard]] Result<std::string> parse_proxy_url(std::string_view key, std::string_view v);
// no_proxy: host names, domain suffixes (".example.org"), IP addresses, CIDR ranges or "*",
// separated by commas and/or spaces. Reason: bad_no_proxy.
[[nodiscard]] Result<std::vector<std::string>> parse_no_proxy(std::string_view key,
                                                              std::string_view v);
// The authorization-request parameters psc-login sets itself or that would change the flow or
// its protections; extra_auth_params may not name them.
[[nodiscard]] bool is_reserved_auth_param(std::string_view name) noexcept;

// 127.0.0.1, ::1 or localhost: the only hosts plain http may reach (design §3 "HTTP").
[[nodiscard]] bool is_loopback_host(std::string_view host) noexcept;

struct ListenAddress {
    std::string host; // numeric address, IPv6 without brackets
    std::uint16_t port = 0;
    bool ipv6 = false;
};
// "127.0.0.1:8765" or "[::1]:8765"; numeric addresses only (no DNS at startup). Reason: bad_listen.
[[nodiscard]] Result<ListenAddress> parse_listen(std::string_view key, std::string_view v);

// Checks username_template: placeholders of username_template.hpp, literal text [a-z0-9_-].
// Reason: bad_template.
[[nodiscard]] Result<void> check_username_template(std::string_view key, std::string_view t);

// JOSE "alg" names psc-login knows (RFC 7518 §3.1, RFC 8037). "none" is not among them.
[[nodiscard]] bool is_known_jose_alg(std::string_view alg) noexcept;
[[nodiscard]] bool is_hmac_jose_alg(std::string_view alg) noexcept;

// An absolute path without NUL or control characters. Reason: relative_path.
[[nodiscard]] Result<void> check_config_path(std::string_view key, std::string_view v);

} // namespace psc

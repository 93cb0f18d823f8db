// SPDX-License-Identifier: LGPL-2.1-or-later
#include "config_values.hpp"

#include "strutil.hpp"
#include "username_template.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <limits>
#include <netinet/in.h>

namespace psc {
namespace {

std::string q(std::string_view s) {
    return "\"" + strip_control(s) + "\"";
}

// Splits "123abc" into digits and suffix.
std::pair<std::string_view, std::string_view> number_and_unit(std::string_view v) {
    std::size_t i = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9')
        ++i;
    return {v.substr(0, i), v.substr(i)};
}

bool is_numeric_ipv4(const std::string& host) {
    in_addr a{};
    return ::inet_pton(AF_INET, host.c_str(), &a) == 1;
}

bool is_numeric_ipv6(const std::string& host) {
    in6_addr a{};
    return ::inet_pton(AF_INET6, host.c_str(), &a) == 1;
}

bool is_hostname_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
}

// "host", "host:port", "[v6]" or "[v6]:port" → host (no brackets); false if malformed.
bool split_authority(std::string_view auth, std::string& host, bool& ipv6) {
    std::string_view port;
    if (!auth.empty() && auth.front() == '[') {
        const auto close = auth.find(']');
        if (close == std::string_view::npos)
            return false;
        host = std::string(auth.substr(1, close - 1));
        ipv6 = true;
        if (!is_numeric_ipv6(host))
            return false;
        const std::string_view rest = auth.substr(close + 1);
        if (!rest.empty() && rest.front() != ':')
            return false;
        port = rest.empty() ? rest : rest.substr(1);
        if (!rest.empty() && port.empty())
            return false;
    } else {
        const auto colon = auth.find(':');
        host = std::string(auth.substr(0, colon));
        if (colon != std::string_view::npos) {
            port = auth.substr(colon + 1);
            if (port.empty())
                return false;
        }
        for (char c : host)
            if (!is_hostname_char(c))
                return false;
    }
    if (host.empty())
        return false;
    return port.empty() || parse_int<unsigned>(port, 1, 65535).ok();
}

} // namespace

Result<std::chrono::seconds> parse_duration(std::string_view key, std::string_view v,
                                            std::chrono::seconds lo, std::chrono::seconds hi) {
    const auto [num, unit] = number_and_unit(v);
    long long mult = 0;
    if (unit.empty() || unit == "s" || unit == "sec")
        mult = 1;
    else if (unit == "min" || unit == "m")
        mult = 60;
    else if (unit == "h")
        mult = 3600;
    const auto n = parse_int<long long>(num, 0, std::numeric_limits<long long>::max() / 3600);
    if (mult == 0 || !n)
        return make_error(Errc::config, "bad_duration",
                          "invalid duration " + q(v) + " for " + std::string(key) +
                              " (expected e.g. 90, 90s, 5min, 1h)");
    const std::chrono::seconds d{*n * mult};
    if (d < lo || d > hi)
        return make_error(Errc::config, "duration_range",
                          std::string(key) + " = " + q(v) + " is out of range [" +
                              std::to_string(lo.count()) + "s, " + std::to_string(hi.count()) +
                              "s]");
    return d;
}

Result<bool> parse_bool(std::string_view key, std::string_view v) {
    const std::string l = ascii_lower(v);
    if (l == "yes" || l == "true" || l == "on" || l == "1")
        return true;
    if (l == "no" || l == "false" || l == "off" || l == "0")
        return false;
    return make_error(Errc::config, "bad_bool",
                      "invalid boolean " + q(v) + " for " + std::string(key) +
                          " (expected yes or no)");
}

Result<std::size_t> parse_size(std::string_view key, std::string_view v, std::size_t lo,
                               std::size_t hi) {
    const auto [num, unit] = number_and_unit(v);
    std::size_t mult = 0;
    if (unit.empty())
        mult = 1;
    else if (unit == "K" || unit == "KiB")
        mult = 1024;
    else if (unit == "M" || unit == "MiB")
        mult = 1024 * 1024;
    const auto n = parse_int<std::size_t>(num, 0, std::numeric_limits<std::size_t>::max() >> 20);
    if (mult == 0 || !n)
        return make_error(Errc::config, "bad_size",
                          "invalid size " + q(v) + " for " + std::string(key) +
                              " (expected bytes, or a number with K, KiB, M or MiB)");
    const std::size_t s = *n * mult;
    if (s < lo || s > hi)
        return make_error(Errc::config, "size_range",
                          std::string(key) + " = " + q(v) + " is out of range [" +
                              std::to_string(lo) + ", " + std::to_string(hi) + "] bytes");
    return s;
}

Result<std::uint64_t> parse_count(std::string_view key, std::string_view v, std::uint64_t lo,
                                  std::uint64_t hi) {
    auto n = parse_int<std::uint64_t>(v, lo, hi);
    if (n)
        return *n;
    if (n.error().reason == "number_range")
        return make_error(Errc::config, "number_range",
                          std::string(key) + " = " + q(v) + " is out of range [" +
                              std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return make_error(Errc::config, "bad_number",
                      "invalid number " + q(v) + " for " + std::string(key));
}

Result<ConfigUrl> parse_config_url(std::string_view key, std::string_view v) {
    const auto bad = [&](std::string_view why) -> Error {
        return make_error(Errc::config, "bad_url",
                          "invalid URL " + q(v) + " for " + std::string(key) + " (" +
                              std::string(why) + ")");
    };
    ConfigUrl out;
    std::string_view rest;
    if (v.substr(0, 8) == "https://") {
        out.https = true;
        rest = v.substr(8);
    } else if (v.substr(0, 7) == "http://") {
        rest = v.substr(7);
    } else {
        return bad("expected https://...");
    }
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return bad("only printable ASCII without spaces is allowed");
    }
    if (v.find('#') != std::string_view::npos)
        return bad("a fragment is not allowed");
    const std::string_view auth = rest.substr(0, rest.find_first_of("/?"));
    if (auth.find('@') != std::string_view::npos)
        return bad("user information is not allowed");
    bool ipv6 = false;
    if (!split_authority(auth, out.host, ipv6))
        return bad("missing or malformed host");
    out.loopback = is_loopback_host(out.host);
    return out;
}

Result<std::string> parse_proxy_url(std::string_view key, std::string_view v) {
    const auto bad = [&](std::string_view why) -> Error {
        return make_error(Errc::config, "bad_proxy",
                          "invalid proxy " + q(v) + " for " + std::string(key) + " (" +
                              std::string(why) + ")");
    };
    for (char c : v) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return bad("only printable ASCII without spaces is allowed");
    }
    std::string_view rest = v;
    if (const auto sep = rest.find("://"); sep != std::string_view::npos) {
        if (ascii_lower(rest.substr(0, sep)) != "http")
            return bad("only http:// proxies are supported: psc-login tunnels every request "
                       "with CONNECT, so TLS stays end to end with the provider");
        rest.remove_prefix(sep + 3);
    }
    if (!rest.empty() && rest.back() == '/')
        rest.remove_suffix(1);
    if (rest.find('@') != std::string_view::npos)
        return make_error(Errc::config, "proxy_credentials",
                          std::string(key) + " must not carry a user name or password: let the "
                                             "proxy accept this host's address instead");
    if (rest.find_first_of("/?#") != std::string_view::npos)
        return bad("expected http://host:port, without a path");
    std::string host;
    bool ipv6 = false;
    if (!split_authority(rest, host, ipv6))
        return bad("missing or malformed host or port");
    const std::string_view tail = ipv6 ? rest.substr(rest.find(']') + 1) : rest.substr(host.size());
    if (tail.empty())
        return bad("the port is required, e.g. http://proxy.example.org:3128");
    return "http://" + std::string(rest);
}

Result<std::vector<std::string>> parse_no_proxy(std::string_view key, std::string_view v) {
    std::string spaced(v);
    std::replace(spaced.begin(), spaced.end(), ',', ' ');
    auto list = split_ws(spaced);
    for (const auto& e : list) {
        const bool ok = e == "*" || std::all_of(e.begin(), e.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                                   c == '-' || c == ':' || c == '/' || c == '[' || c == ']';
                        });
        if (!ok)
            return make_error(Errc::config, "bad_no_proxy",
                              "invalid entry " + q(e) + " in " + std::string(key) +
                                  " (expected host names, .domain suffixes, addresses, "
                                  "CIDR ranges or *)");
    }
    return list;
}

bool is_reserved_auth_param(std::string_view name) noexcept {
    static constexpr std::string_view kReserved[] = {
        "response_type", "client_id",     "redirect_uri",   "scope",
        "state",         "nonce",         "code_challenge", "code_challenge_method",
        "acr_values",    "max_age",       "prompt",         "login_hint",
        "response_mode", "request",       "request_uri",    "claims",
        "id_token_hint", "registration",  "code_verifier",  "client_secret",
        "client_assertion", "client_assertion_type"};
    const std::string lower = ascii_lower(name);
    return std::find(std::begin(kReserved), std::end(kReserved), lower) != std::end(kReserved);
}

bool is_loopback_host(std::string_view host) noexcept {
    return host == "127.0.0.1" || host == "::1" || ascii_lower(host) == "localhost";
}

Result<ListenAddress> parse_listen(std::string_view key, std::string_view v) {
    const auto bad = [&] {
        return make_error(Errc::config, "bad_listen",
                          "invalid address " + q(v) + " for " + std::string(key) +
                              " (expected IPv4:PORT or [IPv6]:PORT, e.g. 127.0.0.1:8765)");
    };
    ListenAddress out;
    std::string_view port;
    if (!v.empty() && v.front() == '[') {
        const auto close = v.find("]:");
        if (close == std::string_view::npos)
            return bad();
        out.host = std::string(v.substr(1, close - 1));
        out.ipv6 = true;
        port = v.substr(close + 2);
        if (!is_numeric_ipv6(out.host))
            return bad();
    } else {
        const auto colon = v.rfind(':');
        if (colon == std::string_view::npos)
            return bad();
        out.host = std::string(v.substr(0, colon));
        port = v.substr(colon + 1);
        if (!is_numeric_ipv4(out.host))
            return bad();
    }
    // Port 0 asks the kernel for a free port (tests); the daemon uses the port it got.
    const auto p = parse_int<std::uint16_t>(port, 0, 65535);
    if (!p)
        return bad();
    out.port = *p;
    return out;
}

Result<void> check_username_template(std::string_view key, std::string_view t) {
    const auto bad = [&](std::string_view why) -> Error {
        return make_error(Errc::config, "bad_template",
                          "invalid " + std::string(key) + " " + q(t) + ": " + std::string(why));
    };
    bool has_placeholder = false;
    std::size_t literal = 0;
    std::size_t i = 0;
    while (i < t.size()) {
        if (t[i] == '{') {
            const auto close = t.find('}', i);
            const std::string_view ph =
                t.substr(i, close == std::string_view::npos ? t.npos : close - i + 1);
            if (!is_username_template_placeholder(ph))
                return bad("unknown placeholder " + q(ph) +
                           " (expected {idnat}, {idnat_lower}, {idnat_digits} or {rpps})");
            if (i == 0 && (ph == "{idnat_digits}" || ph == "{rpps}"))
                return bad("a user name must start with a letter, not with " + std::string(ph));
            // One placeholder keeps the template invertible and one-to-one (design §4).
            if (has_placeholder)
                return bad("more than one placeholder (use exactly one)");
            has_placeholder = true;
            i += ph.size();
            continue;
        }
        const char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return bad("literal text may only use a-z, 0-9, _ and -");
        if (i == 0 && !(c >= 'a' && c <= 'z'))
            return bad("a user name must start with a letter");
        ++literal;
        ++i;
    }
    if (!has_placeholder)
        return bad("no placeholder: every identity would map to the same account");
    if (literal >= 32)
        return bad("literal text alone is longer than a user name may be (32)");
    return {};
}

bool is_known_jose_alg(std::string_view alg) noexcept {
    static constexpr std::array<std::string_view, 13> kAlgs = {
        "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
        "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"};
    for (auto a : kAlgs)
        if (a == alg)
            return true;
    return false;
}

bool is_hmac_jose_alg(std::string_view alg) noexcept {
    return alg == "HS256" || alg == "HS384" || alg == "HS512";
}

Result<void> check_config_path(std::string_view key, std::string_view v) {
    if (v.empty() || v.front() != '/' || contains_control(v))
        return make_error(Errc::config, "relative_path",
                          std::string(key) + " = " + q(v) + " must be an absolute path");
    return {};
}

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "url.hpp"

#include "utf8.hpp"

#include "strutil.hpp"

#include <arpa/inet.h>
#include <unordered_set>

namespace psc {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool is_alnum(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool is_unreserved(unsigned char c) {
    return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

// WHATWG application/x-www-form-urlencoded percent-encode set complement.
bool is_form_safe(unsigned char c) {
    return is_alnum(c) || c == '*' || c == '-' || c == '.' || c == '_';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void append_pct(std::string& out, unsigned char c) {
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xF]);
}


Result<std::string> parse_host(std::string_view h) {
    if (h.empty())
        return make_error(Errc::invalid, "url_no_host", "the address has no host");
    if (h.front() == '[') {
        if (h.size() < 3 || h.back() != ']')
            return make_error(Errc::invalid, "url_bad_host", "malformed IPv6 literal");
        const std::string inner(h.substr(1, h.size() - 2));
        unsigned char buf[16];
        if (inet_pton(AF_INET6, inner.c_str(), buf) != 1)
            return make_error(Errc::invalid, "url_bad_host", "malformed IPv6 literal");
        return ascii_lower(h);
    }
    for (char c : h)
        if (!is_alnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
            return make_error(Errc::invalid, "url_bad_host", "invalid character in host name");
    return ascii_lower(h);
}

// authority = host [":" port]; userinfo refused.
Status parse_authority(std::string_view auth, UrlParts& out) {
    if (auth.find('@') != std::string_view::npos)
        return make_error(Errc::invalid, "url_userinfo",
                          "user information in an address is refused");
    std::string_view host = auth;
    std::optional<std::string_view> port;
    const auto close = auth.rfind(']');
    const auto colon = auth.rfind(':');
    if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
        host = auth.substr(0, colon);
        port = auth.substr(colon + 1);
    }
    auto h = parse_host(host);
    if (!h)
        return std::move(h).error();
    out.host = std::move(*h);
    if (port) {
        auto p = parse_int<std::uint16_t>(*port, 1, 65535);
        if (!p)
            return make_error(Errc::invalid, "url_bad_port", "invalid port in address");
        out.port = *p;
    }
    return {};
}

} // namespace

std::string percent_encode(std::string_view s) {
    std::string out;
    out.reserve(s.size() * 3);
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c))
            out.push_back(ch);
        else
            append_pct(out, c);
    }
    return out;
}

std::size_t form_urlencoded_length(std::string_view s) noexcept {
    std::size_t n = 0;
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        n += (is_form_safe(c) || c == ' ') ? 1 : 3;
    }
    return n;
}

void form_urlencode_append(std::string& out, std::string_view s) {
    for (char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_form_safe(c))
            out.push_back(ch);
        else if (c == ' ')
            out.push_back('+');
        else
            append_pct(out, c);
    }
}

std::string form_urlencode(std::string_view s) {
    std::string out;
    out.reserve(form_urlencoded_length(s));
    form_urlencode_append(out, s);
    return out;
}

Result<std::string> percent_decode(std::string_view s, PlusIs plus) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        if (c == '%') {
            const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
            const int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
            if (lo < 0)
                return make_error(Errc::invalid, "url_bad_percent",
                                  "'%' not followed by two hexadecimal digits");
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus == PlusIs::space) {
            c = ' ';
        }
        if (c == '\0')
            return make_error(Errc::invalid, "url_nul", "encoded NUL character");
        out.push_back(c);
    }
    if (!is_valid_utf8(out))
        return make_error(Errc::invalid, "url_bad_utf8", "decoded value is not valid UTF-8");
    return out;
}

Result<QueryParams> parse_query(std::string_view query, std::size_t max_bytes) {
    if (query.size() > max_bytes)
        return make_error(Errc::invalid, "url_too_long",
                          "query of " + std::to_string(query.size()) + " bytes exceeds " +
                              std::to_string(max_bytes));
    QueryParams out;
    std::unordered_set<std::string> seen;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view seg = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (seg.empty())
            continue;
        if (out.size() == kMaxQueryParams)
            return make_error(Errc::invalid, "url_too_many_params", "too many query parameters");
        const auto eq = seg.find('=');
        auto name = percent_decode(seg.substr(0, eq));
        if (!name)
            return std::move(name).error();
        auto value =
            percent_decode(eq == std::string_view::npos ? std::string_view{} : seg.substr(eq + 1));
        if (!value)
            return std::move(value).error();
        // RFC 6749 §3.1: request and response parameters MUST NOT be included more than once.
        if (!seen.insert(*name).second)
            return make_error(Errc::invalid, "url_duplicate_param",
                              "parameter \"" + strip_control(*name) + "\" appears more than once");
        out.push_back({std::move(*name), std::move(*value)});
    }
    return out;
}

const std::string* query_find(const QueryParams& params, std::string_view name) {
    for (const auto& p : params)
        if (p.name == name)
            return &p.value;
    return nullptr;
}

Secret form_encode(const std::vector<FormField>& fields) {
    std::size_t n = 0;
    for (const auto& f : fields)
        n += form_urlencoded_length(f.name) + 1 + form_urlencoded_length(f.value) + 1;
    std::string out;
    out.reserve(n);
    for (const auto& f : fields) {
        if (!out.empty())
            out.push_back('&');
        form_urlencode_append(out, f.name);
        out.push_back('=');
        form_urlencode_append(out, f.value);
    }
    return Secret::adopt(std::move(out));
}

std::uint16_t UrlParts::effective_port() const noexcept {
    if (port)
        return *port;
    return scheme == "https" ? 443 : 80;
}

Result<UrlParts> split_url(std::string_view url) {
    if (url.size() > kMaxUrlBytes)
        return make_error(Errc::invalid, "url_too_long", "address longer than 8 KiB");
    for (char ch : url) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f)
            return make_error(Errc::invalid, "url_bad_char",
                              "address contains a space, control or non-ASCII character");
    }
    UrlParts out;
    const auto sep = url.find("://");
    if (sep == std::string_view::npos)
        return make_error(Errc::invalid, "url_bad_scheme", "not an absolute http(s) address");
    out.scheme = ascii_lower(url.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https")
        return make_error(Errc::invalid, "url_bad_scheme",
                          "only http and https addresses are accepted");
    std::string_view rest = url.substr(sep + 3);
    if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
        out.fragment = std::string(rest.substr(hash + 1));
        rest = rest.substr(0, hash);
    }
    if (const auto q = rest.find('?'); q != std::string_view::npos) {
        out.query = std::string(rest.substr(q + 1));
        rest = rest.substr(0, q);
    }
    const auto slash = rest.find('/');
    PSC_TRY(parse_authority(rest.substr(0, slash), out));
    out.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    return out;
}

bool same_endpoint(const UrlParts& a, const UrlParts& b) noexcept {
    return a.scheme == b.scheme && a.host == b.host && a.effective_port() == b.effective_port() &&
           a.path == b.path;
}

Result<std::string> redirect_uri_from_listen(std::string_view listen, std::string_view path) {
    const auto colon = listen.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return make_error(Errc::config, "listen_bad_address",
                          "callback_listen must be ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)");
    const std::string_view host = listen.substr(0, colon);
    const bool v6 = host.front() == '[';
    const std::string inner(v6 ? host.substr(1, host.size() - 2) : host);
    unsigned char buf[16];
    if ((v6 && host.back() != ']') || host.size() < (v6 ? 3u : 1u) ||
        inet_pton(v6 ? AF_INET6 : AF_INET, inner.c_str(), buf) != 1)
        return make_error(Errc::config, "listen_bad_address",
                          "callback_listen needs a numeric IPv4 address or [IPv6] address");
    const std::string_view port_text = listen.substr(colon + 1);
    auto port = parse_int<std::uint16_t>(port_text, 1, 65535);
    if (!port)
        return make_error(Errc::config, "listen_bad_port", "callback_listen port must be 1-65535");
    if (path.empty() || path.front() != '/')
        return make_error(Errc::config, "listen_bad_address", "callback path must start with '/'");
    return "http://" + ascii_lower(host) + ":" + std::to_string(*port) + std::string(path);
}

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// URL and form encoding for the OAuth messages: percent-encoding (RFC 3986 §2.1), the
// application/x-www-form-urlencoded format OAuth bodies use (RFC 6749 Appendix B, WHATWG URL
// §5.2), strict decoding, query-string parsing that refuses repeated parameters (RFC 6749 §3.1),
// and a small splitter good enough to compare an address against the registered redirect_uri.
//
// Decoding policy: '%' must be followed by two hex digits; a decoded NUL is refused (C strings
// downstream); invalid UTF-8 is refused too, because every decoded value may end up in a D-Bus
// string or a journal field, and sd-bus rejects invalid UTF-8 — better to fail here, with a reason.
#pragma once

#include "result.hpp"
#include "secret.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

// design §9: callback request line 8 KiB. Also the cap for any URL we parse.
inline constexpr std::size_t kMaxUrlBytes = 8 * 1024;
// More parameters than any authorization response has; a cap against hash-flooding style input.
inline constexpr std::size_t kMaxQueryParams = 64;

// RFC 3986: everything except the unreserved set (ALPHA DIGIT - . _ ~) becomes %XX; space is %20.
[[nodiscard]] std::string percent_encode(std::string_view s);
// WHATWG application/x-www-form-urlencoded byte serializer: ALPHA DIGIT * - . _ kept, space → '+',
// everything else %XX (so '~' becomes %7E, as browsers send it).
[[nodiscard]] std::string form_urlencode(std::string_view s);
// Exact length form_urlencode(s) will produce, so a secret can be encoded into a buffer reserved
// once (no reallocation leaving copies in freed memory).
[[nodiscard]] std::size_t form_urlencoded_length(std::string_view s) noexcept;
// Appends form_urlencode(s) to out.
void form_urlencode_append(std::string& out, std::string_view s);

enum class PlusIs { literal, space };

// Strict decoding. Reasons: url_bad_percent, url_nul, url_bad_utf8.
[[nodiscard]] Result<std::string> percent_decode(std::string_view s, PlusIs plus = PlusIs::space);

struct QueryParam {
    std::string name;
    std::string value;
};
using QueryParams = std::vector<QueryParam>;

// Parses "a=1&b=2" (no leading '?') with form decoding ('+' is a space). Empty segments are
// skipped; a segment without '=' is a name with an empty value (WHATWG). Reasons: url_too_long,
// url_too_many_params, url_duplicate_param, plus the percent_decode ones.
[[nodiscard]] Result<QueryParams> parse_query(std::string_view query,
                                              std::size_t max_bytes = kMaxUrlBytes);
// The value of `name`, or nullptr.
[[nodiscard]] const std::string* query_find(const QueryParams& params, std::string_view name);

struct FormField {
    std::string_view name;
    std::string_view value;
};
// "n1=v1&n2=v2" form-urlencoded into a buffer sized once and returned as a Secret (token
// request bodies carry codes, verifiers, refresh tokens and client secrets).
[[nodiscard]] Secret form_encode(const std::vector<FormField>& fields);

struct UrlParts {
    std::string scheme; // lower case: "http" or "https"
    std::string host;   // lower case; an IPv6 literal keeps its brackets: "[::1]"
    std::optional<std::uint16_t> port;
    std::string path;                 // as written, never empty ("/" when absent, RFC 3986 §6.2.3)
    std::optional<std::string> query; // without '?'
    std::optional<std::string> fragment; // without '#'

    // The port, or the scheme's default (80/443).
    [[nodiscard]] std::uint16_t effective_port() const noexcept;
};

// Splits an absolute http(s) URL. Reasons: url_too_long, url_bad_char (control, space or
// non-ASCII byte), url_bad_scheme, url_no_host, url_userinfo (refused: "https://a@b/" tricks),
// url_bad_host, url_bad_port.
[[nodiscard]] Result<UrlParts> split_url(std::string_view url);

// Same scheme, host, effective port and path (byte for byte; no dot-segment or percent
// normalisation, as RFC 6749 §3.1.2.3 requires simple string comparison of the redirect URI).
[[nodiscard]] bool same_endpoint(const UrlParts& a, const UrlParts& b) noexcept;

// "127.0.0.1:8765" or "[::1]:8765" → "http://127.0.0.1:8765/callback". Reasons: listen_bad_address,
// listen_bad_port (port 0 cannot be registered as a redirect URI).
[[nodiscard]] Result<std::string> redirect_uri_from_listen(std::string_view callback_listen,
                                                           std::string_view path = "/callback");

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// Base64url (RFC 4648 §5) without padding, as JOSE uses it (RFC 7515 §2). Decoding is strict:
// no padding, no whitespace, no characters outside the URL-safe alphabet, no length ≡ 1 (mod 4),
// and the unused low bits of the last character must be zero, so each byte string has exactly one
// accepted encoding (a signature cannot be made "different but equal").
#pragma once

#include "result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

[[nodiscard]] std::string base64url_encode(std::string_view bytes);
[[nodiscard]] std::string base64url_encode(const std::uint8_t* data, std::size_t len);
[[nodiscard]] Result<std::string> base64url_decode(std::string_view text);

// Standard base64 with padding (RFC 4648 §4), used for HTTP Basic authentication and PEM bodies.
[[nodiscard]] std::string base64_encode(std::string_view bytes);

} // namespace psc

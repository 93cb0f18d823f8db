// SPDX-License-Identifier: LGPL-2.1-or-later
#include "base64url.hpp"

#include <array>

namespace psc {
namespace {

constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_url_table() {
    std::array<std::int8_t, 256> t{};
    for (auto& v : t)
        v = -1;
    for (int i = 0; i < 64; ++i)
        t[static_cast<unsigned char>(kUrlAlphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}
constexpr auto kUrlTable = make_url_table();

std::string encode(const std::uint8_t* d, std::size_t n, const char* alphabet, bool pad) {
    std::string out;
    out.reserve((n + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        std::uint32_t v = (std::uint32_t{d[i]} << 16) | (std::uint32_t{d[i + 1]} << 8) | d[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (n - i == 1) {
        std::uint32_t v = std::uint32_t{d[i]} << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        if (pad)
            out += "==";
    } else if (n - i == 2) {
        std::uint32_t v = (std::uint32_t{d[i]} << 16) | (std::uint32_t{d[i + 1]} << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        if (pad)
            out += '=';
    }
    return out;
}

} // namespace

std::string base64url_encode(const std::uint8_t* data, std::size_t len) {
    return encode(data, len, kUrlAlphabet, false);
}

std::string base64url_encode(std::string_view bytes) {
    return base64url_encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::string base64_encode(std::string_view bytes) {
    return encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), kStdAlphabet,
                  true);
}

Result<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1)
        return make_error(Errc::invalid, "base64url_length", "impossible base64url length");
    // Sized once and written by index: this runs three times per token on the hot path.
    std::string out(text.size() / 4 * 3 + (text.size() % 4 ? text.size() % 4 - 1 : 0), '\0');
    std::size_t o = 0;
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const std::int8_t v = kUrlTable[static_cast<unsigned char>(c)];
        if (v < 0)
            return make_error(Errc::invalid, "base64url_char",
                              "character outside the base64url alphabet (padding is not allowed)");
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = static_cast<char>((acc >> bits) & 0xff);
        }
    }
    // Leftover bits (2 or 4) must be zero: otherwise two encodings decode to the same bytes.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return make_error(Errc::invalid, "base64url_trailing_bits",
                          "non-canonical base64url (stray trailing bits)");
    return out;
}

} // namespace psc

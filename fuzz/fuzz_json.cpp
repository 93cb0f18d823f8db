// SPDX-License-Identifier: LGPL-2.1-or-later
// The limited JSON parser and its accessors, plus strict base64url, on arbitrary bytes.
#include "base64url.hpp"
#include "json.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (auto b = psc::base64url_decode(in); b.ok()) {
        // Decoding is canonical: re-encoding must give back the input.
        if (psc::base64url_encode(*b) != in)
            __builtin_trap();
    }
    auto r = psc::json_parse_object(in);
    if (!r.ok())
        return 0;
    json_object* o = r->get();
    for (const char* k : {"iss", "sub", "aud", "exp", "nonce", "keys", "acr"}) {
        (void)psc::json_get_string(o, k);
        (void)psc::json_get_int64(o, k);
        (void)psc::json_get_bool(o, k);
        (void)psc::json_get_string_or_array(o, k);
        (void)psc::json_get_object(o, k);
    }
    (void)psc::json_to_string(o);
    return 0;
}

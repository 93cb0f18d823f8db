// SPDX-License-Identifier: LGPL-2.1-or-later
// JWKS and JWK parsing on arbitrary bytes: never crash, never keep a key that could not verify.
#include "jwk.hpp"
#include "jws.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    auto set = psc::parse_jwks(in);
    if (set.ok()) {
        if (set->keys.empty())
            __builtin_trap();
        for (const auto& k : set->keys) {
            if (!k || !k->key || (k->kty == "RSA" && k->bits < 2048))
                __builtin_trap();
            bool usable = false;
            for (int a = 0; a <= static_cast<int>(psc::JwsAlg::EdDSA); ++a)
                usable = usable || psc::jwk_fits_alg(*k, static_cast<psc::JwsAlg>(a));
            if (!usable)
                __builtin_trap();
        }
    }
    // One key on its own, as a cache would see a single member.
    if (auto obj = psc::json_parse_object(in); obj.ok())
        (void)psc::parse_jwk(obj->get());
    return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
// JWE parsing and decryption (jwe.hpp) on arbitrary bytes, with the RSA key of RFC 7516
// Appendix A.1 (published, test-only) and every key management algorithm allowed, RSA1_5
// included. Three modes per input:
//  - the bytes as a compact JWE, and through jws_verify (nested-token rules);
//  - "HEADER\nREST": HEADER (raw JSON) replaces the protected header of a valid token for the
//    key, so the fuzzer reaches the header checks and the authenticated decryption directly;
//  - "!" + selector byte + PLAINTEXT: encrypted with the public key under the selected alg/enc,
//    then it must decrypt to exactly PLAINTEXT (and flipping the tag must make it fail).
#include "base64url.hpp"
#include "jwe.hpp"
#include "jwk.hpp"
#include "jws.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

constexpr const char* kKey = R"({"kty":"RSA","n":"oahUIoWw0K0usKNuOR6H4wkf4oBUXHTxRvgb48E-BVvxkeDNjbC4he8rUWcJoZmds2h7M70imEVhRU5djINXtqllXI4DFqcI1DgjT9LewND8MW2Krf3Spsk_ZkoFnilakGygTwpZ3uesH-PFABNIUYpOiN15dsQRkgr0vEhxN92i2asbOenSZeyaxziK72UwxrrKoExv6kc5twXTq4h-QChLOln0_mtUZwfsRaMStPs6mS6XrgxnxbWhojf663tuEQueGC-FCMfra36C9knDFGzKsNa7LZK2djYgyD3JR_MB_4NUJW_TqOQtwHYbxevoJArm-L5StowjzGy-_bq6Gw","e":"AQAB","d":"kLdtIj6GbDks_ApCSTYQtelcNttlKiOyPzMrXHeI-yk1F7-kpDxY4-WY5NWV5KntaEeXS1j82E375xxhWMHXyvjYecPT9fpwR_M9gV8n9Hrh2anTpTD93Dt62ypW3yDsJzBnTnrYu1iwWRgBKrEYY46qAZIrA2xAwnm2X7uGR1hghkqDp0Vqj3kbSCz1XyfCs6_LehBwtxHIyh8Ripy40p24moOAbgxVw3rxT_vlt3UVe4WO3JkJOzlpUf-KTVI2Ptgm-dARxTEtE-id-4OJr0h-K-VFs3VSndVTIznSxfyrj8ILL6MG_Uv8YAu7VILSB3lOW085-4qE3DzgrTjgyQ","p":"1r52Xk46c-LsfB5P442p7atdPUrxQSy4mti_tZI3Mgf2EuFVbUoDBvaRQ-SWxkbkmoEzL7JXroSBjSrK3YIQgYdMgyAEPTPjXv_hI2_1eTSPVZfzL0lffNn03IXqWF5MDFuoUYE0hzb2vhrlN_rKrbfDIwUbTrjjgieRbwC6Cl0","q":"wLb35x7hmQWZsWJmB_vle87ihgZ19S8lBEROLIsZG4ayZVe9Hi9gDVCOBmUDdaDYVTSNx_8Fyw1YYa9XGrGnDew00J28cRUoeBB_jKI1oma0Orv1T9aXIWxKwd4gvxFImOWr3QRL9KEBRzk2RatUBnmDZJTIAfwTs0g68UZHvtc","dp":"ZK-YwE7diUh0qR1tR7w8WHtolDx3MZ_OTowiFvgfeQ3SiresXjm9gZ5KLhMXvo-uz-KUJWDxS5pFQ_M0evdo1dKiRTjVw_x4NyqyXPM5nULPkcpU827rnpZzAJKpdhWAgqrXGKAECQH0Xt4taznjnd_zVpAmZZq60WPMBMfKcuE","dq":"Dq0gfgJ1DdFGXiLvQEZnuKEN0UUmsJBxkjydc3j4ZYdBiMRAy86x0vHCjywcMlYYg4yoC4YZa9hNVcsjqA3FeiL19rk8g6Qn29Tt0cj8qqyFpz9vNDBUfCAiJVeESOjJDZPYHdHY8v1b-o-Z2X5tvLx-TCekf7oxyeKDUqKWjis","qi":"VIMpMYbPf47dT1w_zDUXfPimsSegnMOA1zTaX7aGk_8urY6R8-ZW1FxU7AlWAyLWybqq6t16VFd7hQd0y6flUK4SlOydB61gwanOsXGOAOv82cHq0E3eL4HrtZkUuKvnPrMnsUUFlfUdybVzxyjz9JF_XyaY14ardLSjf4L_FNY","kid":"fuzz-enc"})";

struct Fixture {
    psc::JweKeySet keys;
    psc::JweDecryptPolicy policy;
    psc::JwkSet sig_keys; // empty: no inner signature can verify
    psc::JwsVerifyPolicy jws;
    std::string valid;    // a valid token for the key, its header replaced in mode two
};

const Fixture& fixture() {
    static const Fixture* f = [] {
        auto* fx = new Fixture;
        auto keys = psc::parse_jwe_keys(kKey);
        if (!keys.ok())
            __builtin_trap();
        fx->keys = std::move(*keys);
        fx->policy.keys = &fx->keys;
        fx->policy.allowed_algs = {psc::JweAlg::RSA_OAEP, psc::JweAlg::RSA_OAEP_256,
                                   psc::JweAlg::RSA1_5};
        fx->jws.decryption = &fx->policy;
        auto t = psc::jwe_encrypt("a.b.c", fx->keys.keys.front()->key.get(),
                                  psc::JweAlg::RSA_OAEP, psc::JweEnc::A128GCM, "fuzz-enc", "JWT");
        if (!t.ok())
            __builtin_trap();
        fx->valid = std::move(*t);
        return fx;
    }();
    return *f;
}

void decrypt_raw(std::string_view token) {
    const Fixture& f = fixture();
    (void)psc::jwe_decrypt(token, f.policy);
    auto v = psc::jws_verify(token, f.sig_keys, f.jws);
    if (v.ok()) // no signing key at all: nothing may verify
        __builtin_trap();
}

void round_trip(std::string_view in) {
    const Fixture& f = fixture();
    static constexpr psc::JweAlg kAlgs[] = {psc::JweAlg::RSA_OAEP, psc::JweAlg::RSA_OAEP_256,
                                            psc::JweAlg::RSA1_5};
    static constexpr psc::JweEnc kEncs[] = {
        psc::JweEnc::A128GCM,       psc::JweEnc::A192GCM,       psc::JweEnc::A256GCM,
        psc::JweEnc::A128CBC_HS256, psc::JweEnc::A192CBC_HS384, psc::JweEnc::A256CBC_HS512};
    const auto sel = static_cast<unsigned char>(in[0]);
    const std::string_view plain = in.substr(1, 256);
    auto t = psc::jwe_encrypt(plain, f.keys.keys.front()->key.get(), kAlgs[sel % 3],
                              kEncs[(sel / 3) % 6], "", "");
    if (!t.ok())
        __builtin_trap();
    auto d = psc::jwe_decrypt(*t, f.policy);
    if (!d.ok() || d->plaintext != plain)
        __builtin_trap();
    std::string forged = *t;
    forged.back() = forged.back() == 'A' ? 'Q' : 'A'; // a different, still canonical, last char
    if (psc::jwe_decrypt(forged, f.policy).ok())
        __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    if (in.size() >= 2 && in[0] == '!') {
        round_trip(in.substr(1));
        return 0;
    }
    decrypt_raw(in);
    const auto nl = in.find('\n');
    if (nl == std::string_view::npos)
        return 0;
    const std::string& valid = fixture().valid;
    decrypt_raw(psc::base64url_encode(in.substr(0, nl)) + valid.substr(valid.find('.')));
    return 0;
}

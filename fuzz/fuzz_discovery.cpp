// SPDX-License-Identifier: LGPL-2.1-or-later
// Discovery documents from a hostile or broken provider: parse_discovery must fail cleanly or
// return metadata whose every endpoint passed the URL rules.
#include "discovery.hpp"
#include "json.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

void check_endpoints(const psc::ProviderMetadata& m) {
    for (const char* name : {"authorization_endpoint", "token_endpoint", "userinfo_endpoint",
                             "jwks_uri", "backchannel_authentication_endpoint"}) {
        for (bool mtls : {false, true}) {
            auto e = psc::endpoint_for(m, name, mtls);
            // Whatever came out of a parsed document is an acceptable URL.
            if (e.ok() && !psc::http_check_url(*e, false).ok())
                __builtin_trap();
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    // The expected issuer is taken from the document's own issuer when there is one, so the fuzzer
    // gets past the issuer check and into the endpoint checks.
    std::string issuer = "https://idp.example";
    if (auto doc = psc::json_parse_object(in); doc.ok())
        if (auto iss = psc::json_get_string(doc->get(), "issuer"); iss.ok() && iss->has_value())
            issuer = std::string(**iss);
    auto m = psc::parse_discovery(in, issuer, false);
    if (m.ok()) {
        if (m->issuer != issuer)
            __builtin_trap();
        check_endpoints(*m);
    }
    (void)psc::parse_discovery(in, "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet",
                               true);
    return 0;
}

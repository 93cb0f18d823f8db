// SPDX-License-Identifier: LGPL-2.1-or-later
// Token, CIBA and device responses: the first byte picks the HTTP status, the rest is the body.
#include "token_response.hpp"

#include <cstddef>
#include <cstdint>

namespace {

void check_safe(const std::string& text) {
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '<' || c == '>')
            __builtin_trap();
}

template <class R>
void check_error(const R& r) {
    if (!r.ok())
        return;
    if (const auto* e = std::get_if<psc::OAuthError>(&*r)) {
        check_safe(e->error);
        check_safe(e->description);
        (void)psc::oauth_error_to_error(*e);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static constexpr int kStatus[] = {200, 400, 401, 403, 500, 503, 302, 0};
    if (size == 0)
        return 0;
    const int status = kStatus[data[0] % (sizeof kStatus / sizeof kStatus[0])];
    const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
    auto t = psc::parse_token_response(status, body);
    check_error(t);
    if (t.ok())
        if (const auto* tok = std::get_if<psc::TokenResponse>(&*t); tok && tok->id_token.empty())
            __builtin_trap(); // id_token is required by default
    check_error(psc::parse_token_response(status, body, false));
    auto c = psc::parse_ciba_auth_response(status, body);
    check_error(c);
    if (c.ok())
        if (const auto* ciba = std::get_if<psc::CibaAuthResponse>(&*c))
            if (ciba->expires_in.count() <= 0 || ciba->interval < psc::kMinPollInterval ||
                ciba->interval > psc::kMaxPollInterval)
                __builtin_trap();
    check_error(psc::parse_device_auth_response(status, body));
    return 0;
}

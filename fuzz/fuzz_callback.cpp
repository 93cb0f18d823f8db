// SPDX-License-Identifier: LGPL-2.1-or-later
// Authorization responses from the local listener and from a pasted address, validated against a
// fixed pending login; plus the URL codecs and the provider-text sanitiser on the same bytes.
#include "callback.hpp"
#include "url.hpp"

#include <cstddef>
#include <cstdint>

namespace {

const psc::CallbackExpectation kPending{
    "Zm9vYmFyYmF6cXV4cXV1eHF1dXpxdXV6cXV1enF1dXo", "https://bastion.example/callback",
    "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet", true};

void check_safe(const std::string& text) {
    for (char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f || c == '<' || c == '>')
            __builtin_trap();
    }
}

void validate(const psc::Result<psc::CallbackResponse>& r) {
    if (!r.ok())
        return;
    // A parsed response always has a state and exactly one of code / error.
    if (r->state.empty() || r->code.empty() == !r->error.has_value())
        __builtin_trap();
    psc::Status s = psc::check_callback(*r, kPending);
    if (!s.ok() && s.error().reason.rfind("provider_", 0) == 0)
        check_safe(s.error().message);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    validate(psc::parse_callback_target(in));
    validate(psc::parse_pasted_callback(in));
    check_safe(psc::sanitize_provider_text(in));
    if (auto d = psc::percent_decode(in, psc::PlusIs::literal); d.ok()) {
        // Encoding then decoding gives back the decoded value.
        auto again = psc::percent_decode(psc::percent_encode(*d), psc::PlusIs::literal);
        auto form = psc::percent_decode(psc::form_urlencode(*d), psc::PlusIs::space);
        if (!again.ok() || *again != *d || !form.ok() || *form != *d)
            __builtin_trap();
    }
    if (auto u = psc::split_url(in); u.ok())
        (void)psc::same_endpoint(*u, *u);
    return 0;
}

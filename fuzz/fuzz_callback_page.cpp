// SPDX-License-Identifier: LGPL-2.1-or-later
// The callback page's handling of untrusted text (a provider's error reason, a request target) on
// arbitrary bytes. Invariants: a sanitised reason is capped, valid UTF-8 and free of control
// characters; the failure page never carries the reason as markup; the path check accepts only
// the exact path, optionally followed by a query.
#include "callback_page.hpp"
#include "callback_server.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace {

void check(bool ok) {
    if (!ok)
        __builtin_trap();
}

void check_reason(std::string_view in, std::size_t cap) {
    const std::string out = psc::sanitize_reason(in, cap);
    check(out.size() <= cap);
    for (const char c : out) {
        const auto u = static_cast<unsigned char>(c);
        check(u >= 0x20 && u != 0x7F);
    }
    // Already clean and short enough: sanitising again changes nothing (valid UTF-8 included).
    check(psc::sanitize_reason(out, cap) == out);
}

void check_page(std::string_view reason) {
    const std::string page = psc::render_callback_page(psc::CallbackPageKind::failure, reason);
    const std::size_t open = page.find("<code>");
    if (open == std::string::npos)
        return; // nothing left after sanitising
    const std::size_t close = page.find("</code>", open);
    check(close != std::string::npos);
    const std::string_view shown(page.data() + open + 6, close - open - 6);
    check(shown.find_first_of("<>\"'") == std::string_view::npos);
    check(page.find("<script") == std::string::npos);
}

void check_path(std::string_view target) {
    constexpr std::string_view path = "/callback";
    if (psc::callback_path_matches(target, path))
        check(target.substr(0, path.size()) == path &&
              (target.size() == path.size() || target[path.size()] == '?'));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::size_t cap = data[0] % 64 + (data[0] & 0x80 ? 200 : 0);
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    check_reason(in, cap);
    check_page(in);
    check_path(in);
    return 0;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
// The page a browser shows at the end of a code-flow login (design §2 item 1): small, styled with
// inline CSS only, in French and English, UTF-8. It never redirects (no Location, no meta refresh,
// no script) and never echoes request data: the only variable text is a short reason, escaped.
#pragma once

#include "strutil.hpp" // html_escape

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace psc {

enum class CallbackPageKind {
    // 200 "Réponse reçue / Response received": the provider's answer is accepted for checking. The
    // page cannot say more: the token exchange, validation and mapping run after it is sent, and
    // the terminal (PAM prompt) shows the outcome.
    received,
    confirm,            // 200 the confirmation code to type at the prompt (confirm_code)
    signed_in,          // 200 the login succeeded, for the account shown
    refused,            // 403 the person was identified and refused, with the reason
    failure,            // 400 with a short sanitised reason
    unknown_login,      // 410 unknown or expired login (no pending login has this state)
    not_found,          // 404 any other path
    method_not_allowed, // 405 anything but GET and HEAD
    target_too_long,    // 414 request target over the limit
    internal_error,     // 500 the handler failed; the login is not affected by the page
};

// The reason shown on a failure page is capped at this many bytes (before escaping).
inline constexpr std::size_t kCallbackReasonMaxBytes = 200;

[[nodiscard]] unsigned callback_page_status(CallbackPageKind kind) noexcept;

// The full HTML document. `detail` is the reason (failure, refused), the code (confirm) or the
// account (signed_in), ignored by the other pages; it goes through sanitize_reason() and
// html_escape(), so it can never become markup.
[[nodiscard]] std::string render_callback_page(CallbackPageKind kind, std::string_view detail = {});

// A refusal in plain words, French then English, for the refused page: the common reasons
// (another person's account, a rule on the profession, the category, the means of
// authentication, the idNat list, missing practice data, a wrong confirmation code) have a
// sentence; others get a general one. The reason token follows in parentheses.
[[nodiscard]] std::string refusal_words(std::string_view reason);

// Headers sent with every page: content type, no caching, a CSP that allows nothing but the
// inline style, nosniff, no referrer (the callback URL carries the code), no framing.
[[nodiscard]] const std::vector<std::pair<std::string, std::string>>& callback_page_headers();

// Text for a page: invalid UTF-8 becomes U+FFFD, control characters (C0, DEL, C1) and invisible
// format characters (bidi overrides, zero-width: is_invisible_format) are dropped, runs of whitespace become one space, and the result is cut to max_bytes
// on a character boundary (with "…" when cut).
[[nodiscard]] std::string sanitize_reason(std::string_view text,
                                          std::size_t max_bytes = kCallbackReasonMaxBytes);

} // namespace psc

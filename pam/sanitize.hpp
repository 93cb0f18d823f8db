// SPDX-License-Identifier: LGPL-2.1-or-later
// Text from the daemon (and through it from the provider) reaches a terminal: nothing in it may
// move the cursor, change colours or retitle the window.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace psc::pam {

inline constexpr std::size_t kMaxDisplayString = 2048;

// Replaces C0 controls, DEL, C1 controls (U+0080..U+009F, which some terminals treat as CSI and
// friends), invisible format characters (bidi overrides and isolates, zero-width characters:
// is_invisible_format) and bytes that are not well-formed UTF-8 with '?', so tampering shows;
// then cuts at `max` bytes on a character boundary.
[[nodiscard]] std::string display_safe(std::string_view s, std::size_t max = kMaxDisplayString);

} // namespace psc::pam

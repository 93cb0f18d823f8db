// SPDX-License-Identifier: LGPL-2.1-or-later
// Every line pam_psc shows, in French and English (design §6), in one table. Lines are short: a
// prompt over SSH or a GDM label has little room.
#pragma once

#include "pam_args.hpp"

#include <string>
#include <string_view>

namespace psc::pam {

enum class Msg {
    choose_flow,     // numbered flow menu title
    choose_prompt,   // "Choice [1]: "
    choose_invalid,  // the answer was not a listed number
    flow_code,       // label of the browser flow in the menu
    flow_ciba,       // label of the push flow
    flow_device,     // label of the device grant
    open_url,        // "Open this address to sign in with Pro Santé Connect:"
    scan_qr,         // above the QR code
    ciba_code,       // "Code shown on your phone: {}"
    ciba_approve,    // "Approve the request in the e-CPS app"
    device_code,     // "Code to enter: {}"
    prompt_paste,    // SSH prompt when an address may be pasted back
    prompt_enter,    // prompt when nothing can be pasted (CIBA)
    remaining,       // "Waiting for approval ({} left)"
    paste_rejected,  // the pasted address was refused; may paste again
    paste_too_long,  // the pasted text is over the cap
    paste_unused,    // text typed for a flow that takes no address
    prompt_code,     // confirm_code: "Code shown in the browser: "
    prompt_paste_code, // SSH prompt when the browser may show a confirmation code
    code_rejected,   // a wrong confirmation code; may type again
    success,         // "Pro Santé Connect: signed in as {}"
    err_unavailable, // daemon or provider unreachable
    err_unknown_user,
    err_denied,
    err_timeout,
    err_cancelled,
    err_busy,
    err_push_throttled, // ciba_throttled: too many pushes to this phone; {} = when the next may go
    err_invalid,
    err_failed,     // config, io, internal
    err_wrong_user, // the daemon answered for another account
    ack_failure,    // last prompt after a refusal over SSH, so the reason is displayed
};

// lang=auto → from LC_ALL, LC_MESSAGES, LANG (in that order, POSIX precedence): "fr*" → fr,
// "en*" → en, anything else (C, POSIX, unset) → both.
[[nodiscard]] Lang resolve_lang(Lang requested, std::string_view lc_all,
                                std::string_view lc_messages, std::string_view lang) noexcept;

// The line in `lang` (fr, en or both as "fr / en"); `lang` must be resolved.
[[nodiscard]] std::string text(Msg id, Lang lang);
// text() with the first "{}" replaced by `value`.
[[nodiscard]] std::string text(Msg id, Lang lang, std::string_view value);

// "2 min 05 s" / "45 s" (same in both languages).
[[nodiscard]] std::string format_duration(long seconds);

} // namespace psc::pam

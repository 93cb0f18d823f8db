// SPDX-License-Identifier: LGPL-2.1-or-later
// The authorization response (RFC 6749 §4.1.2, RFC 9207), as the local listener receives it
// ("/callback?code=…&state=…&iss=…") or as the user pastes the address the browser ended on.
// Parsing checks shape and size only; check_callback() decides against one pending login.
#pragma once

#include "result.hpp"
#include "secret.hpp"
#include "url.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace psc {

struct CallbackLimits {
    std::size_t max_bytes = 8 * 1024; // design §9: callback request line
    std::size_t max_code = 2 * 1024;
    std::size_t max_state = 512;
    std::size_t max_iss = 1024;
    std::size_t max_error = 128;
    std::size_t max_error_text = 1024; // error_description, error_uri
};

enum class CallbackSource { listener, pasted };

struct CallbackResponse {
    CallbackSource source = CallbackSource::listener;
    UrlParts address; // pasted: scheme/host/port/path; listener: path only (query never kept)
    Secret code;      // empty for an error response
    std::string state;
    std::optional<std::string> iss;
    std::optional<std::string> error;
    std::optional<std::string> error_description;
    std::optional<std::string> error_uri;
};

// Reasons (all Errc::invalid): callback_too_large, callback_bad_target, callback_bad_encoding
// (bad %-escape, encoded NUL, invalid UTF-8), callback_duplicate_param, callback_too_many_params,
// callback_value_too_long, callback_state_missing, callback_code_missing (neither code nor
// error), callback_code_and_error.
[[nodiscard]] Result<CallbackResponse> parse_callback_target(std::string_view request_target,
                                                             const CallbackLimits& limits = {});
// A full address, surrounding whitespace trimmed. Adds: callback_empty, callback_not_url (not an
// absolute http(s) URL), callback_fragment (a response in the fragment is not supported: the
// code flow answers in the query).
[[nodiscard]] Result<CallbackResponse> parse_pasted_callback(std::string_view address,
                                                             const CallbackLimits& limits = {});

// What a pending login expects of its authorization response.
struct CallbackExpectation {
    std::string_view state;
    std::string_view redirect_uri; // as sent in the authorization request
    std::string_view issuer;       // configured issuer (equal to discovery's, byte for byte)
    bool iss_parameter_supported =
        false; // discovery: authorization_response_iss_parameter_supported
};

// Checks, in this order (an unrelated or forged response must never end a login by its error):
//  pasted address == redirect_uri (scheme, host, port, path) else callback_redirect_mismatch;
//  state equal (constant time) else callback_state_mismatch;
//  RFC 9207: iss present → equal to issuer byte for byte else callback_iss_mismatch;
//            absent → callback_iss_missing when the provider advertises the parameter;
//  an error response → its mapped error (provider_error_reason) with a sanitised message.
// Success means resp.code may be redeemed.
[[nodiscard]] Status check_callback(const CallbackResponse& resp, const CallbackExpectation& exp);

// RFC 6749 §4.1.2.1 / OIDC Core §3.1.2.6 error code → Error: access_denied → denied
// "access_denied"; login/consent/interaction_required, account_selection_required → denied
// "login_required"; server_error, temporarily_unavailable → invalid "authorization_server_error"
// (it came through the browser: never "unavailable"); anything else → invalid "provider_error".
// The message shows the sanitised code and description.
[[nodiscard]] Error provider_error(std::string_view error,
                                   const std::optional<std::string>& description);

// Text from the provider made safe to show in a terminal, a log line or (escaped anyway) HTML:
// invalid UTF-8 bytes become '?', C0/C1 controls, DEL and invisible format characters
// (is_invisible_format: bidi overrides, zero-width characters) are dropped (runs of
// whitespace controls become one space), '<' and '>' are dropped so it can never be markup, and
// the result is cut at a character boundary to max_bytes (then "...").
[[nodiscard]] std::string sanitize_provider_text(std::string_view text,
                                                 std::size_t max_bytes = 200);

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "callback.hpp"

#include "strutil.hpp"
#include "utf8.hpp"

#include <array>

namespace psc {
namespace {

Error bad(std::string reason, std::string message) {
    return make_error(Errc::invalid, std::move(reason), std::move(message));
}

// The URL layer's reasons, renamed so every callback rejection reads callback_*.
Error map_url_error(Error e) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 6> map{{
        {"url_bad_percent", "callback_bad_encoding"},
        {"url_nul", "callback_bad_encoding"},
        {"url_bad_utf8", "callback_bad_encoding"},
        {"url_duplicate_param", "callback_duplicate_param"},
        {"url_too_many_params", "callback_too_many_params"},
        {"url_too_long", "callback_too_large"},
    }};
    for (const auto& [from, to] : map)
        if (e.reason == from)
            return bad(std::string(to), e.message);
    return bad("callback_not_url", e.describe());
}

Result<std::optional<std::string>> take(QueryParams& params, std::string_view name,
                                        std::size_t max) {
    for (auto& p : params) {
        if (p.name != name)
            continue;
        if (p.value.size() > max)
            return bad("callback_value_too_long",
                       "\"" + p.name + "\" is longer than " + std::to_string(max) + " bytes");
        if (p.value.empty())
            return std::optional<std::string>{};
        return std::optional<std::string>(std::move(p.value));
    }
    return std::optional<std::string>{};
}

Status extract(std::string_view query, const CallbackLimits& lim, CallbackResponse& out) {
    auto params = parse_query(query, lim.max_bytes);
    if (!params)
        return map_url_error(std::move(params).error());
    auto code = take(*params, "code", lim.max_code);
    auto state = take(*params, "state", lim.max_state);
    auto iss = take(*params, "iss", lim.max_iss);
    auto error = take(*params, "error", lim.max_error);
    auto desc = take(*params, "error_description", lim.max_error_text);
    auto uri = take(*params, "error_uri", lim.max_error_text);
    for (const auto* r : {&code, &state, &iss, &error, &desc, &uri})
        if (!*r)
            return r->error();
    // Keycloak adds session_state; other unknown parameters are ignored (RFC 6749 §4.1.2).
    if (!*state)
        return bad("callback_state_missing", "the response has no state parameter");
    if (!*code && !*error)
        return bad("callback_code_missing", "the response has neither a code nor an error");
    if (*code && *error)
        return bad("callback_code_and_error", "the response has both a code and an error");
    if (*code)
        out.code = Secret::adopt(std::move(**code));
    out.state = std::move(**state);
    out.iss = std::move(*iss);
    out.error = std::move(*error);
    out.error_description = std::move(*desc);
    out.error_uri = std::move(*uri);
    return {};
}

} // namespace

Result<CallbackResponse> parse_callback_target(std::string_view target,
                                               const CallbackLimits& limits) {
    if (target.size() > limits.max_bytes)
        return bad("callback_too_large", "callback request of " + std::to_string(target.size()) +
                                             " bytes exceeds " + std::to_string(limits.max_bytes));
    if (target.empty() || target.front() != '/')
        return bad("callback_bad_target", "the request target is not an absolute path");
    for (char ch : target) {
        const auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return bad("callback_bad_target", "the request target contains an invalid character");
    }
    CallbackResponse out;
    out.source = CallbackSource::listener;
    const auto q = target.find('?');
    out.address.path = std::string(target.substr(0, q));
    PSC_TRY(extract(q == std::string_view::npos ? "" : target.substr(q + 1), limits, out));
    return out;
}

Result<CallbackResponse> parse_pasted_callback(std::string_view address,
                                               const CallbackLimits& limits) {
    if (address.size() > limits.max_bytes)
        return bad("callback_too_large", "pasted address of " + std::to_string(address.size()) +
                                             " bytes exceeds " + std::to_string(limits.max_bytes));
    address = trim(address);
    if (address.empty())
        return bad("callback_empty", "nothing was pasted");
    auto parts = split_url(address);
    if (!parts)
        return map_url_error(std::move(parts).error());
    // The code flow answers in the query (response_mode=query); an implicit/fragment answer is
    // not something we asked for, and its values never reach a server anyway.
    if (parts->fragment && !parts->fragment->empty())
        return bad("callback_fragment",
                   "the address carries its response in the fragment (#…), which is not supported");
    CallbackResponse out;
    out.source = CallbackSource::pasted;
    // The query holds the code in clear: wipe it on every path; only the Secret copy is kept.
    std::string query = parts->query ? std::move(*parts->query) : std::string();
    parts->query.reset();
    Status st = extract(query, limits, out);
    secure_wipe(query);
    PSC_TRY(std::move(st));
    out.address = std::move(*parts);
    return out;
}

Status check_callback(const CallbackResponse& resp, const CallbackExpectation& exp) {
    if (resp.source == CallbackSource::pasted) {
        auto want = split_url(exp.redirect_uri);
        if (!want)
            return make_error(Errc::config, "redirect_uri_invalid",
                              "the configured redirect_uri is not an http(s) URL");
        if (!same_endpoint(resp.address, *want))
            return bad("callback_redirect_mismatch",
                       "the pasted address is not the registered redirect_uri " +
                           std::string(exp.redirect_uri));
    }
    const Secret expected_state(exp.state);
    if (exp.state.empty() || !expected_state.equals(resp.state))
        return bad("callback_state_mismatch", "the response does not belong to this login");
    if (resp.iss) {
        if (*resp.iss != exp.issuer)
            return bad("callback_iss_mismatch",
                       "the response comes from issuer \"" + sanitize_provider_text(*resp.iss) +
                           "\", not the configured one (RFC 9207 mix-up defence)");
    } else if (exp.iss_parameter_supported) {
        return bad("callback_iss_missing",
                   "the provider announces the iss parameter but the response has none");
    }
    if (resp.error)
        return provider_error(*resp.error, resp.error_description);
    if (resp.code.empty())
        return bad("callback_code_missing", "the response has no code");
    return {};
}

Error provider_error(std::string_view error, const std::optional<std::string>& description) {
    std::string msg =
        "the identity provider answered \"" + sanitize_provider_text(error, 64) + "\"";
    if (description && !description->empty())
        msg += ": " + sanitize_provider_text(*description);
    if (error == "access_denied")
        return make_error(Errc::denied, "access_denied", std::move(msg));
    if (error == "login_required" || error == "consent_required" ||
        error == "interaction_required" || error == "account_selection_required")
        return make_error(Errc::denied, "login_required", std::move(msg));
    // An authorization response travels through the user's browser (or their paste): whatever it
    // says, it is the user's input, so it can only end the login as a refusal — never as an
    // outage, which would open the break-glass line on demand.
    if (error == "server_error" || error == "temporarily_unavailable")
        return make_error(Errc::invalid, "authorization_server_error", std::move(msg));
    return make_error(Errc::invalid, "provider_error", std::move(msg));
}

std::string sanitize_provider_text(std::string_view text, std::size_t max_bytes) {
    std::string out;
    bool pending_space = false;
    for (std::size_t i = 0; i < text.size();) {
        std::uint32_t cp = 0;
        std::size_t n = utf8_decode(text, i, cp);
        std::string_view piece = text.substr(i, n);
        if (n == 0) {
            piece = "?"; // invalid byte: shown, not interpreted
            cp = '?';
            n = 1;
        }
        i += n;
        if (cp == '\t' || cp == '\n' || cp == '\r' || cp == '\v' || cp == '\f' || cp == ' ') {
            pending_space = !out.empty();
            continue;
        }
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || is_invisible_format(cp) || cp == '<' ||
            cp == '>')
            continue;
        const std::size_t need = piece.size() + (pending_space ? 1 : 0);
        if (out.size() + need > max_bytes) {
            out += "...";
            break;
        }
        if (pending_space)
            out.push_back(' ');
        pending_space = false;
        out += piece;
    }
    return out;
}

} // namespace psc

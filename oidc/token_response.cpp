// SPDX-License-Identifier: LGPL-2.1-or-later
#include "token_response.hpp"

#include "callback.hpp" // sanitize_provider_text
#include "json.hpp"
#include "url.hpp"

#include <algorithm>

namespace psc {
namespace {

constexpr std::size_t kMaxTokenBytes = 64 * 1024;   // access/refresh tokens (opaque or JWT)
constexpr std::size_t kMaxIdTokenBytes = 16 * 1024; // design §9: JWT 16 KiB
constexpr std::size_t kMaxHandleBytes = 2 * 1024;   // auth_req_id, device_code
constexpr std::int64_t kMaxExpiresIn = 24 * 3600;

Error invalid(std::string reason, std::string message) {
    return make_error(Errc::invalid, std::move(reason), std::move(message));
}

Result<std::optional<std::string_view>> get_str(const json_object* o, const char* key,
                                                std::size_t max) {
    auto r = json_get_string(o, key);
    if (!r)
        return invalid("response_invalid", r.error().message);
    if (*r && (*r)->size() > max)
        return invalid("response_invalid", std::string("member \"") + key + "\" is too long");
    return *r;
}

Result<std::optional<std::int64_t>> get_int(const json_object* o, const char* key) {
    auto r = json_get_int64(o, key);
    if (!r)
        return invalid("expires_in_invalid", r.error().message);
    return *r;
}

// Required positive lifetime, at most a day.
Result<std::chrono::seconds> get_expires_in(const json_object* o) {
    auto r = get_int(o, "expires_in");
    if (!r)
        return std::move(r).error();
    if (!*r || **r <= 0 || **r > kMaxExpiresIn)
        return invalid("expires_in_invalid", "expires_in must be a positive number of seconds");
    return std::chrono::seconds(**r);
}

// CIBA §7.3 / RFC 8628 §3.2: default 5 s; clamped, not rejected (a wrong hint is no attack).
Result<std::chrono::seconds> get_interval(const json_object* o) {
    auto r = json_get_int64(o, "interval");
    if (!r)
        return invalid("response_invalid", r.error().message);
    if (!*r)
        return std::chrono::seconds(5);
    return std::chrono::seconds(
        std::clamp<std::int64_t>(**r, kMinPollInterval.count(), kMaxPollInterval.count()));
}

Result<OAuthError> parse_error_object(const json_object* o, int status) {
    auto code = get_str(o, "error", 256);
    auto desc = get_str(o, "error_description", 4096);
    if (!code || !desc || !*code || (*code)->empty())
        return invalid("response_invalid",
                       "HTTP " + std::to_string(status) + " without an OAuth error member");
    OAuthError e;
    e.kind = oauth_error_kind(**code);
    e.error = sanitize_provider_text(**code, 64);
    e.description = *desc ? sanitize_provider_text(**desc) : std::string();
    e.http_status = status;
    return e;
}

using Classified = std::variant<JsonPtr, OAuthError>;

// The HTTP status and body shape every back-channel answer shares (RFC 6749 §5.1/§5.2).
Result<Classified> classify(int status, std::string_view body, int max_depth) {
    if (status >= 500 && status <= 599)
        return make_error(Errc::unavailable, "provider_unavailable",
                          "the provider answered HTTP " + std::to_string(status));
    if (status != 200 && (status < 400 || status > 499))
        return make_error(Errc::unavailable, "http_status",
                          "unexpected HTTP status " + std::to_string(status));
    auto obj = json_parse_object(body, JsonLimits{JsonLimits{}.max_bytes, max_depth});
    if (!obj)
        return invalid("response_not_json",
                       "HTTP " + std::to_string(status) +
                           " body is not a JSON object: " + obj.error().describe());
    if (status == 200)
        return Classified(std::move(*obj));
    auto e = parse_error_object(obj->get(), status);
    if (!e)
        return std::move(e).error();
    return Classified(std::move(*e));
}

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto l = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
        return l(x) == l(y);
    });
}

Result<TokenResponse> token_from_json(const json_object* o, bool require_id_token) {
    TokenResponse t;
    auto access = get_str(o, "access_token", kMaxTokenBytes);
    auto type = get_str(o, "token_type", 64);
    auto id = get_str(o, "id_token", kMaxIdTokenBytes);
    auto refresh = get_str(o, "refresh_token", kMaxTokenBytes);
    auto scope = get_str(o, "scope", 4096);
    for (const auto* r : {&access, &type, &id, &refresh, &scope})
        if (!*r)
            return r->error();
    if (!*access || (*access)->empty())
        return invalid("access_token_missing", "the token response has no access_token");
    if (!*type)
        return invalid("token_type_missing", "the token response has no token_type");
    // RFC 6749 §7.1/§5.1: case-insensitive; DPoP and MAC tokens are out of scope.
    if (!iequals(**type, "Bearer"))
        return invalid("token_type_unsupported",
                       "token_type \"" + sanitize_provider_text(**type, 32) + "\" is not Bearer");
    if (require_id_token && (!*id || (*id)->empty()))
        return invalid("id_token_missing",
                       "the token response has no id_token (OIDC Core §3.1.3.3)");
    auto exp = get_int(o, "expires_in");
    if (!exp)
        return std::move(exp).error();
    if (*exp && **exp <= 0)
        return invalid("expires_in_invalid", "expires_in must be positive");
    t.access_token = Secret(**access);
    t.token_type = std::string(**type);
    if (*id)
        t.id_token = Secret(**id);
    if (*refresh)
        t.refresh_token = Secret(**refresh);
    if (*scope)
        t.scope = std::string(**scope);
    t.expires_in = *exp;
    return t;
}

Result<CibaAuthResponse> ciba_from_json(const json_object* o) {
    auto id = get_str(o, "auth_req_id", kMaxHandleBytes);
    if (!id)
        return std::move(id).error();
    if (!*id || (*id)->empty())
        return invalid("auth_req_id_missing", "the CIBA response has no auth_req_id");
    auto exp = get_expires_in(o);
    if (!exp)
        return std::move(exp).error();
    auto interval = get_interval(o);
    if (!interval)
        return std::move(interval).error();
    CibaAuthResponse r;
    r.auth_req_id = Secret(**id);
    r.expires_in = *exp;
    r.interval = *interval;
    return r;
}

bool printable_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// The user is told to open this address: only http(s), never javascript: or the like.
Result<std::optional<std::string>> get_uri(const json_object* o, const char* key) {
    auto s = get_str(o, key, 2048);
    if (!s)
        return std::move(s).error();
    if (!*s)
        return std::optional<std::string>{};
    if (!split_url(**s))
        return invalid("verification_uri_invalid",
                       std::string("\"") + key + "\" is not an http(s) address");
    return std::optional<std::string>(std::string(**s));
}

Result<DeviceAuthResponse> device_from_json(const json_object* o) {
    auto code = get_str(o, "device_code", kMaxHandleBytes);
    auto user = get_str(o, "user_code", 4096);
    auto uri = get_uri(o, "verification_uri");
    auto complete = get_uri(o, "verification_uri_complete");
    auto exp = get_expires_in(o);
    auto interval = get_interval(o);
    if (!code)
        return std::move(code).error();
    if (!*code || (*code)->empty())
        return invalid("device_code_missing", "the device response has no device_code");
    if (!user || !*user || (*user)->empty() || (*user)->size() > 64 || !printable_ascii(**user))
        return invalid("user_code_invalid", "user_code missing, too long or not printable");
    if (!uri)
        return std::move(uri).error();
    if (!*uri)
        return invalid("verification_uri_invalid", "the device response has no verification_uri");
    if (!complete)
        return std::move(complete).error();
    if (!exp)
        return std::move(exp).error();
    if (!interval)
        return std::move(interval).error();
    DeviceAuthResponse d;
    d.device_code = Secret(**code);
    d.user_code = std::string(**user);
    d.verification_uri = std::move(**uri);
    d.verification_uri_complete = std::move(*complete);
    d.expires_in = *exp;
    d.interval = *interval;
    return d;
}

template <class T, class F>
OAuthResult<T> parse_with(int status, std::string_view body, int max_depth, F&& from_json) {
    auto c = classify(status, body, max_depth);
    if (!c)
        return std::move(c).error();
    if (auto* e = std::get_if<OAuthError>(&*c))
        return std::variant<T, OAuthError>(std::move(*e));
    auto v = from_json(std::get<JsonPtr>(*c).get());
    if (!v)
        return std::move(v).error();
    return std::variant<T, OAuthError>(std::move(*v));
}

} // namespace

OAuthErrorKind oauth_error_kind(std::string_view code) noexcept {
    static constexpr std::pair<std::string_view, OAuthErrorKind> kinds[] = {
        {"authorization_pending", OAuthErrorKind::authorization_pending},
        {"slow_down", OAuthErrorKind::slow_down},
        {"access_denied", OAuthErrorKind::access_denied},
        {"expired_token", OAuthErrorKind::expired_token},
        {"invalid_grant", OAuthErrorKind::invalid_grant},
        {"invalid_request", OAuthErrorKind::invalid_request},
        {"invalid_client", OAuthErrorKind::invalid_client},
        {"unauthorized_client", OAuthErrorKind::unauthorized_client},
        {"unknown_user_id", OAuthErrorKind::unknown_user_id},
    };
    for (const auto& [name, kind] : kinds)
        if (name == code)
            return kind;
    return OAuthErrorKind::other;
}

bool oauth_error_is_pending(OAuthErrorKind kind) noexcept {
    return kind == OAuthErrorKind::authorization_pending || kind == OAuthErrorKind::slow_down;
}

Error oauth_error_to_error(const OAuthError& e) {
    std::string msg = "the provider answered \"" + e.error + "\"";
    if (!e.description.empty())
        msg += ": " + e.description;
    switch (e.kind) {
    case OAuthErrorKind::access_denied:
        return make_error(Errc::denied, "access_denied", std::move(msg));
    case OAuthErrorKind::authorization_pending:
    case OAuthErrorKind::slow_down:
    case OAuthErrorKind::expired_token:
        return make_error(Errc::timeout, e.error, std::move(msg));
    case OAuthErrorKind::unknown_user_id:
        return make_error(Errc::unknown_user, "unknown_user_id", std::move(msg));
    case OAuthErrorKind::invalid_client:
    case OAuthErrorKind::unauthorized_client:
        return make_error(Errc::config, e.error, std::move(msg));
    case OAuthErrorKind::invalid_grant:
    case OAuthErrorKind::invalid_request:
        return make_error(Errc::invalid, e.error, std::move(msg));
    case OAuthErrorKind::other:
        break;
    }
    return make_error(Errc::invalid, "provider_error", std::move(msg));
}

OAuthResult<TokenResponse> parse_token_response(int status, std::string_view body,
                                                bool require_id_token, int json_max_depth) {
    return parse_with<TokenResponse>(status, body, json_max_depth, [&](const json_object* o) {
        return token_from_json(o, require_id_token);
    });
}

OAuthResult<CibaAuthResponse> parse_ciba_auth_response(int status, std::string_view body,
                                                       int json_max_depth) {
    return parse_with<CibaAuthResponse>(status, body, json_max_depth, ciba_from_json);
}

OAuthResult<DeviceAuthResponse> parse_device_auth_response(int status, std::string_view body,
                                                           int json_max_depth) {
    return parse_with<DeviceAuthResponse>(status, body, json_max_depth, device_from_json);
}

PollSchedule::PollSchedule(Clock::time_point start, std::chrono::seconds interval,
                           std::chrono::seconds expires_in) noexcept
    : interval_(std::clamp(interval, kMinPollInterval, kMaxPollInterval)),
      deadline_(start + std::max(expires_in, std::chrono::seconds(0))) {}

void PollSchedule::slow_down() noexcept {
    interval_ = std::min(interval_ + kSlowDownStep, std::chrono::seconds(600));
}

PollSchedule::Clock::time_point PollSchedule::next_poll(Clock::time_point now) const noexcept {
    return std::min(now + interval_, deadline_);
}

} // namespace psc

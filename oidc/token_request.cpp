// SPDX-License-Identifier: LGPL-2.1-or-later
#include "token_request.hpp"

#include "base64url.hpp"
#include "json.hpp"
#include "random.hpp"
#include "url.hpp"

#include <algorithm>

namespace psc {
namespace {

constexpr std::string_view kJwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
constexpr std::string_view kCibaGrant = "urn:openid:params:grant-type:ciba";
constexpr std::string_view kDeviceGrant = "urn:ietf:params:oauth:grant-type:device_code";
constexpr std::size_t kMaxBindingMessage = 64;

Error invalid_request(std::string what) {
    return make_error(Errc::internal, "token_request_invalid", what + " is empty");
}

Status check_endpoint(std::string_view endpoint) {
    auto parts = split_url(endpoint);
    if (!parts || parts->fragment)
        return make_error(Errc::config, "request_bad_endpoint",
                          "endpoint \"" + std::string(endpoint.substr(0, 200)) +
                              "\" is not an http(s) URL without fragment");
    return {};
}

// RFC 6749 §2.3.1: client_id and secret are form-urlencoded *before* Basic's base64, so a
// secret with ':' or '%' survives. The buffers are sized once and wiped.
HttpHeader basic_authorization(std::string_view client_id, std::string_view secret) {
    std::string raw;
    raw.reserve(form_urlencoded_length(client_id) + 1 + form_urlencoded_length(secret));
    form_urlencode_append(raw, client_id);
    raw.push_back(':');
    form_urlencode_append(raw, secret);
    std::string b64 = base64_encode(raw);
    secure_wipe(raw);
    std::string value;
    value.reserve(6 + b64.size());
    value = "Basic ";
    value += b64;
    secure_wipe(b64);
    return HttpHeader{"Authorization", Secret::adopt(std::move(value))};
}

Status check_auth(const ClientAuth& auth) {
    if (auth.client_id.empty())
        return make_error(Errc::config, "client_id_missing", "no client_id configured");
    switch (auth.method) {
    case ClientAuthMethod::client_secret_basic:
    case ClientAuthMethod::client_secret_post:
        if (!auth.client_secret || auth.client_secret->empty())
            return make_error(Errc::config, "client_secret_missing",
                              "client_secret authentication needs a client secret");
        break;
    case ClientAuthMethod::private_key_jwt:
        if (!auth.signing_key)
            return make_error(Errc::config, "client_signing_key_missing",
                              "private_key_jwt needs a signing key");
        if (auth.assertion_audience.empty())
            return make_error(Errc::config, "client_audience_missing",
                              "private_key_jwt needs the issuer as assertion audience");
        break;
    case ClientAuthMethod::tls_client_auth:
        break;
    }
    return {};
}

// Adds client authentication to `fields` / the request and encodes the body.
Result<HttpFormRequest> finish(const ClientAuth& auth, std::string_view endpoint,
                               std::vector<FormField> fields, SystemTime now) {
    PSC_TRY(check_endpoint(endpoint));
    PSC_TRY(check_auth(auth));
    HttpFormRequest req;
    req.url = std::string(endpoint);
    req.headers.push_back({"Content-Type", Secret("application/x-www-form-urlencoded")});
    req.headers.push_back({"Accept", Secret("application/json")});
    Secret assertion;
    switch (auth.method) {
    case ClientAuthMethod::client_secret_basic:
        req.headers.push_back(basic_authorization(auth.client_id, auth.client_secret->view()));
        break;
    case ClientAuthMethod::client_secret_post:
        fields.push_back({"client_id", auth.client_id});
        fields.push_back({"client_secret", auth.client_secret->view()});
        break;
    case ClientAuthMethod::tls_client_auth:
        // RFC 8705 §2.1: the client is identified by client_id and proves itself with the
        // certificate; the same applies to mtls_endpoint_aliases chosen by the caller.
        fields.push_back({"client_id", auth.client_id});
        req.mtls = true;
        break;
    case ClientAuthMethod::private_key_jwt: {
        auto a = make_client_assertion(auth, now);
        if (!a)
            return std::move(a).error();
        assertion = Secret::adopt(std::move(*a));
        fields.push_back({"client_id", auth.client_id});
        fields.push_back({"client_assertion_type", kJwtBearer});
        fields.push_back({"client_assertion", assertion.view()});
        break;
    }
    }
    req.body = form_encode(fields);
    return req;
}

bool ascii_iequal(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto l = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
        return l(x) == l(y);
    });
}

Status check_binding_message(std::string_view m) {
    bool ok = !m.empty() && m.size() <= kMaxBindingMessage;
    for (char c : m)
        ok = ok && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
    if (!ok)
        return make_error(Errc::internal, "ciba_bad_binding_message",
                          "binding_message must be 1-64 printable bytes");
    return {};
}

} // namespace

std::optional<ClientAuthMethod> client_auth_method_from_name(std::string_view n) noexcept {
    for (auto m : {ClientAuthMethod::client_secret_basic, ClientAuthMethod::client_secret_post,
                   ClientAuthMethod::tls_client_auth, ClientAuthMethod::private_key_jwt})
        if (client_auth_method_name(m) == n)
            return m;
    return std::nullopt;
}

std::string_view client_auth_method_name(ClientAuthMethod m) noexcept {
    switch (m) {
    case ClientAuthMethod::client_secret_basic:
        return "client_secret_basic";
    case ClientAuthMethod::client_secret_post:
        return "client_secret_post";
    case ClientAuthMethod::tls_client_auth:
        return "tls_client_auth";
    case ClientAuthMethod::private_key_jwt:
        return "private_key_jwt";
    }
    return "unknown";
}

const HttpHeader* HttpFormRequest::header(std::string_view name) const noexcept {
    for (const auto& h : headers)
        if (ascii_iequal(h.name, name))
            return &h;
    return nullptr;
}

Result<std::string> make_client_assertion(const ClientAuth& auth, SystemTime now) {
    PSC_TRY(check_auth(auth));
    if (auth.method != ClientAuthMethod::private_key_jwt)
        return make_error(Errc::internal, "client_auth_method", "not private_key_jwt");
    auto jti = random_token(32);
    if (!jti)
        return std::move(jti).error();
    const auto lifetime = std::clamp<std::int64_t>(auth.assertion_lifetime.count(), 1, 300);
    const std::int64_t iat =
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    JsonPtr claims(json_object_new_object());
    if (!claims)
        return make_error(Errc::internal, "oom", "cannot allocate JSON");
    auto str = [](std::string_view s) {
        return json_object_new_string_len(s.data(), static_cast<int>(s.size()));
    };
    json_object_object_add(claims.get(), "iss", str(auth.client_id));
    json_object_object_add(claims.get(), "sub", str(auth.client_id));
    json_object_object_add(claims.get(), "aud", str(auth.assertion_audience));
    json_object_object_add(claims.get(), "jti", str(*jti));
    json_object_object_add(claims.get(), "iat", json_object_new_int64(iat));
    json_object_object_add(claims.get(), "exp", json_object_new_int64(iat + lifetime));
    return jws_sign(*auth.signing_key, json_to_string(claims.get()));
}

Result<std::string> make_binding_message() {
    auto v = random_below(100);
    if (!v)
        return std::move(v).error();
    return std::string{static_cast<char>('0' + *v / 10), static_cast<char>('0' + *v % 10)};
}

Result<HttpFormRequest> build_code_token_request(const ClientAuth& auth,
                                                 std::string_view token_endpoint,
                                                 std::string_view code,
                                                 std::string_view redirect_uri,
                                                 std::string_view code_verifier, SystemTime now) {
    if (code.empty() || redirect_uri.empty() || code_verifier.empty())
        return invalid_request("code, redirect_uri or code_verifier");
    return finish(auth, token_endpoint,
                  {{"grant_type", "authorization_code"},
                   {"code", code},
                   {"redirect_uri", redirect_uri},
                   {"code_verifier", code_verifier}},
                  now);
}

Result<HttpFormRequest> build_refresh_request(const ClientAuth& auth,
                                              std::string_view token_endpoint,
                                              std::string_view refresh_token,
                                              std::string_view scope, SystemTime now) {
    if (refresh_token.empty())
        return invalid_request("refresh_token");
    std::vector<FormField> f{{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
    if (!scope.empty())
        f.push_back({"scope", scope});
    return finish(auth, token_endpoint, std::move(f), now);
}

Result<HttpFormRequest> build_ciba_auth_request(const ClientAuth& auth,
                                                std::string_view backchannel_endpoint,
                                                const CibaAuthParams& p, SystemTime now) {
    if (p.scope.empty())
        return invalid_request("scope");
    if (p.login_hint.empty())
        return make_error(Errc::unknown_user, "ciba_login_hint_missing",
                          "CIBA needs the user's identifier as login_hint");
    PSC_TRY(check_binding_message(p.binding_message));
    if (!p.channel.empty() && p.channel != "MOBILE" && p.channel != "CARD")
        return make_error(Errc::config, "ciba_bad_channel", "channel must be MOBILE or CARD");
    if (p.requested_expiry && *p.requested_expiry <= 0)
        return make_error(Errc::config, "ciba_bad_expiry", "requested_expiry must be positive");
    const std::string expiry = p.requested_expiry ? std::to_string(*p.requested_expiry) : "";
    std::vector<FormField> f{{"scope", p.scope}};
    if (!p.acr_values.empty())
        f.push_back({"acr_values", p.acr_values});
    f.push_back({"login_hint", p.login_hint});
    f.push_back({"binding_message", p.binding_message});
    if (!p.channel.empty())
        f.push_back({"channel", p.channel}); // PSC extension
    if (!expiry.empty())
        f.push_back({"requested_expiry", expiry});
    return finish(auth, backchannel_endpoint, std::move(f), now);
}

Result<HttpFormRequest> build_ciba_token_request(const ClientAuth& auth,
                                                 std::string_view token_endpoint,
                                                 std::string_view auth_req_id, SystemTime now) {
    if (auth_req_id.empty())
        return invalid_request("auth_req_id");
    return finish(auth, token_endpoint, {{"grant_type", kCibaGrant}, {"auth_req_id", auth_req_id}},
                  now);
}

Result<HttpFormRequest> build_device_authorization_request(const ClientAuth& auth,
                                                           std::string_view device_endpoint,
                                                           std::string_view scope, SystemTime now) {
    std::vector<FormField> f;
    if (!scope.empty())
        f.push_back({"scope", scope});
    return finish(auth, device_endpoint, std::move(f), now);
}

Result<HttpFormRequest> build_device_token_request(const ClientAuth& auth,
                                                   std::string_view token_endpoint,
                                                   std::string_view device_code, SystemTime now) {
    if (device_code.empty())
        return invalid_request("device_code");
    return finish(auth, token_endpoint,
                  {{"grant_type", kDeviceGrant}, {"device_code", device_code}}, now);
}

HttpRequest to_http_request(const HttpFormRequest& form) {
    HttpRequest http;
    http.method = form.method == "GET" ? HttpMethod::get : HttpMethod::post;
    http.url = form.url;
    http.body = std::string(form.body.view());
    http.client_cert = form.mtls;
    for (const auto& h : form.headers)
        http.headers.push_back(h.name + ": " + std::string(h.value.view()));
    return http;
}

} // namespace psc

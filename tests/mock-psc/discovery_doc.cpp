// SPDX-License-Identifier: LGPL-2.1-or-later
// The discovery document, served at PSC's non-standard wallet path. It mirrors PSC's (Keycloak's)
// metadata (fixtures/psc-discovery-2021-sandbox.json) plus what recent copies add: CIBA in poll
// mode, RFC 9207 iss, RFC 8705 mTLS aliases and the device endpoint Keycloak lists by default.
#include "provider.hpp"

namespace psc::mock {

namespace {

void set_list(json_object* doc, const char* key, std::initializer_list<const char*> values) {
    json_object* arr = json_object_new_array();
    for (const char* v : values)
        json_object_array_add(arr, json_object_new_string(v));
    json_object_object_add(doc, key, arr);
}

void set_bool(json_object* doc, const char* key, bool v) {
    json_object_object_add(doc, key, json_object_new_boolean(v));
}

void add_algorithm_lists(json_object* doc) {
    const auto sig = {"PS384", "ES384", "RS384", "HS256", "HS512", "ES256",
                      "RS256", "HS384", "ES512", "PS256", "PS512", "RS512"};
    set_list(doc, "id_token_signing_alg_values_supported", sig);
    set_list(doc, "userinfo_signing_alg_values_supported",
             {"PS384", "ES384", "RS384", "HS256", "HS512", "ES256", "RS256", "HS384", "ES512",
              "PS256", "PS512", "RS512", "none"});
    set_list(doc, "token_endpoint_auth_signing_alg_values_supported", sig);
    set_list(doc, "backchannel_authentication_request_signing_alg_values_supported",
             {"PS384", "ES384", "RS384", "ES256", "RS256", "ES512", "PS256", "PS512", "RS512"});
}

} // namespace

ServerResponse Provider::discovery(bool wrong_issuer) const {
    const std::string oidc = url(kOidcPath);
    const std::string mtls = base_url_ + std::string(kMtlsPrefix) + std::string(kOidcPath);
    JsonPtr doc = json_new_object();
    json_object* d = doc.get();
    json_set(d, "issuer", wrong_issuer ? base_url_ + "/auth/realms/other-realm" : issuer_);
    json_set(d, "authorization_endpoint", url(kAuthorizePath));
    json_set(d, "token_endpoint", oidc + "/token");
    json_set(d, "introspection_endpoint", oidc + "/token/introspect");
    json_set(d, "userinfo_endpoint", oidc + "/userinfo");
    if (!cfg_.options.no_end_session)
        json_set(d, "end_session_endpoint", oidc + "/logout");
    json_set(d, "jwks_uri", oidc + "/certs");
    json_set(d, "check_session_iframe", oidc + "/login-status-iframe.html");
    json_set(d, "device_authorization_endpoint", oidc + "/auth/device");
    json_set(d, "backchannel_authentication_endpoint", oidc + "/ext/ciba/auth");
    set_list(d, "grant_types_supported",
             {"authorization_code", "implicit", "refresh_token", "password", "client_credentials",
              "urn:ietf:params:oauth:grant-type:device_code", "urn:openid:params:grant-type:ciba"});
    set_list(d, "response_types_supported",
             {"code", "none", "id_token", "token", "id_token token", "code id_token", "code token",
              "code id_token token"});
    set_list(d, "subject_types_supported", {"public", "pairwise"});
    add_algorithm_lists(d);
    set_list(d, "response_modes_supported", {"query", "fragment", "form_post"});
    set_list(d, "token_endpoint_auth_methods_supported",
             {"private_key_jwt", "client_secret_basic", "client_secret_post", "tls_client_auth",
              "client_secret_jwt"});
    set_list(d, "claims_supported",
             {"aud", "sub", "iss", "auth_time", "name", "given_name", "family_name",
              "preferred_username", "email", "acr"});
    set_list(d, "scopes_supported",
             {"openid", "address", "email", "identity", "microprofile-jwt", "offline_access",
              "phone", "profile", "roles", "scope_1", "scope_2", "scope_all", "web-origins"});
    set_list(d, "acr_values_supported", {"eidas1"});
    set_list(d, "code_challenge_methods_supported", {"plain", "S256"});
    set_bool(d, "claims_parameter_supported", false);
    set_bool(d, "request_parameter_supported", true);
    set_bool(d, "request_uri_parameter_supported", true);
    set_bool(d, "tls_client_certificate_bound_access_tokens", true);
    set_bool(d, "authorization_response_iss_parameter_supported", true);
    set_list(d, "backchannel_token_delivery_modes_supported", {"poll"});
    set_bool(d, "backchannel_user_code_parameter_supported", false);
    JsonPtr aliases = json_new_object();
    json_set(aliases.get(), "token_endpoint", mtls + "/token");
    json_set(aliases.get(), "introspection_endpoint", mtls + "/token/introspect");
    json_set(aliases.get(), "userinfo_endpoint", mtls + "/userinfo");
    json_set(aliases.get(), "device_authorization_endpoint", mtls + "/auth/device");
    json_set(aliases.get(), "backchannel_authentication_endpoint", mtls + "/ext/ciba/auth");
    json_object_object_add(d, "mtls_endpoint_aliases", aliases.release());
    return ServerResponse::json(json_to_string(d));
}

} // namespace psc::mock

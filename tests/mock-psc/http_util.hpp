// SPDX-License-Identifier: LGPL-2.1-or-later
// Small pieces every mock-psc endpoint uses to read requests and shape answers the way Keycloak
// does (OAuth error bodies, no-store caching, redirects).
#pragma once

#include "https_server.hpp"
#include "json.hpp"
#include "result.hpp"
#include "strutil.hpp" // html_escape for every value placed in a page
#include "url.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace psc::mock {

using testing::ServerRequest;
using testing::ServerResponse;

// RFC 6749 §5.2 error body; token responses are never cached (RFC 6749 §5.1).
[[nodiscard]] ServerResponse oauth_error(unsigned status, std::string_view error,
                                         std::string_view description);
[[nodiscard]] ServerResponse json_response(const json_object* doc, unsigned status = 200);
[[nodiscard]] ServerResponse html_response(std::string body, unsigned status = 200);
[[nodiscard]] ServerResponse redirect_response(const std::string& location);

// An endpoint failure: reason = the OAuth error code, message = its error_description.
[[nodiscard]] Error oauth_failure(std::string_view code, std::string description);
// Whether a space-separated list (scope, acr_values) contains `word`.
[[nodiscard]] bool has_word(std::string_view list, std::string_view word);

// "base?k=v&…" (or "&" when base has a query already); values percent-encoded.
[[nodiscard]] std::string
append_query(std::string base,
             std::initializer_list<std::pair<std::string_view, std::string_view>> params);
[[nodiscard]] std::string
append_query(std::string base, const std::vector<std::pair<std::string, std::string>>& params);

// The request's parameters: the form body for POST (which must be
// application/x-www-form-urlencoded), the query for GET. Reasons: form_content_type, url_*.
[[nodiscard]] Result<QueryParams> request_params(const ServerRequest& req);
// Value or empty string.
[[nodiscard]] std::string param(const QueryParams& p, std::string_view name);
[[nodiscard]] bool has_param(const QueryParams& p, std::string_view name);

// "Bearer <token>" from the Authorization header (RFC 6750 §2.1), or empty.
[[nodiscard]] std::string bearer_token(const ServerRequest& req);

// Adds a string / int member.
void json_set(json_object* obj, const char* key, std::string_view value);
void json_set(json_object* obj, const char* key, std::int64_t value);
void json_set_strings(json_object* obj, const char* key, const std::vector<std::string>& values);
[[nodiscard]] JsonPtr json_new_object();

} // namespace psc::mock

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "http_util.hpp"

#include "strutil.hpp"

#include <cctype>

namespace psc::mock {

namespace {

void no_store(ServerResponse& r) {
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Pragma", "no-cache");
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size())
        return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(s[i])) !=
            std::tolower(static_cast<unsigned char>(prefix[i])))
            return false;
    return true;
}

} // namespace

Error oauth_failure(std::string_view code, std::string description) {
    return make_error(Errc::invalid, std::string(code), std::move(description));
}

bool has_word(std::string_view list, std::string_view word) {
    for (const auto& w : split_ws(list))
        if (w == word)
            return true;
    return false;
}

JsonPtr json_new_object() {
    return JsonPtr(json_object_new_object());
}

void json_set(json_object* obj, const char* key, std::string_view value) {
    json_object_object_add(
        obj, key, json_object_new_string_len(value.data(), static_cast<int>(value.size())));
}

void json_set(json_object* obj, const char* key, std::int64_t value) {
    json_object_object_add(obj, key, json_object_new_int64(value));
}

void json_set_strings(json_object* obj, const char* key, const std::vector<std::string>& values) {
    json_object* arr = json_object_new_array();
    for (const auto& v : values)
        json_object_array_add(arr, json_object_new_string(v.c_str()));
    json_object_object_add(obj, key, arr);
}

ServerResponse json_response(const json_object* doc, unsigned status) {
    ServerResponse r = ServerResponse::json(json_to_string(doc), status);
    no_store(r);
    return r;
}

ServerResponse oauth_error(unsigned status, std::string_view error, std::string_view description) {
    JsonPtr doc = json_new_object();
    json_set(doc.get(), "error", error);
    if (!description.empty())
        json_set(doc.get(), "error_description", description);
    return json_response(doc.get(), status);
}

ServerResponse html_response(std::string body, unsigned status) {
    ServerResponse r;
    r.status = status;
    r.content_type = "text/html; charset=utf-8";
    r.body = std::move(body);
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
    r.headers.emplace_back("X-Frame-Options", "DENY");
    no_store(r);
    return r;
}

ServerResponse redirect_response(const std::string& location) {
    ServerResponse r;
    r.status = 302;
    r.content_type.clear();
    r.headers.emplace_back("Location", location);
    no_store(r);
    return r;
}

std::string append_query(std::string base,
                         const std::vector<std::pair<std::string, std::string>>& params) {
    char sep = base.find('?') == std::string::npos ? '?' : '&';
    for (const auto& [k, v] : params) {
        base += sep;
        base += percent_encode(k);
        base += '=';
        base += percent_encode(v);
        sep = '&';
    }
    return base;
}

std::string
append_query(std::string base,
             std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto& [k, val] : params)
        v.emplace_back(std::string(k), std::string(val));
    return append_query(std::move(base), v);
}

Result<QueryParams> request_params(const ServerRequest& req) {
    if (req.method == "POST") {
        if (!iequals_prefix(req.header("content-type"), "application/x-www-form-urlencoded"))
            return make_error(Errc::invalid, "form_content_type",
                              "the body must be application/x-www-form-urlencoded");
        return parse_query(req.body, 64 * 1024);
    }
    // RFC 6749 §3.1: parameters must not be repeated.
    QueryParams out;
    for (const auto& [k, v] : req.query) {
        if (query_find(out, k))
            return make_error(Errc::invalid, "url_duplicate_param", "repeated parameter " + k);
        out.push_back(QueryParam{k, v});
    }
    return out;
}

std::string param(const QueryParams& p, std::string_view name) {
    const std::string* v = query_find(p, name);
    return v ? *v : std::string();
}

bool has_param(const QueryParams& p, std::string_view name) {
    return query_find(p, name) != nullptr;
}

std::string bearer_token(const ServerRequest& req) {
    const std::string h = req.header("authorization");
    if (!iequals_prefix(h, "Bearer "))
        return {};
    return std::string(trim(std::string_view(h).substr(7)));
}

} // namespace psc::mock

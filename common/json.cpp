// SPDX-License-Identifier: LGPL-2.1-or-later
#include "json.hpp"

#include <cmath>
#include <limits>

namespace psc {
namespace {

using Tokener = Owned<json_tokener, json_tokener_free>;

Error type_error(const char* key, const char* want) {
    return make_error(Errc::invalid, "json_type",
                      std::string("member \"") + key + "\" is not " + want);
}

bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// json-c's strict mode still accepts single-quoted strings; RFC 8259 does not. Refuse a quote
// outside a double-quoted string so we never read a document other JOSE parsers would reject.
bool has_single_quote_outside_strings(std::string_view text) {
    bool in_string = false;
    bool escaped = false;
    for (char c : text) {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '\'') {
            return true;
        }
    }
    return false;
}

Result<std::string_view> string_value(json_object* v, const char* key) {
    if (!json_object_is_type(v, json_type_string))
        return type_error(key, "a string");
    const int len = json_object_get_string_len(v);
    std::string_view s(json_object_get_string(v), static_cast<std::size_t>(len));
    if (s.find('\0') != std::string_view::npos)
        return make_error(Errc::invalid, "json_nul",
                          std::string("member \"") + key + "\" contains a NUL character");
    return s;
}

// A tokener per depth limit and thread, reset between documents: creating one allocates its
// whole depth stack, a measurable share of validating a small ID token.
json_tokener* cached_tokener(int depth) {
    struct Slot {
        int depth = -1;
        Tokener tok;
    };
    thread_local Slot slots[2];
    for (auto& slot : slots)
        if (slot.depth == depth && slot.tok) {
            json_tokener_reset(slot.tok.get());
            return slot.tok.get();
        }
    Slot& victim = slots[0].depth == -1 || slots[1].depth != -1 ? slots[0] : slots[1];
    victim.tok.reset(json_tokener_new_ex(depth));
    victim.depth = victim.tok ? depth : -1;
    if (victim.tok)
        json_tokener_set_flags(victim.tok.get(), JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    return victim.tok.get();
}

} // namespace

Result<JsonPtr> json_parse(std::string_view text, const JsonLimits& limits) {
    if (text.size() > limits.max_bytes)
        return make_error(Errc::invalid, "json_too_large",
                          "JSON document of " + std::to_string(text.size()) +
                              " bytes exceeds the limit of " + std::to_string(limits.max_bytes));
    if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        return make_error(Errc::invalid, "json_too_large", "JSON document too large");
    json_tokener* tok = cached_tokener(limits.max_depth);
    if (!tok)
        return make_error(Errc::internal, "oom", "cannot allocate JSON tokener");
    JsonPtr obj(json_tokener_parse_ex(tok, text.data(), static_cast<int>(text.size())));
    const json_tokener_error err = json_tokener_get_error(tok);
    if (err != json_tokener_success || !obj) {
        if (err == json_tokener_error_depth)
            return make_error(Errc::invalid, "json_too_deep",
                              "JSON nesting deeper than " + std::to_string(limits.max_depth));
        if (err == json_tokener_continue)
            return make_error(Errc::invalid, "json_syntax", "truncated JSON document");
        // A bare "null" parses to a NULL object with success; treat it as not a document.
        return make_error(Errc::invalid, "json_syntax",
                          std::string("malformed JSON: ") + (err == json_tokener_success
                                                                 ? "null document"
                                                                 : json_tokener_error_desc(err)));
    }
    if (has_single_quote_outside_strings(text))
        return make_error(Errc::invalid, "json_syntax", "malformed JSON: single-quoted string");
    const std::size_t end = json_tokener_get_parse_end(tok);
    for (std::size_t i = end; i < text.size(); ++i)
        if (!is_ws(text[i]))
            return make_error(Errc::invalid, "json_syntax", "trailing data after JSON value");
    return obj;
}

Result<JsonPtr> json_parse_object(std::string_view text, const JsonLimits& limits) {
    auto r = json_parse(text, limits);
    if (!r)
        return r;
    if (!json_object_is_type(r->get(), json_type_object))
        return make_error(Errc::invalid, "json_not_object", "JSON document is not an object");
    return r;
}

json_object* json_member(const json_object* obj, const char* key) noexcept {
    json_object* v = nullptr;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return nullptr;
    if (!json_object_object_get_ex(obj, key, &v))
        return nullptr;
    return v;
}

Result<JsonString> json_get_string(const json_object* obj, const char* key) {
    json_object* v = nullptr;
    if (!obj || !json_object_object_get_ex(obj, key, &v))
        return JsonString{};
    auto s = string_value(v, key);
    if (!s)
        return std::move(s).error();
    return JsonString{*s};
}

Result<std::optional<std::int64_t>> json_get_int64(const json_object* obj, const char* key) {
    json_object* v = nullptr;
    if (!obj || !json_object_object_get_ex(obj, key, &v))
        return std::optional<std::int64_t>{};
    if (json_object_is_type(v, json_type_int)) {
        // json-c stores values above INT64_MAX as uint64 and clamps get_int64(); detect that.
        const std::uint64_t u = json_object_get_uint64(v);
        const std::int64_t i = json_object_get_int64(v);
        if (i == std::numeric_limits<std::int64_t>::max() &&
            u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return type_error(key, "an integer in range");
        return std::optional<std::int64_t>{i};
    }
    if (json_object_is_type(v, json_type_double)) {
        const double d = json_object_get_double(v);
        // 2^63 is exactly representable; anything at or beyond it does not fit.
        if (!std::isfinite(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0)
            return type_error(key, "a number in range");
        return std::optional<std::int64_t>{static_cast<std::int64_t>(d)};
    }
    return type_error(key, "a number");
}

Result<std::optional<bool>> json_get_bool(const json_object* obj, const char* key) {
    json_object* v = nullptr;
    if (!obj || !json_object_object_get_ex(obj, key, &v))
        return std::optional<bool>{};
    if (!json_object_is_type(v, json_type_boolean))
        return type_error(key, "a boolean");
    return std::optional<bool>{json_object_get_boolean(v) != 0};
}

Result<std::optional<std::vector<std::string>>> json_get_string_array(const json_object* obj,
                                                                      const char* key) {
    json_object* v = nullptr;
    if (!obj || !json_object_object_get_ex(obj, key, &v))
        return std::optional<std::vector<std::string>>{};
    if (!json_object_is_type(v, json_type_array))
        return type_error(key, "an array");
    std::vector<std::string> out;
    const std::size_t n = json_object_array_length(v);
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto s = string_value(json_object_array_get_idx(v, i), key);
        if (!s)
            return make_error(Errc::invalid, "json_type",
                              std::string("member \"") + key + "\" is not an array of strings");
        out.emplace_back(*s);
    }
    return std::optional<std::vector<std::string>>{std::move(out)};
}

Result<std::optional<std::vector<std::string>>> json_get_string_or_array(const json_object* obj,
                                                                         const char* key) {
    json_object* v = nullptr;
    if (!obj || !json_object_object_get_ex(obj, key, &v))
        return std::optional<std::vector<std::string>>{};
    if (json_object_is_type(v, json_type_string)) {
        auto s = string_value(v, key);
        if (!s)
            return std::move(s).error();
        return std::optional<std::vector<std::string>>{std::vector<std::string>{std::string(*s)}};
    }
    return json_get_string_array(obj, key);
}

Result<json_object*> json_get_object(const json_object* obj, const char* key) {
    json_object* v = nullptr;
    if (!obj || !json_object_object_get_ex(obj, key, &v))
        return static_cast<json_object*>(nullptr);
    if (!json_object_is_type(v, json_type_object))
        return type_error(key, "an object");
    return v;
}

std::string json_to_string(const json_object* obj, bool pretty) {
    const int flags = (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
                      JSON_C_TO_STRING_NOSLASHESCAPE;
    return json_object_to_json_string_ext(const_cast<json_object*>(obj), flags);
}

} // namespace psc

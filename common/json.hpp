// SPDX-License-Identifier: LGPL-2.1-or-later
// json-c with limits. Untrusted JSON (tokens, provider documents, UserInfo) is parsed only through
// json_parse(): size cap checked before the first byte is read, nesting depth capped in the
// tokener, strict RFC 8259 grammar, UTF-8 validated, nothing but whitespace after the value.
// Accessors tell "missing" (nullopt) from "present but wrong type" (error), and strings with an
// embedded NUL are refused so nothing downstream can be fooled by C-string truncation.
#pragma once

#include "owned.hpp"
#include "result.hpp"

#include <cstdint>
#include <json-c/json.h>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

using JsonPtr = Owned<json_object, json_object_put>;

// design §9: JSON depth 32 by default ([limits] json_max_depth); the OIDC parsers take the
// configured value through their options and use this when none is given.
inline constexpr int kJsonMaxDepth = 32;

struct JsonLimits {
    std::size_t max_bytes = 256 * 1024; // design §9: HTTP response 256 KiB
    int max_depth = kJsonMaxDepth;
};

// Parses any JSON value.
[[nodiscard]] Result<JsonPtr> json_parse(std::string_view text, const JsonLimits& limits = {});
// Parses and requires a top-level object (every OIDC document and JOSE header/claims set is one).
[[nodiscard]] Result<JsonPtr> json_parse_object(std::string_view text,
                                                const JsonLimits& limits = {});

// Member lookup; nullptr when absent (a JSON null member counts as absent for accessors below only
// if the caller says so — here null is "present, wrong type").
[[nodiscard]] json_object* json_member(const json_object* obj, const char* key) noexcept;

using JsonString = std::optional<std::string_view>;

// Present-and-string → view into obj (valid while obj lives); absent → nullopt; else error.
[[nodiscard]] Result<JsonString> json_get_string(const json_object* obj, const char* key);
// Integers; a finite JSON number with a fraction is truncated toward zero (RFC 7519 NumericDate
// allows fractions). Values outside int64 are errors.
[[nodiscard]] Result<std::optional<std::int64_t>> json_get_int64(const json_object* obj,
                                                                 const char* key);
[[nodiscard]] Result<std::optional<bool>> json_get_bool(const json_object* obj, const char* key);
// A string, or an array of strings (the shape of "aud"). Absent → empty optional.
[[nodiscard]] Result<std::optional<std::vector<std::string>>>
json_get_string_or_array(const json_object* obj, const char* key);
// An array of strings only.
[[nodiscard]] Result<std::optional<std::vector<std::string>>>
json_get_string_array(const json_object* obj, const char* key);
// A nested object (borrowed pointer); absent → nullptr; other type → error.
[[nodiscard]] Result<json_object*> json_get_object(const json_object* obj, const char* key);

// Serialise compactly (for `pscctl` output and tests).
[[nodiscard]] std::string json_to_string(const json_object* obj, bool pretty = false);

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// How pscctl writes for people and for scripts: colour only on a terminal and never with NO_COLOR
// (https://no-color.org) or TERM=dumb; progress lines only when standard error is a terminal;
// --json output as one JSON document on standard output (json-c, pretty, UTF-8 kept as is).
#pragma once

#include "json.hpp"
#include "result.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace psc::ctl {

enum class Tone { good, bad, warn };

// Whether text written to `f` may carry colour: `f` is a terminal, NO_COLOR is unset or empty,
// TERM is not "dumb".
[[nodiscard]] bool color_enabled(std::FILE* f);
// `text` wrapped in the tone's colour when color_enabled(f), else `text` unchanged.
[[nodiscard]] std::string paint(std::FILE* f, Tone tone, std::string_view text);
// Whether progress lines ("waiting... 40 s left") may be written: standard error is a terminal.
[[nodiscard]] bool progress_enabled();

// JSON building on json-c. Strings go through strip_control() first, so a script never sees a
// control character a provider or the daemon slipped in (JSON would escape it, but a consumer
// printing the value would not).
[[nodiscard]] JsonPtr json_new_object();
[[nodiscard]] JsonPtr json_new_array();
void json_put(json_object* obj, const char* key, JsonPtr value);
void json_put_string(json_object* obj, const char* key, std::string_view value);
void json_put_int(json_object* obj, const char* key, std::int64_t value);
void json_put_bool(json_object* obj, const char* key, bool value);
void json_put_null(json_object* obj, const char* key);
void json_put_strings(json_object* obj, const char* key, const std::vector<std::string>& values);
void json_append(json_object* array, JsonPtr value);
void json_append_string(json_object* array, std::string_view value);
// An error as {"class": "denied", "reason": "...", "message": "..."}.
[[nodiscard]] JsonPtr json_error(const Error& e);
// Writes the document and a newline to standard output, pretty-printed.
void json_print(const json_object* doc);
// One document per line (JSON Lines, for pscctl login's events).
void json_print_line(const json_object* doc);

} // namespace psc::ctl

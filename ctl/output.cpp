// SPDX-License-Identifier: LGPL-2.1-or-later
#include "output.hpp"

#include "errors.hpp"
#include "strutil.hpp"

#include <cstdlib>
#include <unistd.h>

namespace psc::ctl {

bool color_enabled(std::FILE* f) {
    const char* no_color = std::getenv("NO_COLOR");
    if (no_color != nullptr && *no_color != '\0')
        return false;
    const char* term = std::getenv("TERM");
    if (term != nullptr && std::string_view(term) == "dumb")
        return false;
    return ::isatty(::fileno(f)) == 1;
}

std::string paint(std::FILE* f, Tone tone, std::string_view text) {
    if (!color_enabled(f))
        return std::string(text);
    const char* start = tone == Tone::good ? "\033[32m" : tone == Tone::bad ? "\033[1;31m"
                                                                           : "\033[33m";
    return start + std::string(text) + "\033[0m";
}

bool progress_enabled() {
    return ::isatty(STDERR_FILENO) == 1;
}

JsonPtr json_new_object() {
    JsonPtr o(json_object_new_object());
    if (!o)
        throw std::bad_alloc();
    return o;
}

JsonPtr json_new_array() {
    JsonPtr a(json_object_new_array());
    if (!a)
        throw std::bad_alloc();
    return a;
}

namespace {

JsonPtr checked(json_object* v) {
    if (v == nullptr)
        throw std::bad_alloc();
    return JsonPtr(v);
}

JsonPtr json_text(std::string_view value) {
    const std::string clean = strip_control(std::string(value));
    return checked(json_object_new_string_len(clean.data(), static_cast<int>(clean.size())));
}

} // namespace

void json_put(json_object* obj, const char* key, JsonPtr value) {
    // json_object_object_add takes the reference, also for a null value.
    if (json_object_object_add(obj, key, value.get()) != 0)
        throw std::bad_alloc();
    (void)value.release();
}

void json_put_string(json_object* obj, const char* key, std::string_view value) {
    json_put(obj, key, json_text(value));
}

void json_put_int(json_object* obj, const char* key, std::int64_t value) {
    json_put(obj, key, checked(json_object_new_int64(value)));
}

void json_put_bool(json_object* obj, const char* key, bool value) {
    json_put(obj, key, checked(json_object_new_boolean(value ? 1 : 0)));
}

void json_put_null(json_object* obj, const char* key) {
    if (json_object_object_add(obj, key, nullptr) != 0)
        throw std::bad_alloc();
}

void json_put_strings(json_object* obj, const char* key, const std::vector<std::string>& values) {
    auto a = json_new_array();
    for (const auto& v : values)
        json_append_string(a.get(), v);
    json_put(obj, key, std::move(a));
}

void json_append(json_object* array, JsonPtr value) {
    if (json_object_array_add(array, value.get()) != 0)
        throw std::bad_alloc();
    (void)value.release();
}

void json_append_string(json_object* array, std::string_view value) {
    json_append(array, json_text(value));
}

JsonPtr json_error(const Error& e) {
    auto o = json_new_object();
    json_put_string(o.get(), "class", errc_label(e.code));
    json_put_string(o.get(), "reason", e.reason);
    json_put_string(o.get(), "message", e.message);
    return o;
}

void json_print(const json_object* doc) {
    std::printf("%s\n", json_to_string(doc, true).c_str());
    std::fflush(stdout);
}

void json_print_line(const json_object* doc) {
    std::printf("%s\n", json_to_string(doc, false).c_str());
    std::fflush(stdout);
}

} // namespace psc::ctl

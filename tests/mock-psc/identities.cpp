// SPDX-License-Identifier: LGPL-2.1-or-later
#include "identities.hpp"

#include "file_io.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

namespace psc::mock {

namespace {

Error field_error(std::string_view what) {
    return make_error(Errc::invalid, "identity_field", std::string(what));
}

Result<std::string> required_string(const json_object* obj, const char* key) {
    auto v = json_get_string(obj, key);
    if (!v || !v->has_value() || (*v)->empty())
        return field_error(std::string("\"") + key + "\" must be a non-empty string");
    return std::string(**v);
}

Result<std::int64_t> optional_count(const json_object* obj, const char* key, std::int64_t dflt) {
    auto v = json_get_int64(obj, key);
    if (!v)
        return make_error(Errc::invalid, "ciba_script", std::string(key) + " must be a number");
    if (!v->has_value())
        return dflt;
    if (**v < 0 || **v > 86400)
        return make_error(Errc::invalid, "ciba_script", std::string(key) + " out of range");
    return **v;
}

} // namespace

Result<CibaOutcome> ciba_outcome_from_name(std::string_view name) {
    if (name == "approve")
        return CibaOutcome::approve;
    if (name == "deny")
        return CibaOutcome::deny;
    if (name == "never")
        return CibaOutcome::never;
    return make_error(Errc::invalid, "ciba_script",
                      "outcome must be approve, deny or never, not \"" + std::string(name) + "\"");
}

std::string_view ciba_outcome_name(CibaOutcome o) noexcept {
    switch (o) {
    case CibaOutcome::approve:
        return "approve";
    case CibaOutcome::deny:
        return "deny";
    case CibaOutcome::never:
        return "never";
    }
    return "?";
}

Result<CibaScript> parse_ciba_script(const json_object* obj, CibaScript base) {
    if (!obj || !json_object_is_type(obj, json_type_object))
        return make_error(Errc::invalid, "ciba_script", "a CIBA script must be a JSON object");
    auto outcome = json_get_string(obj, "outcome");
    if (!outcome)
        return make_error(Errc::invalid, "ciba_script", "outcome must be a string");
    if (outcome->has_value()) {
        auto o = ciba_outcome_from_name(**outcome);
        if (!o)
            return std::move(o).error();
        base.outcome = *o;
    }
    auto after = optional_count(obj, "approve_after", base.approve_after.count());
    if (!after)
        return std::move(after).error();
    base.approve_after = std::chrono::seconds(*after);
    auto slow = optional_count(obj, "slow_down_on_poll", base.slow_down_on_poll);
    if (!slow)
        return std::move(slow).error();
    base.slow_down_on_poll = static_cast<int>(*slow);
    return base;
}

Result<Identity> parse_identity(std::string_view json) {
    auto doc = json_parse_object(json);
    if (!doc)
        return make_error(Errc::invalid, "identity_json", doc.error().describe());
    Identity id;
    auto idnat = required_string(doc->get(), "idNat");
    auto mode = required_string(doc->get(), "authMode");
    if (!idnat || !mode)
        return !idnat ? std::move(idnat).error() : std::move(mode).error();
    id.idnat = *idnat;
    id.auth_mode = *mode;
    if (id.auth_mode != "CARD" && id.auth_mode != "MOBILE")
        return field_error("authMode must be CARD or MOBILE");
    if (auto d = json_get_string(doc->get(), "description"); d && d->has_value())
        id.description = std::string(**d);
    auto userinfo = json_get_object(doc->get(), "userinfo");
    if (!userinfo || !*userinfo)
        return field_error("\"userinfo\" must be an object");
    auto sub = required_string(*userinfo, "sub");
    auto name_id = required_string(*userinfo, "SubjectNameID");
    if (!sub || !name_id || *name_id != id.idnat)
        return field_error("userinfo needs a sub and a SubjectNameID equal to idNat");
    id.sub = *sub;
    id.userinfo_json = json_to_string(*userinfo);
    if (json_object* ciba = json_member(doc->get(), "ciba")) {
        auto script = parse_ciba_script(ciba, {});
        if (!script)
            return std::move(script).error();
        id.ciba = *script;
    }
    return id;
}

Result<std::map<std::string, Identity>> load_identities(const std::string& dir) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
        if (entry.path().extension() == ".json")
            files.push_back(entry.path());
    if (ec)
        return make_error(Errc::io, "identity_dir", dir + ": " + ec.message());
    std::sort(files.begin(), files.end());
    std::map<std::string, Identity> out;
    for (const auto& path : files) {
        auto data = read_file_checked(path.string(), FileRules{.max_bytes = 256 * 1024});
        if (!data)
            return std::move(data).error();
        auto id = parse_identity(data->content);
        if (!id) {
            Error e = std::move(id).error();
            e.message = path.string() + ": " + e.message;
            return e;
        }
        if (out.count(id->idnat))
            return make_error(Errc::invalid, "identity_duplicate",
                              path.string() + ": idNat " + id->idnat + " defined twice");
        std::string key = id->idnat;
        out.emplace(std::move(key), std::move(*id));
    }
    if (out.empty())
        return make_error(Errc::invalid, "identity_none", dir + " holds no *.json identity");
    return out;
}

} // namespace psc::mock

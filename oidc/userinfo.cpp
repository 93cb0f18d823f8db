// SPDX-License-Identifier: LGPL-2.1-or-later
#include "userinfo.hpp"

#include "strutil.hpp"

#include <algorithm>
#include <utility>

namespace psc {
namespace {

Error ui_error(std::string reason, std::string message) {
    return make_error(Errc::invalid, std::move(reason), std::move(message));
}

Error claim_type_error(const Error& e) {
    return ui_error("userinfo_claim_type", e.message);
}

// OIDC Core §5.3.2: a signed UserInfo response names its issuer and the client as audience.
Status check_signed_claims(const json_object* claims, const UserInfoCheck& check) {
    auto iss = json_get_string(claims, "iss");
    if (!iss)
        return claim_type_error(iss.error());
    if (!iss->has_value() || **iss != check.issuer)
        return ui_error("userinfo_iss_mismatch",
                        iss->has_value()
                            ? "signed UserInfo from issuer \"" + strip_control(**iss) + "\""
                            : "signed UserInfo without iss");
    auto aud = json_get_string_or_array(claims, "aud");
    if (!aud)
        return claim_type_error(aud.error());
    if (!aud->has_value() ||
        std::find((*aud)->begin(), (*aud)->end(), check.client_id) == (*aud)->end())
        return ui_error("userinfo_aud_mismatch", "signed UserInfo not addressed to this client");
    return {};
}

Result<UserInfo> from_claims(std::string_view json, const UserInfoCheck& check, bool was_signed) {
    auto doc = json_parse_object(json, JsonLimits{check.max_bytes, check.json_max_depth});
    if (!doc)
        return ui_error("userinfo_json", "UserInfo: " + doc.error().describe());
    if (was_signed)
        PSC_TRY(check_signed_claims(doc->get(), check));
    auto sub = json_get_string(doc->get(), "sub");
    if (!sub)
        return claim_type_error(sub.error());
    if (!sub->has_value() || (*sub)->empty())
        return ui_error("userinfo_sub_missing", "UserInfo has no sub");
    // OIDC Core §5.3.4: a different sub means a substituted response; it must not be used.
    if (**sub != check.expected_sub)
        return ui_error("userinfo_sub_mismatch", "UserInfo sub differs from the ID token's sub");
    UserInfo info;
    info.sub = std::string(**sub);
    info.claims = std::move(*doc);
    info.was_signed = was_signed;
    return info;
}

Result<UserInfo> from_jwt(std::string_view body, const UserInfoCheck& check) {
    if (!check.keys)
        return ui_error("userinfo_no_keys", "signed UserInfo but no provider keys");
    JwsVerifyPolicy policy = check.policy;
    policy.max_bytes = check.max_bytes;
    auto v = jws_verify(trim(body), *check.keys, policy);
    if (!v)
        return std::move(v).error();
    return from_claims(v->payload, check, true);
}

// A member that must be an array when present; nullptr when absent.
Result<json_object*> array_member(const json_object* obj, const char* key) {
    json_object* v = json_member(obj, key);
    if (v && !json_object_is_type(v, json_type_array))
        return ui_error("userinfo_claim_type",
                        std::string("member \"") + key + "\" is not an array");
    return v;
}

void add_distinct(std::vector<std::string>& out, std::string_view s) {
    if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end())
        out.emplace_back(s);
}

// The string `field` of every object in array `array_key` of `parent`.
Result<std::vector<std::string>> strings_of_entries(const json_object* parent,
                                                    const char* array_key, const char* field) {
    std::vector<std::string> out;
    auto arr = array_member(parent, array_key);
    if (!arr)
        return std::move(arr).error();
    if (!*arr)
        return out;
    const std::size_t n = json_object_array_length(*arr);
    for (std::size_t i = 0; i < n; ++i) {
        const json_object* entry = json_object_array_get_idx(*arr, i);
        if (!json_object_is_type(entry, json_type_object))
            return ui_error("userinfo_claim_type",
                            std::string("an entry of \"") + array_key + "\" is not an object");
        auto v = json_get_string(entry, field);
        if (!v)
            return claim_type_error(v.error());
        if (v->has_value())
            add_distinct(out, **v);
    }
    return out;
}

Result<std::vector<std::string>> exercice_field(const UserInfo& info, const char* field) {
    auto refpro = json_get_object(info.claims.get(), "SubjectRefPro");
    if (!refpro)
        return claim_type_error(refpro.error());
    if (!*refpro)
        return std::vector<std::string>{};
    return strings_of_entries(*refpro, "exercices", field);
}

Result<std::optional<std::string>> optional_string(const UserInfo& info, const char* claim) {
    auto v = json_get_string(info.claims.get(), claim);
    if (!v)
        return claim_type_error(v.error());
    if (!v->has_value() || (*v)->empty())
        return std::optional<std::string>{};
    return std::optional<std::string>{std::string(**v)};
}

} // namespace

Result<UserInfo> parse_userinfo_body(std::string_view body, std::string_view content_type,
                                     const UserInfoCheck& check) {
    if (body.size() > check.max_bytes)
        return ui_error("userinfo_too_large",
                        "UserInfo of " + std::to_string(body.size()) + " bytes");
    const std::string media = http_media_type(content_type);
    if (media == "application/json")
        return from_claims(body, check, false);
    if (media == "application/jwt")
        return from_jwt(body, check);
    return ui_error("userinfo_content_type",
                    "UserInfo content type \"" + strip_control(media) + "\" is not JSON or JWT");
}

Result<UserInfo> parse_userinfo(const HttpResponse& response, const UserInfoCheck& check) {
    if (response.status != 200)
        return make_error(Errc::unavailable, "userinfo_status",
                          "UserInfo answered HTTP " + std::to_string(response.status));
    return parse_userinfo_body(response.body, response.content_type, check);
}

Result<std::optional<std::string>> userinfo_idnat(const UserInfo& info, std::string_view claim) {
    return optional_string(info, std::string(claim).c_str());
}

Result<std::optional<std::string>> userinfo_auth_mode(const UserInfo& info) {
    return optional_string(info, "authMode");
}

Result<std::vector<std::string>> userinfo_professions(const UserInfo& info) {
    return exercice_field(info, "codeProfession");
}

Result<std::vector<std::string>> userinfo_categories(const UserInfo& info) {
    return exercice_field(info, "codeCategorieProfessionnelle");
}

Result<std::optional<std::vector<PscExercice>>> userinfo_exercices(const UserInfo& info) {
    using Out = std::optional<std::vector<PscExercice>>;
    auto refpro = json_get_object(info.claims.get(), "SubjectRefPro");
    if (!refpro)
        return claim_type_error(refpro.error());
    if (!*refpro)
        return Out{};
    json_object* list = json_member(*refpro, "exercices");
    if (!list)
        return Out{};
    if (!json_object_is_type(list, json_type_array))
        return ui_error("userinfo_claim_type", "\"exercices\" is not an array");
    std::vector<PscExercice> out;
    for (std::size_t i = 0; i < json_object_array_length(list); ++i) {
        const json_object* entry = json_object_array_get_idx(list, i);
        if (!json_object_is_type(entry, json_type_object))
            return ui_error("userinfo_claim_type", "an entry of \"exercices\" is not an object");
        auto prof = json_get_string(entry, "codeProfession");
        auto cat = json_get_string(entry, "codeCategorieProfessionnelle");
        if (!prof)
            return claim_type_error(prof.error());
        if (!cat)
            return claim_type_error(cat.error());
        out.push_back({std::string(prof->value_or("")), std::string(cat->value_or(""))});
    }
    return Out{std::move(out)};
}

Result<std::vector<PscOtherId>> userinfo_other_ids(const UserInfo& info, std::string_view claim) {
    std::vector<PscOtherId> out;
    const std::string key(claim);
    auto arr = array_member(info.claims.get(), key.c_str());
    if (!arr)
        return std::move(arr).error();
    if (!*arr)
        return out;
    for (std::size_t i = 0; i < json_object_array_length(*arr); ++i) {
        const json_object* entry = json_object_array_get_idx(*arr, i);
        if (!json_object_is_type(entry, json_type_object))
            return ui_error("userinfo_claim_type", "an entry of \"" + key + "\" is not an object");
        auto id = json_get_string(entry, "identifiant");
        auto origin = json_get_string(entry, "origine");
        if (!id)
            return claim_type_error(id.error());
        if (!origin)
            return claim_type_error(origin.error());
        if (id->has_value() && !(*id)->empty())
            out.push_back({std::string(**id), std::string(origin->value_or(""))});
    }
    return out;
}

} // namespace psc

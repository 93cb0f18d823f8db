// SPDX-License-Identifier: LGPL-2.1-or-later
#include "pages.hpp"

#include "http_util.hpp"
#include "json.hpp"

namespace psc::mock {

namespace {

constexpr std::string_view kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f2f5f9;margin:0;color:#1e1e1e}
header{background:#00338d;color:#fff;padding:14px 24px;font-weight:600;letter-spacing:.3px}
header small{font-weight:400;opacity:.8;margin-left:8px}
main{max-width:560px;margin:32px auto;background:#fff;border-radius:8px;padding:28px 32px;box-shadow:0 2px 10px rgba(0,0,0,.08)}
h1{font-size:1.3rem;margin-top:0;color:#00338d}
label{display:block;margin:14px 0 6px;font-weight:600}
input[type=text],select{width:100%;padding:9px;font-size:1rem;border:1px solid #b8c2cc;border-radius:4px;box-sizing:border-box}
.modes{display:flex;gap:12px}.modes label{flex:1;border:1px solid #b8c2cc;border-radius:6px;padding:12px;font-weight:500;cursor:pointer}
button{margin-top:20px;padding:10px 18px;font-size:1rem;border-radius:4px;border:0;cursor:pointer}
.primary{background:#00338d;color:#fff}.secondary{background:#e3e8ef;color:#1e1e1e;margin-left:8px}
.error{background:#fde8e8;color:#9b1c1c;padding:10px;border-radius:4px}
.note{font-size:.85rem;color:#555}code,pre{background:#f4f4f4;padding:2px 4px;border-radius:3px}
pre{padding:10px;overflow-x:auto;font-size:.8rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #e3e8ef;padding:6px;text-align:left}
)";

std::string member(const json_object* obj, const char* key) {
    auto v = json_get_string(obj, key);
    return v && v->has_value() ? std::string(**v) : std::string();
}

std::string profession(const json_object* userinfo) {
    auto ref = json_get_object(userinfo, "SubjectRefPro");
    if (!ref || !*ref)
        return {};
    json_object* ex = json_member(*ref, "exercices");
    if (!ex || !json_object_is_type(ex, json_type_array) || json_object_array_length(ex) == 0)
        return {};
    const json_object* first = json_object_array_get_idx(ex, 0);
    return "profession " + member(first, "codeProfession") + ", catégorie " +
           member(first, "codeCategorieProfessionnelle");
}

} // namespace

std::string html_page(std::string_view title, std::string_view body_html) {
    std::string out = "<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                      "<title>";
    out += html_escape(title);
    out += "</title><style>";
    out += kStyle;
    out += "</style></head><body><header>Pro Santé Connect<small>simulation locale "
           "(mock-psc) — aucune donnée réelle</small></header><main>";
    out += body_html;
    out += "</main></body></html>";
    return out;
}

std::string identity_options(const std::map<std::string, Identity>& ids) {
    std::string out;
    for (const auto& [idnat, id] : ids) {
        auto doc = json_parse_object(id.userinfo_json);
        std::string label = idnat;
        if (doc) {
            label +=
                " — " + member(doc->get(), "given_name") + " " + member(doc->get(), "family_name");
            if (const std::string p = profession(doc->get()); !p.empty())
                label += " (" + p + ")";
        }
        out += "<option value=\"" + html_escape(idnat) + "\">" + html_escape(label) + "</option>";
    }
    return out;
}

std::string auth_mode_choice(std::string_view checked) {
    const bool card = checked != "MOBILE";
    return std::string("<div class=\"modes\"><label><input type=\"radio\" name=\"auth_mode\" "
                       "value=\"CARD\"") +
           (card ? " checked" : "") +
           "> Carte CPS</label><label><input type=\"radio\" name=\"auth_mode\" value=\"MOBILE\"" +
           (card ? "" : " checked") + "> e-CPS</label></div>";
}

} // namespace psc::mock

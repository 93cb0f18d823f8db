// SPDX-License-Identifier: LGPL-2.1-or-later
#include "messages.hpp"

#include <array>
#include <cstdio>
#include <optional>

namespace psc::pam {
namespace {

struct Line {
    Msg id;
    std::string_view fr;
    std::string_view en;
};

// The order matches enum Msg; lookup() checks it.
constexpr std::array kLines{
    Line{Msg::choose_flow, "Méthode de connexion :", "Sign-in method:"},
    Line{Msg::choose_prompt, "Choix [1] : ", "Choice [1]: "},
    Line{Msg::choose_invalid, "Choix invalide", "Invalid choice"},
    Line{Msg::flow_code, "navigateur (carte CPS ou e-CPS)", "browser (CPS card or e-CPS)"},
    Line{Msg::flow_ciba, "notification sur l'application e-CPS", "e-CPS app notification"},
    Line{Msg::flow_device, "code sur un autre appareil", "code on another device"},
    Line{Msg::open_url, "Ouvrez cette adresse pour vous connecter avec Pro Santé Connect :",
         "Open this address to sign in with Pro Santé Connect:"},
    Line{Msg::scan_qr, "Ou scannez ce QR code :", "Or scan this QR code:"},
    Line{Msg::ciba_code, "Code affiché sur votre téléphone : {}", "Code shown on your phone: {}"},
    Line{Msg::ciba_approve, "Validez la demande dans l'application e-CPS",
         "Approve the request in the e-CPS app"},
    Line{Msg::device_code, "Code à saisir : {}", "Code to enter: {}"},
    Line{Msg::prompt_paste, "Appuyez sur Entrée une fois validé, ou collez l'adresse : ",
         "Press Enter once approved, or paste the address: "},
    Line{Msg::prompt_enter, "Appuyez sur Entrée une fois validé : ", "Press Enter once approved: "},
    Line{Msg::remaining, "En attente de validation ({} restantes)",
         "Waiting for approval ({} left)"},
    Line{Msg::paste_rejected, "Adresse refusée ({}), réessayez", "Address refused ({}), try again"},
    Line{Msg::paste_too_long, "Adresse trop longue", "Address too long"},
    Line{Msg::paste_unused, "Rien à coller pour cette méthode", "Nothing to paste for this method"},
    Line{Msg::prompt_code, "Code affiché par le navigateur : ", "Code shown by the browser: "},
    Line{Msg::prompt_paste_code,
         "Entrée une fois validé, ou collez l'adresse, ou tapez le code du navigateur : ",
         "Enter once approved, or paste the address, or type the browser's code: "},
    Line{Msg::code_rejected, "Code refusé ({}), réessayez", "Code refused ({}), try again"},
    Line{Msg::success, "Pro Santé Connect : connecté en tant que {}",
         "Pro Santé Connect: signed in as {}"},
    Line{Msg::err_unavailable, "Pro Santé Connect indisponible ({})",
         "Pro Santé Connect unavailable ({})"},
    Line{Msg::err_unknown_user, "Compte inconnu ou non associé ({})",
         "Unknown or unmapped account ({})"},
    Line{Msg::err_denied, "Accès refusé ({})", "Access denied ({})"},
    Line{Msg::err_timeout, "Délai de connexion dépassé ({})", "Sign-in timed out ({})"},
    Line{Msg::err_cancelled, "Connexion annulée ({})", "Sign-in cancelled ({})"},
    Line{Msg::err_busy, "Trop de connexions en cours ({})", "Too many sign-ins in progress ({})"},
    Line{Msg::err_push_throttled,
         "Trop de demandes envoyées au téléphone : prochaine possible {}, ou utilisez le navigateur",
         "Too many requests sent to the phone: next one {}, or use the browser"},
    Line{Msg::err_invalid, "Connexion refusée ({})", "Sign-in rejected ({})"},
    Line{Msg::err_failed, "Erreur du service de connexion ({})", "Sign-in service error ({})"},
    Line{Msg::err_wrong_user, "Identité associée à un autre compte",
         "Identity belongs to another account"},
    Line{Msg::ack_failure, "Appuyez sur Entrée pour fermer : ", "Press Enter to close: "},
};

const Line& lookup(Msg id) noexcept {
    const auto i = static_cast<std::size_t>(id);
    if (i < kLines.size() && kLines[i].id == id)
        return kLines[i];
    for (const auto& l : kLines)
        if (l.id == id)
            return l;
    return kLines.back();
}

// "fr_FR.UTF-8", "fr", "fr_CA" → fr; the empty string says nothing.
std::optional<Lang> lang_of(std::string_view locale) noexcept {
    if (locale.empty())
        return std::nullopt;
    if (locale.substr(0, 2) == "fr" && (locale.size() == 2 || locale[2] == '_' || locale[2] == '.'))
        return Lang::fr;
    if (locale.substr(0, 2) == "en" && (locale.size() == 2 || locale[2] == '_' || locale[2] == '.'))
        return Lang::en;
    return Lang::both;
}

} // namespace

Lang resolve_lang(Lang requested, std::string_view lc_all, std::string_view lc_messages,
                  std::string_view lang) noexcept {
    if (requested != Lang::automatic)
        return requested;
    for (std::string_view v : {lc_all, lc_messages, lang})
        if (auto l = lang_of(v))
            return *l;
    return Lang::both;
}

std::string text(Msg id, Lang lang) {
    const Line& l = lookup(id);
    switch (lang) {
    case Lang::fr:
        return std::string(l.fr);
    case Lang::en:
        return std::string(l.en);
    case Lang::automatic:
    case Lang::both:
        break;
    }
    // A prompt keeps its trailing ": " once, at the end: "Choix [1] / Choice [1]: ".
    std::string fr(l.fr), en(l.en);
    std::string tail;
    while (!fr.empty() && (fr.back() == ' ' || fr.back() == ':'))
        fr.pop_back();
    if (en.size() >= 2 && en.substr(en.size() - 2) == ": ")
        tail = ": ", en.resize(en.size() - 2);
    return fr + " / " + en + tail;
}

std::string text(Msg id, Lang lang, std::string_view value) {
    std::string s = text(id, lang);
    for (std::size_t pos = s.find("{}"); pos != std::string::npos; pos = s.find("{}", pos)) {
        s.replace(pos, 2, value);
        pos += value.size();
    }
    return s;
}

std::string format_duration(long seconds) {
    if (seconds < 0)
        seconds = 0;
    char buf[48];
    if (seconds < 60)
        std::snprintf(buf, sizeof buf, "%ld s", seconds);
    else
        std::snprintf(buf, sizeof buf, "%ld min %02ld s", seconds / 60, seconds % 60);
    return buf;
}

} // namespace psc::pam

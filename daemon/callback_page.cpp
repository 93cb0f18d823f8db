// SPDX-License-Identifier: LGPL-2.1-or-later
#include "callback_page.hpp"

#include "utf8.hpp"

#include <cstdint>

namespace psc {
namespace {

struct PageText {
    unsigned status;
    const char* css_class;
    const char* icon;
    const char* fr_title;
    const char* fr_body;
    const char* en_title;
    const char* en_body;
};

const PageText& page_text(CallbackPageKind kind) noexcept {
    static const PageText kReceived{
        200,
        "ok",
        "✓",
        "Réponse reçue",
        "Pro Santé Connect a répondu. Revenez à votre poste : il affiche si la connexion est "
        "acceptée. Vous pouvez fermer cette fenêtre.",
        "Response received",
        "Pro Santé Connect has answered. Go back to your computer: it shows whether the login is "
        "accepted. You can close this window."};
    static const PageText kConfirm{
        200,
        "ok",
        "✓",
        "Code de confirmation",
        "Saisissez ce code sur le poste où <strong>vous</strong> avez commencé la connexion, et "
        "ne le communiquez à personne : si vous n’avez rien commencé, ne le saisissez nulle "
        "part. Vous pouvez fermer cette fenêtre ensuite.",
        "Confirmation code",
        "Type this code at the computer where <strong>you</strong> started the sign-in, and never "
        "give it to anyone: if you started nothing, type it nowhere. You can close this window "
        "afterwards."};
    static const PageText kSignedIn{
        200,
        "ok",
        "✓",
        "Connexion acceptée",
        "Vous êtes connecté sur votre poste. Vous pouvez fermer cette fenêtre.",
        "Signed in",
        "You are signed in on your computer. You can close this window."};
    static const PageText kRefused{
        403,
        "err",
        "✗",
        "Connexion refusée",
        "Votre identité est vérifiée, mais ce compte ne vous est pas ouvert. Vous pouvez fermer "
        "cette fenêtre ; le motif est ci-dessous.",
        "Sign-in refused",
        "Your identity was verified, but this account is not open to you. You can close this "
        "window; the reason is below."};
    static const PageText kFailure{
        400,
        "err",
        "✗",
        "Échec de la connexion",
        "La connexion n’a pas abouti. Vous pouvez fermer cette fenêtre et recommencer depuis "
        "votre poste.",
        "Login failed",
        "The login did not complete. You can close this window and try again from your computer."};
    static const PageText kUnknown{
        410,
        "warn",
        "!",
        "Connexion inconnue ou expirée",
        "Cette demande de connexion n’existe pas ou a expiré. Vous pouvez fermer cette fenêtre et "
        "recommencer depuis votre poste.",
        "Unknown or expired login",
        "This login request does not exist or has expired. You can close this window and start "
        "again from your computer."};
    static const PageText kNotFound{
        404,
        "warn",
        "?",
        "Page introuvable",
        "Cette adresse ne correspond à aucune page. Vous pouvez fermer cette fenêtre.",
        "Page not found",
        "There is no page at this address. You can close this window."};
    static const PageText kMethod{
        405,
        "warn",
        "!",
        "Méthode non autorisée",
        "Cette page ne peut qu’être consultée. Vous pouvez fermer cette fenêtre.",
        "Method not allowed",
        "This page can only be viewed. You can close this window."};
    static const PageText kTooLong{
        414,
        "warn",
        "!",
        "Adresse trop longue",
        "L’adresse demandée dépasse la taille autorisée. Vous pouvez fermer cette fenêtre.",
        "Address too long",
        "The requested address is longer than allowed. You can close this window."};
    static const PageText kInternal{
        500,
        "err",
        "✗",
        "Erreur interne",
        "Le service de connexion n’a pas pu traiter la demande. Vous pouvez fermer cette fenêtre "
        "et recommencer depuis votre poste.",
        "Internal error",
        "The login service could not process the request. You can close this window and try "
        "again from your computer."};
    switch (kind) {
    case CallbackPageKind::received:
        return kReceived;
    case CallbackPageKind::failure:
        return kFailure;
    case CallbackPageKind::confirm:
        return kConfirm;
    case CallbackPageKind::signed_in:
        return kSignedIn;
    case CallbackPageKind::refused:
        return kRefused;
    case CallbackPageKind::unknown_login:
        return kUnknown;
    case CallbackPageKind::not_found:
        return kNotFound;
    case CallbackPageKind::method_not_allowed:
        return kMethod;
    case CallbackPageKind::target_too_long:
        return kTooLong;
    case CallbackPageKind::internal_error:
        break;
    }
    return kInternal;
}

// Inline only: the CSP allows no other source (default-src 'none').
constexpr const char* kStyle =
    "body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;"
    "background:#f3f5f8;color:#1d2433;font:16px/1.5 system-ui,-apple-system,\"Segoe UI\","
    "Roboto,\"DejaVu Sans\",sans-serif}"
    "main{max-width:34rem;margin:1.5rem;padding:2rem 2.25rem;background:#fff;border-radius:12px;"
    "box-shadow:0 2px 14px rgba(29,36,51,.12);border-top:6px solid #888}"
    "main.ok{border-top-color:#18794e}main.err{border-top-color:#c0392b}"
    "main.warn{border-top-color:#b7791f}"
    ".icon{font-size:2.2rem;line-height:1;font-weight:700;color:#888}"
    ".ok .icon{color:#18794e}.err .icon{color:#c0392b}.warn .icon{color:#b7791f}"
    "h1{font-size:1.3rem;margin:.6rem 0 .3rem}"
    "section+section{margin-top:1.2rem;padding-top:1rem;border-top:1px solid #e3e7ee}"
    "p{margin:.3rem 0}"
    ".reason{margin-top:1.2rem;padding:.6rem .8rem;background:#fbeaea;border-radius:6px;"
    "overflow-wrap:anywhere}"
    ".code{margin:1.2rem 0 0;text-align:center;font-size:2.2rem;letter-spacing:.25em;"
    "font-weight:700;padding:.6rem;background:#eef6f1;border-radius:8px}"
    ".who{margin-top:1.2rem;font-weight:600}"
    "code{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:.95em}"
    "footer{margin-top:1.5rem;font-size:.8rem;color:#6b7385}";

bool is_space_like(std::uint32_t cp) noexcept {
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029 ||
           cp == 0xA0;
}

// Controls, and the invisible characters that can reorder or hide text (Trojan Source,
// CVE-2021-42574): the reason must read as what it is.
bool is_dropped(std::uint32_t cp) noexcept {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || is_invisible_format(cp);
}

// Removes the last character (out holds valid UTF-8).
void pop_char(std::string& out) noexcept {
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80)
        out.pop_back();
    if (!out.empty())
        out.pop_back();
}

void append_cut(std::string& out, std::size_t max_bytes) {
    static constexpr std::string_view kEllipsis = "…";
    while (!out.empty() && out.size() + kEllipsis.size() > max_bytes)
        pop_char(out);
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    if (kEllipsis.size() <= max_bytes)
        out += kEllipsis;
}

} // namespace

std::string refusal_words(std::string_view reason) {
    struct Words {
        std::string_view reason, fr, en;
    };
    static constexpr Words kWords[] = {
        {"mapping_other_user", "Votre identité n’est pas associée à ce compte.",
         "Your identity is not associated with this account."},
        {"profession_not_allowed", "Votre profession n’ouvre pas ce service.",
         "Your profession does not open this service."},
        {"category_denied", "Votre catégorie (par exemple étudiant) n’ouvre pas ce service.",
         "Your category (a student, for example) does not open this service."},
        {"practice_data_missing", "Aucun exercice professionnel n’est connu pour vous.",
         "No professional practice is known for you."},
        {"auth_mode_required", "Ce service demande un autre moyen d’identification (carte CPS "
                               "ou e-CPS).",
         "This service needs another means of identification (CPS card or e-CPS)."},
        {"idnat_not_allowed", "Vous n’êtes pas sur la liste des personnes autorisées.",
         "You are not on the list of people allowed."},
        {"confirm_code_mismatch", "Le code de confirmation n’a pas été saisi correctement.",
         "The confirmation code was not typed correctly."},
        {"access_denied", "La connexion a été refusée dans Pro Santé Connect.",
         "The sign-in was refused in Pro Santé Connect."},
    };
    for (const auto& w : kWords)
        if (w.reason == reason)
            return std::string(w.fr) + " / " + std::string(w.en) + " (" + std::string(reason) +
                   ")";
    return "Ce compte ne vous est pas ouvert. / This account is not open to you. (" +
           std::string(reason) + ")";
}

unsigned callback_page_status(CallbackPageKind kind) noexcept {
    return page_text(kind).status;
}

std::string sanitize_reason(std::string_view text, std::size_t max_bytes) {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD"; // U+FFFD
    std::string out;
    bool pending_space = false;
    for (std::size_t i = 0; i < text.size();) {
        std::uint32_t cp = 0;
        const std::size_t len = utf8_decode(text, i, cp);
        std::string_view piece = len ? text.substr(i, len) : kReplacement;
        i += len ? len : 1;
        if (is_space_like(cp) && len) {
            pending_space = !out.empty();
            continue;
        }
        if (len && is_dropped(cp))
            continue;
        const std::size_t need = piece.size() + (pending_space ? 1 : 0);
        if (out.size() + need > max_bytes) {
            append_cut(out, max_bytes);
            return out;
        }
        if (pending_space)
            out += ' ';
        pending_space = false;
        out += piece;
    }
    return out;
}

std::string render_callback_page(CallbackPageKind kind, std::string_view detail) {
    const PageText& t = page_text(kind);
    std::string html;
    html.reserve(4096);
    html += "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex\">\n<title>";
    html += std::string(t.fr_title) + " · " + t.en_title + "</title>\n<style>" + kStyle +
            "</style>\n</head>\n<body>\n<main class=\"" + t.css_class + "\">\n";
    html += std::string("<div class=\"icon\" aria-hidden=\"true\">") + t.icon + "</div>\n";
    html += std::string("<section lang=\"fr\"><h1>") + t.fr_title + "</h1><p>" + t.fr_body +
            "</p></section>\n";
    html += std::string("<section lang=\"en\"><h1>") + t.en_title + "</h1><p>" + t.en_body +
            "</p></section>\n";
    // The one variable text, always sanitised and escaped.
    const std::string shown = sanitize_reason(detail);
    if (!shown.empty() && (kind == CallbackPageKind::failure || kind == CallbackPageKind::refused))
        html += "<p class=\"reason\"><span lang=\"fr\">Motif</span> / <span lang=\"en\">"
                "Reason</span>&nbsp;: <code>" +
                html_escape(shown) + "</code></p>\n";
    if (!shown.empty() && kind == CallbackPageKind::confirm)
        html += "<p class=\"code\"><code>" + html_escape(shown) + "</code></p>\n";
    if (!shown.empty() && kind == CallbackPageKind::signed_in)
        html += "<p class=\"who\"><span lang=\"fr\">Compte</span> / <span lang=\"en\">"
                "Account</span>&nbsp;: <code>" +
                html_escape(shown) + "</code></p>\n";
    html += "<footer>psc-login · Pro Santé Connect</footer>\n</main>\n</body>\n</html>\n";
    return html;
}

const std::vector<std::pair<std::string, std::string>>& callback_page_headers() {
    // frame-ancestors/form-action/base-uri are not covered by default-src (CSP3 §6.3, §6.4).
    static const std::vector<std::pair<std::string, std::string>> kHeaders = {
        {"Content-Type", "text/html; charset=utf-8"},
        {"Cache-Control", "no-store"},
        {"Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
                                    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"},
        {"X-Content-Type-Options", "nosniff"},
        {"Referrer-Policy", "no-referrer"},
        {"X-Frame-Options", "DENY"},
    };
    return kHeaders;
}

} // namespace psc

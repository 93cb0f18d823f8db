// SPDX-License-Identifier: LGPL-2.1-or-later
// What pam_psc shows: the FR/EN lines and language choice, control-character stripping, the QR
// code drawing and the display built from StartLogin's answer.
#include "display.hpp"
#include "messages.hpp"
#include "qr.hpp"
#include "sanitize.hpp"
#include "testing.hpp"

#include <cstring>

using namespace psc::pam;

static bool contains(const std::string& s, const char* part) {
    return s.find(part) != std::string::npos;
}

// --- language ---

static void test_lang_explicit_wins(void**) {
    assert_true(resolve_lang(Lang::en, "fr_FR.UTF-8", "", "") == Lang::en);
    assert_true(resolve_lang(Lang::fr, "", "", "en_US.UTF-8") == Lang::fr);
}

static void test_lang_from_locale_posix_order(void**) {
    assert_true(resolve_lang(Lang::automatic, "", "", "fr_FR.UTF-8") == Lang::fr);
    assert_true(resolve_lang(Lang::automatic, "", "en_GB.UTF-8", "fr_FR.UTF-8") == Lang::en);
    assert_true(resolve_lang(Lang::automatic, "fr", "en_GB.UTF-8", "") == Lang::fr);
}

static void test_lang_unset_or_c_is_both(void**) {
    assert_true(resolve_lang(Lang::automatic, "", "", "") == Lang::both);
    assert_true(resolve_lang(Lang::automatic, "C", "", "fr_FR.UTF-8") == Lang::both);
    assert_true(resolve_lang(Lang::automatic, "", "", "C.UTF-8") == Lang::both);
    assert_true(resolve_lang(Lang::automatic, "", "", "french") == Lang::both); // not "fr_"
}

static void test_text_in_each_language(void**) {
    assert_string_equal(text(Msg::prompt_enter, Lang::en).c_str(), "Press Enter once approved: ");
    assert_string_equal(text(Msg::prompt_enter, Lang::fr).c_str(),
                        "Appuyez sur Entrée une fois validé : ");
    // Both: one prompt, the colon once at the end (what the SSH tests expect).
    assert_string_equal(text(Msg::prompt_paste, Lang::both).c_str(),
                        "Appuyez sur Entrée une fois validé, ou collez l'adresse / Press Enter "
                        "once approved, or paste the address: ");
}

static void test_text_placeholder(void**) {
    assert_string_equal(text(Msg::err_denied, Lang::en, "category_denied").c_str(),
                        "Access denied (category_denied)");
    const std::string both = text(Msg::ciba_code, Lang::both, "42");
    assert_true(contains(both, "téléphone : 42"));
    assert_true(contains(both, "phone: 42"));
    assert_false(contains(both, "{}"));
}

static void test_every_message_has_both_languages(void**) {
    for (int i = 0; i <= static_cast<int>(Msg::err_wrong_user); ++i) {
        const auto id = static_cast<Msg>(i);
        assert_false(text(id, Lang::fr).empty());
        assert_false(text(id, Lang::en).empty());
        assert_true(text(id, Lang::fr) != text(id, Lang::en));
        assert_true(text(id, Lang::en).size() < 80); // short lines (design §6)
    }
}

static void test_format_duration(void**) {
    assert_string_equal(format_duration(45).c_str(), "45 s");
    assert_string_equal(format_duration(125).c_str(), "2 min 05 s");
    assert_string_equal(format_duration(-3).c_str(), "0 s");
}

// --- control characters ---

static void test_safe_keeps_text_and_accents(void**) {
    assert_string_equal(display_safe("Connexion réussie — ok €").c_str(),
                        "Connexion réussie — ok €");
}

static void test_safe_strips_c0_esc_and_del(void**) {
    assert_string_equal(display_safe("a\x1b[2Jb\nc\rd\x7f"
                                     "e\t")
                            .c_str(),
                        "a?[2Jb?c?d?e?");
}

static void test_safe_strips_c1_controls(void**) {
    // U+009B (CSI) and U+0085 (NEL) in UTF-8.
    assert_string_equal(display_safe("x\xc2\x9b"
                                     "31my\xc2\x85z")
                            .c_str(),
                        "x?31my?z");
    assert_string_equal(display_safe("\xc2\xa0").c_str(), "\xc2\xa0"); // NBSP is text
}

static void test_safe_replaces_malformed_utf8(void**) {
    assert_string_equal(display_safe("a\xff"
                                     "b")
                            .c_str(),
                        "a?b");
    assert_string_equal(display_safe("\xc0\xaf").c_str(), "??");           // overlong '/'
    assert_string_equal(display_safe("\xed\xa0\x80").c_str(), "???");      // surrogate
    assert_string_equal(display_safe("\xf4\x90\x80\x80").c_str(), "????"); // > U+10FFFF
    assert_string_equal(display_safe("\xe2\x82").c_str(), "??");           // truncated
}

// Provider text that would read differently than it is: each invisible character shows as '?'.
static void test_safe_shows_invisible_format_characters(void**) {
    struct Row {
        const char* in;
        const char* out;
    };
    const Row rows[] = {
        {"psc\u200b.example", "psc?.example"},        // ZERO WIDTH SPACE
        {"a\u200cb\u200dc\u200ed\u200fe", "a?b?c?d?e"}, // ZWNJ, ZWJ, LRM, RLM
        {"cod\u202eEVIL\u202c", "cod?EVIL?"},         // RIGHT-TO-LEFT OVERRIDE, POP
        {"\u202a\u202b\u202dx", "???x"},             // LRE, RLE, LRO
        {"\u2066x\u2067y\u2068z\u2069", "?x?y?z?"},  // isolates
        {"\ufeffok\u2060\u2028\u2029\u061c", "?ok????"},
        {"\u00e9t\u00e9 \u20ac", "\u00e9t\u00e9 \u20ac"}, // ordinary text untouched
    };
    for (const Row& r : rows)
        assert_string_equal(display_safe(r.in).c_str(), r.out);
}

static void test_safe_cuts_on_character_boundary(void**) {
    assert_string_equal(display_safe("abcé", 4).c_str(), "abc");
    assert_string_equal(display_safe("abcdef", 3).c_str(), "abc");
    assert_int_equal(display_safe(std::string(5000, 'x')).size(), kMaxDisplayString);
}

// --- QR ---

static std::size_t utf8_chars(const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
        n += (c & 0xC0) != 0x80;
    return n;
}

static void test_qr_utf8_dimensions_and_quiet_zone(void**) {
    auto lines = render_qr("https://127.0.0.1:8443/wallet/auth?client_id=x", QrStyle::utf8);
    assert_ok(lines);
    const std::size_t modules = utf8_chars(lines->front());
    // Version v has 17 + 4v modules; plus the quiet zone on both sides.
    assert_int_equal((modules - 2 * kQrMargin - 17) % 4, 0);
    assert_int_equal(lines->size(), (modules + 1) / 2);
    for (const auto& l : *lines)
        assert_int_equal(utf8_chars(l), modules);
    // The quiet zone is light: the first line is all full blocks (two light rows).
    std::string full;
    for (std::size_t i = 0; i < modules; ++i)
        full += "\u2588";
    assert_string_equal(lines->front().c_str(), full.c_str());
}

static void test_qr_finder_pattern(void**) {
    // ASCII: one line per row, "##" = light. Row margin+0 holds the finder's dark top edge
    // (7 dark modules), row margin+1 its light ring (dark, 5 light, dark).
    auto lines = render_qr("PSC", QrStyle::ascii);
    assert_ok(lines);
    const std::string& top = (*lines)[kQrMargin];
    const std::string& ring = (*lines)[kQrMargin + 1];
    const std::size_t x0 = 2 * kQrMargin;
    assert_string_equal(top.substr(x0, 14).c_str(), "              ");
    assert_string_equal(ring.substr(x0, 14).c_str(), "  ##########  ");
    assert_int_equal(lines->size(), top.size() / 2); // square
}

static void test_qr_rejects_empty(void**) {
    assert_reason(render_qr("", QrStyle::utf8), "qr_empty");
}

static void test_qr_rejects_too_long(void**) {
    assert_reason(render_qr(std::string(kMaxQrPayload + 1, 'a'), QrStyle::utf8), "qr_too_long");
    assert_ok(render_qr(std::string(kMaxQrPayload, 'a'), QrStyle::utf8));
}

static void test_qr_style_from_locale(void**) {
    assert_true(qr_style_for_locale("", "", "fr_FR.UTF-8") == QrStyle::utf8);
    assert_true(qr_style_for_locale("", "", "C.utf8") == QrStyle::utf8);
    assert_true(qr_style_for_locale("C", "", "fr_FR.UTF-8") == QrStyle::ascii);
    assert_true(qr_style_for_locale("", "fr_FR.ISO-8859-15", "") == QrStyle::ascii);
    assert_true(qr_style_for_locale("", "", "") == QrStyle::utf8);
}

// --- display ---

static void test_want_qr(void**) {
    assert_true(want_qr(QrMode::automatic, ""));
    assert_false(want_qr(QrMode::automatic, "192.0.2.7"));
    assert_true(want_qr(QrMode::on, "192.0.2.7"));
    assert_false(want_qr(QrMode::off, ""));
}

static void test_display_code_flow_with_qr(void**) {
    Display d;
    d.flow = "code";
    d.url = "https://psc.example/auth?x=1";
    d.qr = d.url;
    const auto out = display_lines(d, {Lang::en, true, QrStyle::utf8});
    assert_int_equal(out.messages.size(), 2);
    assert_true(contains(out.messages[0], "Open this address"));
    assert_true(contains(out.messages[0], "\nhttps://psc.example/auth?x=1"));
    assert_true(contains(out.messages[1], "Or scan this QR code:\n"));
    assert_true(contains(out.messages[1], "\u2588"));
    assert_true(out.qr_error.empty());
}

static void test_display_without_qr(void**) {
    Display d;
    d.url = "https://psc.example/auth";
    const auto out = display_lines(d, {Lang::fr, false, QrStyle::utf8});
    assert_int_equal(out.messages.size(), 1);
    assert_true(contains(out.messages[0], "Ouvrez cette adresse"));
}

static void test_display_ciba_binding_code(void**) {
    Display d;
    d.flow = "ciba";
    d.binding_code = "42";
    const auto out = display_lines(d, {Lang::en, true, QrStyle::utf8});
    assert_int_equal(out.messages.size(), 2); // no URL, so no QR either
    assert_string_equal(out.messages[0].c_str(), "Code shown on your phone: >> 42 <<");
    assert_true(contains(out.messages[1], "e-CPS"));
}

static void test_display_device_user_code(void**) {
    Display d;
    d.url = "https://idp.example/device";
    d.user_code = "WDJB-MJHT";
    const auto out = display_lines(d, {Lang::en, false, QrStyle::utf8});
    assert_int_equal(out.messages.size(), 2);
    assert_string_equal(out.messages[1].c_str(), "Code to enter: WDJB-MJHT");
}

static void test_display_qr_failure_is_reported_not_fatal(void**) {
    Display d;
    d.url = "https://psc.example/auth";
    d.qr = std::string(kMaxQrPayload + 10, 'q');
    const auto out = display_lines(d, {Lang::en, true, QrStyle::utf8});
    assert_int_equal(out.messages.size(), 1); // the URL is still shown
    assert_true(contains(out.qr_error, "qr_too_long"));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lang_explicit_wins),
        cmocka_unit_test(test_lang_from_locale_posix_order),
        cmocka_unit_test(test_lang_unset_or_c_is_both),
        cmocka_unit_test(test_text_in_each_language),
        cmocka_unit_test(test_text_placeholder),
        cmocka_unit_test(test_every_message_has_both_languages),
        cmocka_unit_test(test_format_duration),
        cmocka_unit_test(test_safe_keeps_text_and_accents),
        cmocka_unit_test(test_safe_strips_c0_esc_and_del),
        cmocka_unit_test(test_safe_strips_c1_controls),
        cmocka_unit_test(test_safe_replaces_malformed_utf8),
        cmocka_unit_test(test_safe_shows_invisible_format_characters),
        cmocka_unit_test(test_safe_cuts_on_character_boundary),
        cmocka_unit_test(test_qr_utf8_dimensions_and_quiet_zone),
        cmocka_unit_test(test_qr_finder_pattern),
        cmocka_unit_test(test_qr_rejects_empty),
        cmocka_unit_test(test_qr_rejects_too_long),
        cmocka_unit_test(test_qr_style_from_locale),
        cmocka_unit_test(test_want_qr),
        cmocka_unit_test(test_display_code_flow_with_qr),
        cmocka_unit_test(test_display_without_qr),
        cmocka_unit_test(test_display_ciba_binding_code),
        cmocka_unit_test(test_display_device_user_code),
        cmocka_unit_test(test_display_qr_failure_is_reported_not_fatal),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

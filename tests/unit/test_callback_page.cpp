// SPDX-License-Identifier: LGPL-2.1-or-later
// The result page of the code flow (design §2 item 1): bilingual, self-contained, never a redirect,
// and a reason from the provider can never become markup or terminal control sequences.
#include "callback_page.hpp"
#include "testing.hpp"

using namespace psc;

namespace {

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

} // namespace

static void test_page_status_per_kind(void**) {
    assert_int_equal(callback_page_status(CallbackPageKind::received), 200);
    assert_int_equal(callback_page_status(CallbackPageKind::failure), 400);
    assert_int_equal(callback_page_status(CallbackPageKind::unknown_login), 410);
    assert_int_equal(callback_page_status(CallbackPageKind::not_found), 404);
    assert_int_equal(callback_page_status(CallbackPageKind::method_not_allowed), 405);
    assert_int_equal(callback_page_status(CallbackPageKind::target_too_long), 414);
    assert_int_equal(callback_page_status(CallbackPageKind::internal_error), 500);
    assert_int_equal(callback_page_status(CallbackPageKind::confirm), 200);
    assert_int_equal(callback_page_status(CallbackPageKind::signed_in), 200);
    assert_int_equal(callback_page_status(CallbackPageKind::refused), 403);
}

static void test_confirm_signed_in_and_refused_pages(void**) {
    const std::string confirm = render_callback_page(CallbackPageKind::confirm, "K7Q-4M2");
    assert_true(contains(confirm, "<p class=\"code\"><code>K7Q-4M2</code></p>"));
    assert_true(contains(confirm, "never give it to anyone"));
    const std::string in = render_callback_page(CallbackPageKind::signed_in, "claire<b>");
    assert_true(contains(in, "Signed in"));
    assert_true(contains(in, "<code>claire&lt;b&gt;</code>"));
    const std::string no = render_callback_page(CallbackPageKind::refused, "category_denied");
    assert_true(contains(no, "Sign-in refused"));
    assert_true(contains(no, "class=\"reason\""));
    assert_true(contains(no, "category_denied"));
}

static void test_every_page_is_bilingual_and_self_contained(void**) {
    for (auto kind :
         {CallbackPageKind::received, CallbackPageKind::confirm, CallbackPageKind::signed_in,
          CallbackPageKind::refused, CallbackPageKind::failure, CallbackPageKind::unknown_login,
          CallbackPageKind::not_found, CallbackPageKind::method_not_allowed,
          CallbackPageKind::target_too_long, CallbackPageKind::internal_error}) {
        const std::string html = render_callback_page(kind, "x");
        assert_true(contains(html, "<meta charset=\"utf-8\">"));
        assert_true(contains(html, "lang=\"fr\""));
        assert_true(contains(html, "lang=\"en\""));
        assert_true(contains(html, "Vous pouvez fermer cette fenêtre"));
        assert_true(contains(html, "You can close this window"));
        // No script, no redirect, nothing fetched from elsewhere.
        for (const char* banned : {"<script", "http-equiv", "refresh", "src=", "href=", "url(",
                                   "@import", "<link", "<form", "<iframe", "<img"})
            assert_false(contains(html, banned));
        assert_true(html.size() < 8192);
    }
}

static void test_success_page_texts(void**) {
    const std::string html = render_callback_page(CallbackPageKind::received);
    assert_true(contains(html, "Réponse reçue"));
    assert_true(contains(html, "Response received"));
    assert_false(contains(html, "class=\"reason\""));
}

static void test_failure_page_escapes_hostile_reason(void**) {
    const std::string html =
        render_callback_page(CallbackPageKind::failure, "<script>alert('x')</script> & \"q\"");
    assert_true(contains(html, "Échec de la connexion"));
    assert_true(contains(html, "Login failed"));
    assert_true(contains(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                               "&quot;q&quot;"));
    assert_false(contains(html, "<script"));
}

static void test_failure_page_without_reason_has_no_reason_line(void**) {
    const std::string html = render_callback_page(CallbackPageKind::failure, "\x01\x02  ");
    assert_false(contains(html, "class=\"reason\""));
}

static void test_reason_ignored_outside_failure_page(void**) {
    const std::string html = render_callback_page(CallbackPageKind::received, "SHOULD-NOT-APPEAR");
    assert_false(contains(html, "SHOULD-NOT-APPEAR"));
}

static void test_html_escape_all_specials(void**) {
    assert_string_equal(html_escape("<a href=\"x\">'&'</a>").c_str(),
                        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    assert_string_equal(html_escape("Vérifié").c_str(), "Vérifié");
}

static void test_sanitize_strips_control_characters(void**) {
    assert_string_equal(sanitize_reason("a\x07"
                                        "b\x1b[31mc\x7f"
                                        "d")
                            .c_str(),
                        "ab[31mcd");
    // C1 controls (U+0085, U+009B CSI) too.
    assert_string_equal(sanitize_reason("x\xc2\x85y\xc2\x9bz").c_str(), "xyz");
}

static void test_sanitize_collapses_whitespace(void**) {
    assert_string_equal(sanitize_reason("  access\r\n\tdenied  ").c_str(), "access denied");
}

static void test_sanitize_drops_bidi_overrides(void**) {
    // U+202E RIGHT-TO-LEFT OVERRIDE and U+2066 LEFT-TO-RIGHT ISOLATE.
    assert_string_equal(sanitize_reason("abc\xe2\x80\xae"
                                        "def\xe2\x81\xa6")
                            .c_str(),
                        "abcdef");
}

static void test_sanitize_replaces_invalid_utf8(void**) {
    // A lone continuation byte, an overlong '/', a surrogate.
    assert_string_equal(sanitize_reason("a\x80"
                                        "b\xc0\xaf"
                                        "c\xed\xa0\x80"
                                        "d")
                            .c_str(),
                        "a\xef\xbf\xbd"
                        "b\xef\xbf\xbd\xef\xbf\xbd"
                        "c\xef\xbf\xbd\xef\xbf\xbd"
                        "\xef\xbf\xbd"
                        "d");
    assert_string_equal(sanitize_reason("é").c_str(), "é");
}

static void test_sanitize_caps_length_on_a_character_boundary(void**) {
    std::string long_text;
    for (int i = 0; i < 300; ++i)
        long_text += "é";
    const std::string s = sanitize_reason(long_text, 51);
    assert_true(s.size() <= 51);
    assert_true(contains(s, "…"));
    // Every byte is part of whole "é" characters plus the ellipsis: valid UTF-8.
    assert_string_equal(sanitize_reason(s, 1000).c_str(), s.c_str());
    assert_true(sanitize_reason(std::string(10000, 'a')).size() <= kCallbackReasonMaxBytes);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_page_status_per_kind),
        cmocka_unit_test(test_confirm_signed_in_and_refused_pages),
        cmocka_unit_test(test_every_page_is_bilingual_and_self_contained),
        cmocka_unit_test(test_success_page_texts),
        cmocka_unit_test(test_failure_page_escapes_hostile_reason),
        cmocka_unit_test(test_failure_page_without_reason_has_no_reason_line),
        cmocka_unit_test(test_reason_ignored_outside_failure_page),
        cmocka_unit_test(test_html_escape_all_specials),
        cmocka_unit_test(test_sanitize_strips_control_characters),
        cmocka_unit_test(test_sanitize_collapses_whitespace),
        cmocka_unit_test(test_sanitize_drops_bidi_overrides),
        cmocka_unit_test(test_sanitize_replaces_invalid_utf8),
        cmocka_unit_test(test_sanitize_caps_length_on_a_character_boundary),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

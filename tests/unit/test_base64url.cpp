// SPDX-License-Identifier: LGPL-2.1-or-later
#include "base64url.hpp"
#include "testing.hpp"

using namespace psc;

static void test_rfc4648_vectors(void**) {
    // RFC 4648 §10, without padding and in the URL alphabet.
    const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char* enc[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    for (int i = 0; i < 7; ++i) {
        assert_string_equal(base64url_encode(plain[i]).c_str(), enc[i]);
        auto d = base64url_decode(enc[i]);
        assert_ok(d);
        assert_string_equal(d->c_str(), plain[i]);
    }
}

static void test_url_alphabet(void**) {
    const std::string bytes("\xfb\xff\xbf", 3);
    assert_string_equal(base64url_encode(bytes).c_str(), "-_-_");
    auto d = base64url_decode("-_-_");
    assert_ok(d);
    assert_true(*d == bytes);
}

static void test_rejects_padding(void**) {
    assert_reason(base64url_decode("Zg=="), "base64url_char");
    assert_reason(base64url_decode("Zm8="), "base64url_char");
}

static void test_rejects_standard_alphabet_and_space(void**) {
    assert_reason(base64url_decode("+/+/"), "base64url_char");
    assert_reason(base64url_decode("Zm9v Zg"), "base64url_char");
    assert_reason(base64url_decode(std::string_view("Zm\0v", 4)), "base64url_char");
}

static void test_rejects_impossible_length(void**) {
    assert_reason(base64url_decode("Z"), "base64url_length");
    assert_reason(base64url_decode("Zm9vY"), "base64url_length");
}

static void test_rejects_non_canonical_trailing_bits(void**) {
    // "Zh" decodes to "f" with non-zero leftover bits: a malleable second encoding of "Zg".
    assert_reason(base64url_decode("Zh"), "base64url_trailing_bits");
    assert_reason(base64url_decode("Zm9"), "base64url_trailing_bits");
}

static void test_standard_base64_with_padding(void**) {
    assert_string_equal(base64_encode("client:s3cr3t").c_str(), "Y2xpZW50OnMzY3IzdA==");
    assert_string_equal(base64_encode("\xfb\xff").c_str(), "+/8=");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),
        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_rejects_padding),
        cmocka_unit_test(test_rejects_standard_alphabet_and_space),
        cmocka_unit_test(test_rejects_impossible_length),
        cmocka_unit_test(test_rejects_non_canonical_trailing_bits),
        cmocka_unit_test(test_standard_base64_with_padding),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

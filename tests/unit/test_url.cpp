// SPDX-License-Identifier: LGPL-2.1-or-later
#include "testing.hpp"
#include "url.hpp"

using namespace psc;

static void test_percent_encode_unreserved_only(void**) {
    assert_string_equal(percent_encode("AZaz09-._~").c_str(), "AZaz09-._~");
    assert_string_equal(percent_encode("a b+c/d?e&f=g%").c_str(), "a%20b%2Bc%2Fd%3Fe%26f%3Dg%25");
    assert_string_equal(percent_encode("é").c_str(), "%C3%A9");
    assert_string_equal(percent_encode("*").c_str(), "%2A");
}

static void test_form_urlencode_whatwg(void**) {
    assert_string_equal(form_urlencode("a b").c_str(), "a+b");
    assert_string_equal(form_urlencode("AZaz09*-._").c_str(), "AZaz09*-._");
    assert_string_equal(form_urlencode("~:+%/").c_str(), "%7E%3A%2B%25%2F");
    assert_string_equal(form_urlencode("é").c_str(), "%C3%A9");
    assert_int_equal(form_urlencoded_length("a b~é"), form_urlencode("a b~é").size());
}

static void test_round_trips(void**) {
    const std::string samples[] = {"",      "plain",  "a b+c",  "100%",
                                   "x=y&z", "é ü 中", "~*'()!", std::string("\x01\x7f", 2)};
    for (const auto& s : samples) {
        auto a = percent_decode(percent_encode(s), PlusIs::literal);
        assert_ok(a);
        assert_true(*a == s);
        auto b = percent_decode(form_urlencode(s), PlusIs::space);
        assert_ok(b);
        assert_true(*b == s);
    }
}

static void test_decode_plus_modes(void**) {
    auto a = percent_decode("a+b%2B", PlusIs::space);
    assert_ok(a);
    assert_string_equal(a->c_str(), "a b+");
    auto b = percent_decode("a+b", PlusIs::literal);
    assert_ok(b);
    assert_string_equal(b->c_str(), "a+b");
    auto c = percent_decode("%c3%A9");
    assert_ok(c);
    assert_string_equal(c->c_str(), "é");
}

static void test_decode_rejects_bad_percent(void**) {
    assert_reason(percent_decode("%"), "url_bad_percent");
    assert_reason(percent_decode("abc%4"), "url_bad_percent");
    assert_reason(percent_decode("%G1"), "url_bad_percent");
    assert_reason(percent_decode("%1G"), "url_bad_percent");
    assert_reason(percent_decode("%%41"), "url_bad_percent");
}

static void test_decode_rejects_nul(void**) {
    assert_reason(percent_decode("a%00b"), "url_nul");
}

static void test_decode_rejects_bad_utf8(void**) {
    assert_reason(percent_decode("%C3"), "url_bad_utf8");          // truncated
    assert_reason(percent_decode("%C0%AF"), "url_bad_utf8");       // overlong '/'
    assert_reason(percent_decode("%ED%A0%80"), "url_bad_utf8");    // surrogate
    assert_reason(percent_decode("%F4%90%80%80"), "url_bad_utf8"); // > U+10FFFF
    assert_reason(percent_decode("%FF"), "url_bad_utf8");
}

static void test_parse_query_ordered(void**) {
    auto q = parse_query("b=2&a=x+y&&flag&c=");
    assert_ok(q);
    assert_int_equal(q->size(), 4);
    assert_string_equal((*q)[0].name.c_str(), "b");
    assert_string_equal((*q)[1].value.c_str(), "x y");
    assert_string_equal((*q)[2].name.c_str(), "flag");
    assert_string_equal((*q)[2].value.c_str(), "");
    assert_non_null(query_find(*q, "c"));
    assert_null(query_find(*q, "d"));
}

static void test_parse_query_rejects_duplicate(void**) {
    assert_reason(parse_query("state=a&code=1&state=b"), "url_duplicate_param");
    // The same name spelled with an escape is still the same parameter.
    assert_reason(parse_query("state=a&st%61te=b"), "url_duplicate_param");
}

static void test_parse_query_rejects_too_long(void**) {
    assert_reason(parse_query(std::string(kMaxUrlBytes + 1, 'a')), "url_too_long");
}

static void test_parse_query_rejects_too_many(void**) {
    std::string q;
    for (std::size_t i = 0; i <= kMaxQueryParams; ++i)
        q += "p" + std::to_string(i) + "=1&";
    assert_reason(parse_query(q), "url_too_many_params");
}

static void test_form_encode_body(void**) {
    Secret s =
        form_encode({{"grant_type", "authorization_code"}, {"redirect_uri", "http://x/cb?a=b c"}});
    assert_string_equal(s.c_str(),
                        "grant_type=authorization_code&redirect_uri=http%3A%2F%2Fx%2Fcb%3Fa%3Db+c");
}

static void test_split_url_full(void**) {
    auto u = split_url("HTTPS://Bastion.Example:8443/cb/x?code=1&state=2#frag");
    assert_ok(u);
    assert_string_equal(u->scheme.c_str(), "https");
    assert_string_equal(u->host.c_str(), "bastion.example");
    assert_int_equal(*u->port, 8443);
    assert_string_equal(u->path.c_str(), "/cb/x");
    assert_string_equal(u->query->c_str(), "code=1&state=2");
    assert_string_equal(u->fragment->c_str(), "frag");
}

static void test_split_url_defaults(void**) {
    auto u = split_url("http://127.0.0.1");
    assert_ok(u);
    assert_string_equal(u->path.c_str(), "/");
    assert_false(u->port.has_value());
    assert_int_equal(u->effective_port(), 80);
    assert_false(u->query.has_value());
    auto v = split_url("https://[::1]:8765/callback");
    assert_ok(v);
    assert_string_equal(v->host.c_str(), "[::1]");
    assert_int_equal(v->effective_port(), 8765);
    auto w = split_url("https://h.example?x=1");
    assert_ok(w);
    assert_int_equal(w->effective_port(), 443);
    assert_string_equal(w->path.c_str(), "/");
}

static void test_split_url_rejects_scheme(void**) {
    assert_reason(split_url("javascript:alert(1)"), "url_bad_scheme");
    assert_reason(split_url("ftp://h/x"), "url_bad_scheme");
    assert_reason(split_url("/callback?x"), "url_bad_scheme");
}

static void test_split_url_rejects_userinfo(void**) {
    assert_reason(split_url("https://bastion.example@evil.example/cb"), "url_userinfo");
}

static void test_split_url_rejects_bad_chars(void**) {
    assert_reason(split_url("https://h/a b"), "url_bad_char");
    assert_reason(split_url("https://h/a\nb"), "url_bad_char");
    assert_reason(split_url("https://h/\xc3\xa9"), "url_bad_char");
}

static void test_split_url_rejects_host(void**) {
    assert_reason(split_url("https:///cb"), "url_no_host");
    assert_reason(split_url("https://[::1/cb"), "url_bad_host");
    assert_reason(split_url("https://[nothex]/cb"), "url_bad_host");
    assert_reason(split_url("https://a!b/cb"), "url_bad_host");
}

static void test_split_url_rejects_port(void**) {
    assert_reason(split_url("https://h:/cb"), "url_bad_port");
    assert_reason(split_url("https://h:0/cb"), "url_bad_port");
    assert_reason(split_url("https://h:65536/cb"), "url_bad_port");
    assert_reason(split_url("https://h:-1/cb"), "url_bad_port");
    assert_reason(split_url("https://h:8a/cb"), "url_bad_port");
}

static void test_split_url_rejects_too_long(void**) {
    assert_reason(split_url("https://h/" + std::string(kMaxUrlBytes, 'a')), "url_too_long");
}

static void test_same_endpoint_normalises_default_port(void**) {
    auto a = split_url("https://Bastion.example/cb?x=1");
    auto b = split_url("https://bastion.example:443/cb");
    assert_ok(a);
    assert_ok(b);
    assert_true(same_endpoint(*a, *b));
    const char* others[] = {"http://bastion.example/cb", "https://other.example/cb",
                            "https://bastion.example:8443/cb", "https://bastion.example/cb/",
                            "https://bastion.example/CB"};
    for (const char* o : others) {
        auto c = split_url(o);
        assert_ok(c);
        assert_false(same_endpoint(*a, *c));
    }
}

static void test_redirect_uri_from_listen(void**) {
    auto a = redirect_uri_from_listen("127.0.0.1:8765");
    assert_ok(a);
    assert_string_equal(a->c_str(), "http://127.0.0.1:8765/callback");
    auto b = redirect_uri_from_listen("[::1]:9000", "/cb");
    assert_ok(b);
    assert_string_equal(b->c_str(), "http://[::1]:9000/cb");
}

static void test_redirect_uri_from_listen_rejects_address(void**) {
    assert_reason(redirect_uri_from_listen("localhost:8765"), "listen_bad_address");
    assert_reason(redirect_uri_from_listen("8765"), "listen_bad_address");
    assert_reason(redirect_uri_from_listen("::1:8765"), "listen_bad_address");
    assert_reason(redirect_uri_from_listen("[::1:8765"), "listen_bad_address");
    assert_reason(redirect_uri_from_listen("127.0.0.1:8765", "cb"), "listen_bad_address");
}

static void test_redirect_uri_from_listen_rejects_port(void**) {
    assert_reason(redirect_uri_from_listen("127.0.0.1:0"), "listen_bad_port");
    assert_reason(redirect_uri_from_listen("127.0.0.1:"), "listen_bad_port");
    assert_reason(redirect_uri_from_listen("127.0.0.1:70000"), "listen_bad_port");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_encode_unreserved_only),
        cmocka_unit_test(test_form_urlencode_whatwg),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_decode_plus_modes),
        cmocka_unit_test(test_decode_rejects_bad_percent),
        cmocka_unit_test(test_decode_rejects_nul),
        cmocka_unit_test(test_decode_rejects_bad_utf8),
        cmocka_unit_test(test_parse_query_ordered),
        cmocka_unit_test(test_parse_query_rejects_duplicate),
        cmocka_unit_test(test_parse_query_rejects_too_long),
        cmocka_unit_test(test_parse_query_rejects_too_many),
        cmocka_unit_test(test_form_encode_body),
        cmocka_unit_test(test_split_url_full),
        cmocka_unit_test(test_split_url_defaults),
        cmocka_unit_test(test_split_url_rejects_scheme),
        cmocka_unit_test(test_split_url_rejects_userinfo),
        cmocka_unit_test(test_split_url_rejects_bad_chars),
        cmocka_unit_test(test_split_url_rejects_host),
        cmocka_unit_test(test_split_url_rejects_port),
        cmocka_unit_test(test_split_url_rejects_too_long),
        cmocka_unit_test(test_same_endpoint_normalises_default_port),
        cmocka_unit_test(test_redirect_uri_from_listen),
        cmocka_unit_test(test_redirect_uri_from_listen_rejects_address),
        cmocka_unit_test(test_redirect_uri_from_listen_rejects_port),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}

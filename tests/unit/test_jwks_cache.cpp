// SPDX-License-Identifier: LGPL-2.1-or-later
// The JWKS cache: key rotation (one rate-limited refetch on an unknown kid), fetch failures keeping
// the old keys, static jwks_file never fetched. Time is injected.
#include "https_server.hpp"
#include "jwks_cache.hpp"
#include "keys.hpp"
#include "test_ca.hpp"
#include "testing.hpp"

#include <sys/stat.h>

using namespace psc;
using namespace psc::testing;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<TestCa> g_ca;
const JwksCache::TimePoint t0 = JwksCache::TimePoint() + 1000h;

// A provider whose published JWKS (or failure status) the test changes between requests.
struct Provider {
    std::mutex mu;
    std::string jwks;
    unsigned status = 200;
    std::unique_ptr<HttpsServer> server;

    void publish(std::string j, unsigned st = 200) {
        std::lock_guard l(mu);
        jwks = std::move(j);
        status = st;
    }
    std::string uri() const { return server->base_url() + "/certs"; }
};

std::unique_ptr<Provider> start_provider(std::string jwks) {
    auto p = std::make_unique<Provider>();
    p->jwks = std::move(jwks);
    HttpsServerOptions o;
    o.cert_pem = g_ca->server().cert_pem;
    o.key_pem = g_ca->server().key_pem;
    Provider* raw = p.get();
    auto s = HttpsServer::start(std::move(o), [raw](const ServerRequest&) {
        std::lock_guard l(raw->mu);
        return ServerResponse::json(raw->jwks, raw->status);
    });
    assert_ok(s);
    p->server = std::move(*s);
    return p;
}

std::unique_ptr<HttpClient> make_client() {
    HttpOptions o;
    o.ca_file = g_ca->ca().cert_path;
    o.total_timeout = 5s;
    auto c = HttpClient::create(o);
    assert_ok(c);
    return std::move(*c);
}

struct Key {
    EvpPkeyPtr pkey;
    std::string kid;
    std::string jwk() const { return testkeys::public_jwk_json(pkey.get(), {kid, "ES256", "sig"}); }
    std::string token() const {
        const auto sk = testkeys::signing_key(pkey.get(), JwsAlg::ES256, kid);
        return testkeys::mint_simple(testkeys::psc_claims(1700000000), sk);
    }
};

Key make_key(std::string kid) {
    return Key{testkeys::generate_key(testkeys::KeyType::P256), kid};
}

} // namespace

static void test_first_use_fetches_keys(void**) {
    Key a = make_key("a");
    auto p = start_provider(testkeys::jwks_json({a.jwk()}));
    auto c = make_client();
    JwksCache cache;
    assert_true(cache.stale(t0));
    auto v = verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0);
    assert_ok(v);
    assert_string_equal(v->kid.c_str(), "a");
    assert_int_equal(p->server->requests(), 1);
    assert_false(cache.stale(t0 + 10s));
    // Known kid: no further fetch.
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0 + 10s));
    assert_int_equal(p->server->requests(), 1);
}

static void test_rotated_key_refetched_once_and_accepted(void**) {
    Key a = make_key("a"), b = make_key("b");
    auto p = start_provider(testkeys::jwks_json({a.jwk()}));
    auto c = make_client();
    JwksCache cache;
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0));
    p->publish(testkeys::jwks_json({b.jwk()})); // the provider rotates
    auto v = verify_with_refetch(cache, *c, p->uri(), b.token(), {}, t0 + 61s);
    assert_ok(v);
    assert_string_equal(v->kid.c_str(), "b");
    assert_int_equal(p->server->requests(), 2);
    // The removed key no longer verifies once the rate limit allows a check.
    assert_reason(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0 + 200s),
                  "jws_unknown_kid");
    assert_int_equal(p->server->requests(), 3);
}

static void test_second_unknown_kid_within_rate_limit_not_refetched(void**) {
    Key a = make_key("a"), b = make_key("b"), x = make_key("x");
    auto p = start_provider(testkeys::jwks_json({a.jwk()}));
    auto c = make_client();
    JwksCache cache;
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0));
    p->publish(testkeys::jwks_json({a.jwk(), b.jwk()}));
    assert_ok(verify_with_refetch(cache, *c, p->uri(), b.token(), {}, t0 + 61s));
    assert_int_equal(p->server->requests(), 2);
    p->publish(testkeys::jwks_json({a.jwk(), b.jwk(), x.jwk()}));
    // 30 s after the last fetch: the unknown kid is rejected without asking the provider.
    assert_reason(verify_with_refetch(cache, *c, p->uri(), x.token(), {}, t0 + 91s),
                  "jws_unknown_kid");
    assert_int_equal(p->server->requests(), 2);
}

static void test_unknown_kid_right_after_fetch_not_refetched(void**) {
    Key a = make_key("a"), b = make_key("b");
    auto p = start_provider(testkeys::jwks_json({a.jwk()}));
    auto c = make_client();
    JwksCache cache;
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0));
    assert_reason(verify_with_refetch(cache, *c, p->uri(), b.token(), {}, t0 + 5s),
                  "jws_unknown_kid");
    assert_int_equal(p->server->requests(), 1);
}

static void test_fetch_failure_is_unavailable_and_keeps_old_keys(void**) {
    Key a = make_key("a"), b = make_key("b");
    auto p = start_provider(testkeys::jwks_json({a.jwk()}));
    auto c = make_client();
    JwksCache cache;
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0));
    p->publish(R"({"error":"down"})", 503);
    auto r = verify_with_refetch(cache, *c, p->uri(), b.token(), {}, t0 + 61s);
    assert_reason(r, "http_status");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::unavailable));
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0 + 62s));
    // The failed attempt counts for the rate limit too: no hammering a provider in trouble.
    assert_reason(verify_with_refetch(cache, *c, p->uri(), b.token(), {}, t0 + 70s),
                  "jws_unknown_kid");
    assert_int_equal(p->server->requests(), 2);
}

static void test_garbage_jwks_is_unavailable(void**) {
    Key a = make_key("a");
    auto p = start_provider(R"({"keys":"nope"})");
    auto c = make_client();
    JwksCache cache;
    auto r = verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0);
    assert_false(r.ok());
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::unavailable));
    assert_false(cache.has_keys());
    p->publish(R"({"error":"x"})", 404);
    assert_reason(fetch_jwks(*c, p->uri()), "jwks_status");
}

static void test_no_keys_and_rate_limited(void**) {
    Key a = make_key("a");
    auto p = start_provider(R"({"error":"down"})");
    p->publish(R"({"error":"down"})", 500);
    auto c = make_client();
    JwksCache cache;
    assert_reason(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0), "http_status");
    assert_reason(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0 + 1s),
                  "jwks_unavailable");
    assert_int_equal(p->server->requests(), 1);
}

static void test_stale_set_refreshed(void**) {
    Key a = make_key("a");
    auto p = start_provider(testkeys::jwks_json({a.jwk()}));
    auto c = make_client();
    JwksCache cache(JwksCacheOptions{std::chrono::seconds(600), std::chrono::seconds(60)});
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0));
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0 + 601s));
    assert_int_equal(p->server->requests(), 2);
    // A failed refresh keeps the keys it had.
    p->publish("{}", 503);
    assert_ok(verify_with_refetch(cache, *c, p->uri(), a.token(), {}, t0 + 1300s));
    assert_int_equal(p->server->requests(), 3);
}

static void test_rate_limit_logic(void**) {
    JwksCache cache;
    assert_true(cache.should_refetch_for_unknown_kid(t0));
    cache.note_attempt(t0);
    assert_false(cache.should_refetch_for_unknown_kid(t0 + 59s));
    assert_true(cache.should_refetch_for_unknown_kid(t0 + 60s));
    cache.replace(JwkSet{}, t0 + 100s);
    assert_false(cache.should_refetch_for_unknown_kid(t0 + 120s));
    assert_false(cache.stale(t0 + 120s));
    assert_true(cache.stale(t0 + 100s + 3600s));
}

static void test_static_file_never_fetched(void**) {
    Key a = make_key("a"), b = make_key("b");
    auto p = start_provider(testkeys::jwks_json({a.jwk(), b.jwk()}));
    const std::string path = g_ca->dir() + "/jwks.json";
    std::ofstream(path) << testkeys::jwks_json({a.jwk()});
    ::chmod(path.c_str(), 0644);
    auto cache = JwksCache::from_file(path);
    assert_ok(cache);
    assert_true(cache->is_static());
    assert_false(cache->stale(t0));
    auto c = make_client();
    assert_ok(verify_with_refetch(*cache, *c, p->uri(), a.token(), {}, t0));
    assert_reason(verify_with_refetch(*cache, *c, p->uri(), b.token(), {}, t0 + 1000s),
                  "jws_unknown_kid");
    assert_int_equal(p->server->connections(), 0);
}

static void test_static_file_checked(void**) {
    const std::string path = g_ca->dir() + "/bad-jwks.json";
    std::ofstream(path) << R"({"keys":[]})";
    ::chmod(path.c_str(), 0644);
    auto r = JwksCache::from_file(path);
    assert_reason(r, "jwks_no_usable_key");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::config));
    ::chmod(path.c_str(), 0666);
    assert_reason(JwksCache::from_file(path), "file_mode");
}

int main() {
    auto ca = TestCa::create();
    if (!ca) {
        std::fprintf(stderr, "test CA: %s\n", ca.error().describe().c_str());
        return 1;
    }
    g_ca = std::move(*ca);
    const CMUnitTest tests[] = {
        cmocka_unit_test(test_first_use_fetches_keys),
        cmocka_unit_test(test_rotated_key_refetched_once_and_accepted),
        cmocka_unit_test(test_second_unknown_kid_within_rate_limit_not_refetched),
        cmocka_unit_test(test_unknown_kid_right_after_fetch_not_refetched),
        cmocka_unit_test(test_fetch_failure_is_unavailable_and_keeps_old_keys),
        cmocka_unit_test(test_garbage_jwks_is_unavailable),
        cmocka_unit_test(test_no_keys_and_rate_limited),
        cmocka_unit_test(test_stale_set_refreshed),
        cmocka_unit_test(test_rate_limit_logic),
        cmocka_unit_test(test_static_file_never_fetched),
        cmocka_unit_test(test_static_file_checked),
    };
    const int rc = cmocka_run_group_tests(tests, nullptr, nullptr);
    g_ca.reset();
    return rc;
}

// SPDX-License-Identifier: LGPL-2.1-or-later
// The mTLS client certificate and key, and the CA file, as check-config and psc-authd check them
// (oidc/tls_files.hpp): valid, expired, not yet valid, mismatched, encrypted (never a prompt),
// not PEM.
#include "test_ca.hpp"
#include "testing.hpp"
#include "tls_files.hpp"

#include <openssl/pem.h>

using namespace psc;
using psc::testing::TestCa;

namespace {

std::unique_ptr<TestCa> g_ca;

int setup(void**) {
    auto ca = TestCa::create();
    if (!ca)
        return -1;
    g_ca = std::move(*ca);
    return 0;
}

int teardown(void**) {
    g_ca.reset();
    return 0;
}

Result<CertSummary> check(const psc::testing::CertKey& ck, std::time_t now = std::time(nullptr)) {
    return check_client_credentials(ck.cert_pem, ck.cert_path, Secret(ck.key_pem), ck.key_path, now);
}

std::string encrypt(const std::string& key_pem) {
    BIO* in = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
    BIO* out = BIO_new(BIO_s_mem());
    PEM_write_bio_PKCS8PrivateKey(out, k, EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                  const_cast<char*>("passphrase"));
    char* data = nullptr;
    const long len = BIO_get_mem_data(out, &data);
    std::string pem(data, static_cast<std::size_t>(len));
    BIO_free(in);
    BIO_free(out);
    EVP_PKEY_free(k);
    return pem;
}

} // namespace

static void test_valid_pair(void**) {
    auto ck = g_ca->issue_client("psc-login.example");
    assert_ok(ck);
    auto s = check(*ck);
    assert_ok(s);
    assert_string_equal(s->subject.c_str(), "CN=psc-login.example");
    assert_true(s->not_after > std::time(nullptr));
}

static void test_expired_and_not_yet_valid(void**) {
    auto old = g_ca->issue_client_valid("old", -7200, -3600);
    assert_ok(old);
    auto r = check(*old);
    assert_reason(r, "tls_cert_expired");
    assert_non_null(strstr(r.error().message.c_str(), "renew it with the ANS"));
    auto future = g_ca->issue_client_valid("future", 3600, 7200);
    assert_ok(future);
    assert_reason(check(*future), "tls_cert_not_yet_valid");
}

static void test_mismatched_key(void**) {
    auto a = g_ca->issue_client("a");
    auto b = g_ca->issue_client("b");
    assert_ok(a);
    assert_ok(b);
    psc::testing::CertKey mixed = *a;
    mixed.key_pem = b->key_pem;
    mixed.key_path = b->key_path;
    auto r = check(mixed);
    assert_reason(r, "tls_key_mismatch");
    assert_non_null(strstr(r.error().message.c_str(), b->key_path.c_str()));
}

// An encrypted key is refused by name: OpenSSL's default callback would read a passphrase from
// the terminal, and psc-authd must never wait on one.
static void test_encrypted_key_never_prompts(void**) {
    auto ck = g_ca->issue_client("enc");
    assert_ok(ck);
    psc::testing::CertKey enc = *ck;
    enc.key_pem = encrypt(ck->key_pem);
    assert_non_null(strstr(enc.key_pem.c_str(), "ENCRYPTED"));
    auto r = check(enc);
    assert_reason(r, "tls_key_encrypted");
    assert_int_equal(static_cast<int>(r.error().code), static_cast<int>(Errc::config));
    assert_non_null(strstr(r.error().message.c_str(), enc.key_path.c_str()));
}

static void test_not_pem(void**) {
    auto ck = g_ca->issue_client("x");
    assert_ok(ck);
    psc::testing::CertKey bad = *ck;
    bad.cert_pem = "not a certificate";
    assert_reason(check(bad), "tls_cert_invalid");
    bad = *ck;
    bad.key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_reason(check(bad), "tls_key_invalid");
}

static void test_ca_file(void**) {
    auto n = check_ca_pem(g_ca->ca().cert_pem + g_ca->untrusted_ca().cert_pem, "/etc/ca.pem");
    assert_ok(n);
    assert_int_equal(*n, 2);
    assert_reason(check_ca_pem("hello", "/etc/ca.pem"), "ca_file_invalid");
    assert_reason(check_ca_pem(g_ca->ca().cert_pem + "-----BEGIN CERTIFICATE-----\nZZ\n", "f"),
                  "ca_file_invalid");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_pair),
        cmocka_unit_test(test_expired_and_not_yet_valid),
        cmocka_unit_test(test_mismatched_key),
        cmocka_unit_test(test_encrypted_key_never_prompts),
        cmocka_unit_test(test_not_pem),
        cmocka_unit_test(test_ca_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

// SPDX-License-Identifier: LGPL-2.1-or-later
// Black-box test of `pscctl verify-id-token` ($PSC_PSCCTL): tokens minted with test keys, files in
// a temporary directory; checks exit codes (0 valid, 1 rejected, 2 usage) and what is printed.
#include "base64url.hpp"
#include "json.hpp"
#include "jwe.hpp"
#include "jws.hpp"
#include "keys.hpp"
#include "testing.hpp"

#include <cstdlib>
#include <openssl/evp.h>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace psc;
using namespace psc::testkeys;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;
const ClaimsOptions kOpts{};

struct Run {
    int status = -1;
    std::string out, err;
};

struct Fixture {
    std::string dir;
    std::string jwks;
    EvpPkeyPtr key;
};

Fixture* fx = nullptr;

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) {
    const std::string path = fx->dir + "/" + name;
    std::ofstream(path, std::ios::trunc) << content;
    chmod(path.c_str(), mode);
    return path;
}

// Runs pscctl with args; stdin from stdin_path (or /dev/null). No shell involved.
Run run(std::vector<std::string> args, const std::string& stdin_path = "/dev/null") {
    const char* exe = std::getenv("PSC_PSCCTL");
    assert_non_null(exe);
    const std::string out = fx->dir + "/stdout", err = fx->dir + "/stderr";
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const int in = open(stdin_path.c_str(), O_RDONLY);
        const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in < 0 || o < 0 || e < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(127);
        std::vector<char*> argv{const_cast<char*>(exe)};
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        execv(exe, argv.data());
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    Run r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

std::vector<std::string> base_args(const std::string& token_path) {
    return {"verify-id-token",    "--jwks",        fx->jwks,  "--issuer",  kOpts.issuer,
            "--client-id",        kOpts.client_id, "--nonce", kOpts.nonce, "--now",
            std::to_string(kNow), token_path};
}

std::string token_file(const std::string& claims) {
    return write("token",
                 mint_simple(claims, signing_key(fx->key.get(), JwsAlg::RS256, "k1")) + "\n");
}

// Inserts extra options before the final (token) argument.
std::vector<std::string> with(std::vector<std::string> args, std::vector<std::string> extra) {
    args.insert(args.end() - 1, extra.begin(), extra.end());
    return args;
}

void expect_invalid(const Run& r, const char* reason) {
    assert_int_equal(r.status, 1);
    const std::string prefix = std::string("invalid: ") + reason;
    if (r.out.rfind(prefix, 0) != 0)
        print_error("stdout: %s\n", r.out.c_str());
    assert_true(r.out.rfind(prefix, 0) == 0);
    assert_int_equal(std::count(r.out.begin(), r.out.end(), '\n'), 1); // exactly one line
}

void expect_usage(const Run& r) {
    assert_int_equal(r.status, 2);
    assert_true(r.out.empty());
    assert_false(r.err.empty());
}

int setup(void**) {
    fx = new Fixture;
    char tmpl[] = "/tmp/psc-pscctl-XXXXXX";
    if (!mkdtemp(tmpl))
        return -1;
    fx->dir = tmpl;
    fx->key = generate_key(KeyType::RSA2048);
    fx->jwks = write("jwks.json", jwks_json({public_jwk_json(fx->key.get(), {"k1", "", "sig"})}));
    return 0;
}

int teardown(void**) {
    std::filesystem::remove_all(fx->dir);
    delete fx;
    fx = nullptr;
    return 0;
}

} // namespace

static void test_valid_token_prints_claims(void**) {
    const Run r = run(base_args(token_file(psc_claims(kNow))));
    assert_int_equal(r.status, 0);
    auto claims = json_parse_object(r.out);
    assert_ok(claims);
    auto pu = json_get_string(claims->get(), "preferred_username");
    assert_ok(pu);
    assert_true(**pu == kOpts.preferred_username);
    assert_non_null(strchr(r.out.c_str(), '\n')); // pretty-printed
}

static void test_token_from_stdin(void**) {
    const Run r = run(base_args("-"), token_file(psc_claims(kNow)));
    assert_int_equal(r.status, 0);
}

static void test_expired_token_rejected(void**) {
    expect_invalid(run(with(base_args(token_file(psc_claims(kNow - 3600))), {})), "exp_expired");
}

static void test_wrong_issuer_rejected(void**) {
    auto args = base_args(token_file(psc_claims(kNow)));
    args[4] = "https://other.example";
    expect_invalid(run(args), "iss_mismatch");
}

static void test_nonce_mismatch_rejected(void**) {
    auto args = base_args(token_file(psc_claims(kNow)));
    args[8] = "another-nonce";
    expect_invalid(run(args), "nonce_mismatch");
}

static void test_acr_missing_option(void**) {
    ClaimsOptions o;
    o.acr.clear();
    const std::string t = token_file(psc_claims(kNow, o));
    expect_invalid(run(base_args(t)), "acr_missing");
    expect_invalid(run(with(base_args(t), {"--acr-missing", "reject"})), "acr_missing");
    assert_int_equal(run(with(base_args(t), {"--acr-missing=accept"})).status, 0);
}

static void test_acr_accept_option(void**) {
    const std::string t = token_file(psc_claims(kNow));
    expect_invalid(run(with(base_args(t), {"--acr-accept", "eidas3"})), "acr_not_accepted");
    assert_int_equal(run(with(base_args(t), {"--acr-accept", "eidas3 eidas1"})).status, 0);
}

static void test_algs_option(void**) {
    const std::string t = token_file(psc_claims(kNow));
    expect_invalid(run(with(base_args(t), {"--algs", "PS256 ES256"})), "jws_alg_not_allowed");
}

static void test_hs256_with_secret_file(void**) {
    const std::string secret = "client-secret-0123456789-abcdefghijklmnop";
    const std::string secret_file = write("secret", secret + "\n");
    const std::string t =
        write("token", mint_simple(psc_claims(kNow), hmac_signing_key(JwsAlg::HS256, secret)));
    expect_invalid(run(base_args(t)), "jws_alg_not_allowed");
    expect_invalid(run(with(base_args(t), {"--algs", "HS256"})), "jws_hmac_no_secret");
    assert_int_equal(
        run(with(base_args(t), {"--algs", "HS256", "--hs-secret-file", secret_file})).status, 0);
    // A group-readable secret file is refused as input (exit 2), not silently used.
    chmod(secret_file.c_str(), 0640);
    expect_usage(run(with(base_args(t), {"--algs", "HS256", "--hs-secret-file", secret_file})));
}

static void test_clock_skew_option(void**) {
    // exp 10 s in the past: inside the default 60 s skew, outside a 0 s skew.
    const std::string t = token_file(with_member(psc_claims(kNow - 100), "exp", "1699999990"));
    assert_int_equal(run(with(base_args(t), {"--max-token-age", "600"})).status, 0);
    expect_invalid(run(with(base_args(t), {"--clock-skew", "0"})), "exp_expired");
}

static void test_max_age_option(void**) {
    const std::string t = token_file(psc_claims(kNow)); // auth_time = now - 5
    assert_int_equal(run(with(base_args(t), {"--max-age", "300"})).status, 0);
    expect_invalid(run(with(base_args(t), {"--max-age", "1", "--clock-skew", "0"})),
                   "auth_time_too_old");
}

static void test_oversized_token_rejected(void**) {
    const std::string t = write("token", std::string(20 * 1024, 'A'));
    expect_invalid(run(base_args(t)), "jws_too_large");
}

static void test_garbage_token_rejected(void**) {
    expect_invalid(run(base_args(write("token", "not a token"))), "jws_format");
}

static void test_usage_errors(void**) {
    const std::string t = token_file(psc_claims(kNow));
    expect_usage(run({"verify-id-token"}));
    expect_usage(run({"verify-id-token", "--issuer", "x", "--client-id", "y", t})); // no --jwks
    expect_usage(run(with(base_args(t), {"--bogus", "1"})));
    expect_usage(run(with(base_args(t), {"--now", "12abc"})));
    expect_usage(run(with(base_args(t), {"--clock-skew", "-5"})));
    expect_usage(run(with(base_args(t), {"--acr-missing", "maybe"})));
    expect_usage(run(with(base_args(t), {"--algs", "none"})));
    expect_usage(run(with(base_args(t), {t}))); // two token files
    auto no_value = base_args(t);
    no_value.pop_back();
    no_value.push_back("--nonce");
    expect_usage(run(no_value));
    const Run r = run({"verify-id-token"});
    assert_non_null(strstr(r.err.c_str(), "Usage: pscctl verify-id-token"));
}

static void test_unreadable_inputs(void**) {
    expect_usage(run(base_args(fx->dir + "/missing-token")));
    auto args = base_args(token_file(psc_claims(kNow)));
    args[2] = write("bad-jwks.json", "{\"keys\": 1}");
    expect_usage(run(args));
    args[2] = fx->dir + "/missing-jwks.json";
    expect_usage(run(args));
}

namespace {

// A configuration as psc-authd reads it: issuer, client id, the test JWKS as jwks_file, the client
// secret (for HS256), and `extra` lines in [provider].
std::string config_file(const std::string& extra, bool with_jwks = true) {
    const std::string secret = write("client_secret", "client-secret-0123456789-abcdefghijklmnop\n");
    return write("psc-login.conf",
                 "[provider]\nissuer = " + kOpts.issuer + "\nclient_id = " + kOpts.client_id +
                     "\nclient_secret_file = " + secret + "\n" +
                     (with_jwks ? "jwks_file = " + fx->jwks + "\n" : std::string()) + extra,
                 0644);
}

std::vector<std::string> config_args(const std::string& config, const std::string& token,
                                     std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"verify-id-token", "--config", config,
                                  "--now",           std::to_string(kNow)};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(token);
    return args;
}

} // namespace

// --config: the daemon's policy from the file (issuer, client id, acr, algs, jwks_file), and an
// option given as well overrides it.
static void test_config_supplies_policy(void**) {
    const std::string t = token_file(psc_claims(kNow));
    assert_int_equal(run(config_args(config_file(""), t)).status, 0);
    assert_int_equal(run(config_args(config_file(""), t, {"--nonce", kOpts.nonce})).status, 0);
    expect_invalid(run(config_args(config_file(""), t, {"--nonce", "other"})), "nonce_mismatch");
    expect_invalid(run(config_args(config_file("acr_values = eidas3\nacr_accept = eidas3\n"), t)),
                   "acr_not_accepted");
    assert_int_equal(
        run(config_args(config_file("acr_accept = eidas3\n"), t, {"--acr-accept", "eidas1"}))
            .status,
        0);
    expect_invalid(run(config_args(config_file("id_token_algs = ES256\n"), t)),
                   "jws_alg_not_allowed");
    expect_invalid(run(config_args(config_file("clock_skew = 0s\n"),
                                   token_file(with_member(psc_claims(kNow - 100), "exp",
                                                          "1699999990")),
                                   {"--max-token-age", "600"})),
                   "exp_expired");
    // The configured issuer, not the token's, is the reference.
    const std::string other = write(
        "other.conf",
        "[provider]\nissuer = https://other.example/realms/x\nclient_id = " + kOpts.client_id +
            "\nclient_secret_file = " + fx->dir + "/client_secret\njwks_file = " + fx->jwks + "\n",
        0644);
    expect_invalid(run(config_args(other, t)), "iss_mismatch");
}

// HS256 configured: the client secret comes from client_secret_file, as in the daemon.
static void test_config_hs256_uses_client_secret(void**) {
    const std::string secret = "client-secret-0123456789-abcdefghijklmnop";
    const std::string t =
        write("token", mint_simple(psc_claims(kNow), hmac_signing_key(JwsAlg::HS256, secret)));
    expect_invalid(run(config_args(config_file(""), t)), "jws_alg_not_allowed");
    assert_int_equal(run(config_args(config_file("id_token_algs = HS256\n"), t)).status, 0);
}

static void test_config_errors_are_usage(void**) {
    const std::string t = token_file(psc_claims(kNow));
    // No jwks_file and no --jwks: says what to do.
    Run r = run(config_args(config_file("", false), t));
    expect_usage(r);
    assert_non_null(strstr(r.err.c_str(), "--jwks is required"));
    std::vector<std::string> with_jwks = config_args(config_file("", false), t);
    with_jwks.insert(with_jwks.begin() + 1, {"--jwks", fx->jwks});
    assert_int_equal(run(with_jwks).status, 0);
    // An invalid configuration is never half used.
    expect_usage(run(config_args(config_file("acr_missing = maybe\n"), t)));
    expect_usage(run(config_args(fx->dir + "/missing.conf", t)));
}

// --access-token: the token's at_hash must be the left half of SHA-256 (RS256) of it.
static void test_access_token_at_hash(void**) {
    const std::string access = "access-token-0123456789";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(access.data(), access.size(), md, &len, EVP_sha256(), nullptr), 1);
    const std::string t = token_file(
        with_member(psc_claims(kNow), "at_hash", "\"" + base64url_encode(md, len / 2) + "\""));
    assert_int_equal(run(with(base_args(t), {"--access-token", write("at", access + "\n")})).status,
                     0);
    expect_invalid(run(with(base_args(t), {"--access-token", write("at2", "another\n")})),
                   "at_hash_mismatch");
    expect_usage(run(with(base_args(t), {"--access-token", fx->dir + "/missing"})));
    expect_usage(run(with(base_args(t), {"--access-token", write("empty", "\n")})));
    // A token without at_hash is valid; a note says nothing was checked.
    const Run r = run(with(base_args(token_file(psc_claims(kNow))),
                           {"--access-token", write("at3", access)}));
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.err.c_str(), "the token has no at_hash"));
}

// --decryption-key: an encrypted token (JWE) is decrypted with a PEM or JWK private key, then
// checked as any other; without the key, or with another, it is refused with the same exit codes.
static void test_decryption_key(void**) {
    static EvpPkeyPtr enc = generate_key(KeyType::RSA2048);
    static EvpPkeyPtr other = generate_key(KeyType::RSA2048);
    const std::string jws = mint_simple(psc_claims(kNow), signing_key(fx->key.get(), JwsAlg::RS256,
                                                                      "k1"));
    auto jwe = jwe_encrypt(jws, enc.get(), JweAlg::RSA_OAEP_256, JweEnc::A256GCM, "rp-1", "JWT");
    assert_ok(jwe);
    const std::string t = write("enc-token", *jwe + "\n");
    const std::string pem = write("enc.pem", private_key_pem(enc.get()));
    const std::string jwk = write("enc.jwk", private_rsa_jwk_json(enc.get(), {"rp-1", "", ""}));
    for (const std::string& key : {pem, jwk}) {
        const Run r = run(with(base_args(t), {"--decryption-key", key}));
        assert_int_equal(r.status, 0);
        assert_non_null(strstr(r.out.c_str(), kOpts.preferred_username.c_str()));
        assert_non_null(strstr(r.err.c_str(), "decrypted (RSA-OAEP-256, A256GCM)"));
    }
    expect_invalid(run(base_args(t)), "jwe_no_key");
    expect_invalid(run(with(base_args(t), {"--decryption-key",
                                           write("other.pem", private_key_pem(other.get()))})),
                   "jwe_decrypt");
    expect_invalid(run(with(base_args(t), {"--decryption-key", jwk, "--decryption-algs",
                                           "RSA-OAEP"})),
                   "jwe_alg_not_allowed");
    // RSA1_5 only when listed.
    auto legacy = jwe_encrypt(jws, enc.get(), JweAlg::RSA1_5, JweEnc::A128CBC_HS256, "", "JWT");
    assert_ok(legacy);
    const std::string lt = write("legacy-token", *legacy);
    expect_invalid(run(with(base_args(lt), {"--decryption-key", pem})), "jwe_alg_not_allowed");
    assert_int_equal(
        run(with(base_args(lt), {"--decryption-key", pem, "--decryption-algs", "RSA1_5"})).status,
        0);
    // Unusable keys are exit 2: a readable private key, a public key, a bad algorithm list.
    expect_usage(run(with(base_args(t), {"--decryption-key",
                                         write("open.pem", private_key_pem(enc.get()), 0644)})));
    expect_usage(run(with(base_args(t), {"--decryption-key",
                                         write("pub.jwk", public_jwk_json(enc.get(), {}))})));
    expect_usage(run(with(base_args(t), {"--decryption-key", pem, "--decryption-algs", "A128KW"})));
    // --config: the daemon's id_token_decryption_key and id_token_decryption_algs.
    const std::string conf = config_file("id_token_algs = RS256\nid_token_decryption_key = " + jwk +
                                         "\n");
    assert_int_equal(run(config_args(conf, t, {"--nonce", kOpts.nonce})).status, 0);
    const std::string conf_oaep = config_file("id_token_algs = RS256\nid_token_decryption_key = " +
                                              jwk + "\nid_token_decryption_algs = RSA-OAEP\n");
    expect_invalid(run(config_args(conf_oaep, t, {"--nonce", kOpts.nonce})),
                   "jwe_alg_not_allowed");
}

static void test_help(void**) {
    const Run r = run({"verify-id-token", "--help"});
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out.c_str(), "--jwks FILE"));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_token_prints_claims),
        cmocka_unit_test(test_token_from_stdin),
        cmocka_unit_test(test_expired_token_rejected),
        cmocka_unit_test(test_wrong_issuer_rejected),
        cmocka_unit_test(test_nonce_mismatch_rejected),
        cmocka_unit_test(test_acr_missing_option),
        cmocka_unit_test(test_acr_accept_option),
        cmocka_unit_test(test_algs_option),
        cmocka_unit_test(test_hs256_with_secret_file),
        cmocka_unit_test(test_clock_skew_option),
        cmocka_unit_test(test_max_age_option),
        cmocka_unit_test(test_oversized_token_rejected),
        cmocka_unit_test(test_garbage_token_rejected),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_unreadable_inputs),
        cmocka_unit_test(test_config_supplies_policy),
        cmocka_unit_test(test_config_hs256_uses_client_secret),
        cmocka_unit_test(test_config_errors_are_usage),
        cmocka_unit_test(test_access_token_at_hash),
        cmocka_unit_test(test_decryption_key),
        cmocka_unit_test(test_help),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

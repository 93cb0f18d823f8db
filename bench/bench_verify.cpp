// SPDX-License-Identifier: LGPL-2.1-or-later
// ID-token validations per second, RS256 and ES256, measured against baselines in the same run,
// on the same token and key:
//   - warm OpenSSL EVP_DigestVerify of the signing input, its context set up once per key: the
//     physical floor (no parsing at all), and the ratio every figure is given against;
//   - cold OpenSSL (context set up per token) and libjwt (Debian's libjwt-dev) for comparison;
//   - the same token with a forged signature, which ours must refuse at no less cost.
// Goal: ours ≥ 0.9× the warm OpenSSL floor and ≥ libjwt. The program prints ratios; it never
// fails on them (speed is reported, not asserted). Rounds are interleaved so that a noisy
// neighbour on the 2-core machine hits every contender alike; min and median are printed.
#include "base64url.hpp"
#include "id_token.hpp"
#include "jwk.hpp"
#include "keys.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <jwt.h>
#include <openssl/ecdsa.h>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
namespace tk = psc::testkeys;

struct Case {
    const char* name;
    std::string token;
    psc::JwkSet jwks;
    psc::IdTokenPolicy policy;
    psc::EvpPkeyPtr pub;
    std::string signing_input;
    std::string der_signature; // what EVP_DigestVerify takes (DER for ECDSA)
    std::string pem;           // public key PEM for libjwt
    const EVP_MD* md = EVP_sha256();
};

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "bench_verify: %s\n", what);
    std::exit(1);
}

std::string raw_to_der(const std::string& raw) {
    const std::size_t half = raw.size() / 2;
    psc::EcdsaSigPtr sig(ECDSA_SIG_new());
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), half, nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + half, half, nullptr);
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1)
        die("cannot build ECDSA_SIG");
    unsigned char* der = nullptr;
    const int len = i2d_ECDSA_SIG(sig.get(), &der);
    if (len <= 0)
        die("cannot encode ECDSA_SIG");
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
    OPENSSL_free(der);
    return out;
}

Case make_case(const char* name, tk::KeyType type, psc::JwsAlg alg, std::int64_t now) {
    Case c;
    c.name = name;
    auto priv = tk::generate_key(type);
    c.token = tk::mint_simple(tk::psc_claims(now), tk::signing_key(priv.get(), alg, "bench-key"));
    auto set =
        psc::parse_jwks(tk::jwks_json({tk::public_jwk_json(priv.get(), {"bench-key", "", "sig"})}));
    if (!set)
        die("cannot parse the benchmark JWKS");
    c.jwks = std::move(*set);
    c.policy.issuer = tk::ClaimsOptions{}.issuer;
    c.policy.client_id = tk::ClaimsOptions{}.client_id;
    c.policy.nonce = tk::ClaimsOptions{}.nonce;
    c.policy.jws.allowed_algs = {alg};
    c.pub = psc::evp_pkey_share(c.jwks.keys.front()->key.get());
    const std::size_t dot = c.token.rfind('.');
    c.signing_input = c.token.substr(0, dot);
    auto sig = psc::base64url_decode(std::string_view(c.token).substr(dot + 1));
    if (!sig)
        die("bad signature encoding");
    c.der_signature = EVP_PKEY_get_base_id(c.pub.get()) == EVP_PKEY_EC ? raw_to_der(*sig) : *sig;
    c.pem = tk::public_key_pem(c.pub.get());
    return c;
}

bool ours(const Case& c, std::int64_t now) {
    return psc::validate_id_token(c.token, c.jwks, c.policy, now).ok();
}

bool raw_openssl(const Case& c) {
    psc::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, c.md, nullptr, c.pub.get()) != 1)
        return false;
    return EVP_DigestVerify(ctx.get(),
                            reinterpret_cast<const unsigned char*>(c.der_signature.data()),
                            c.der_signature.size(),
                            reinterpret_cast<const unsigned char*>(c.signing_input.data()),
                            c.signing_input.size()) == 1;
}

// The floor for a warm key: the verification context set up once, copied per token (what
// psc::jws_verify does since keys are long-lived). Shows how much of the gap is parsing.
bool raw_openssl_cached(const Case& c, EVP_MD_CTX* tmpl) {
    psc::EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), tmpl) != 1)
        return false;
    return EVP_DigestVerify(ctx.get(),
                            reinterpret_cast<const unsigned char*>(c.der_signature.data()),
                            c.der_signature.size(),
                            reinterpret_cast<const unsigned char*>(c.signing_input.data()),
                            c.signing_input.size()) == 1;
}

bool libjwt(const Case& c) {
    jwt_t* jwt = nullptr;
    const int rc =
        jwt_decode(&jwt, c.token.c_str(), reinterpret_cast<const unsigned char*>(c.pem.data()),
                   static_cast<int>(c.pem.size()));
    jwt_free(jwt);
    return rc == 0;
}

// Operations per second over `seconds`.
double rate(const std::function<bool()>& op, double seconds) {
    // Warm up and check the operation really succeeds: a benchmark of a failing path is a lie.
    for (int i = 0; i < 20; ++i)
        if (!op())
            die("an operation under test failed");
    std::size_t n = 0;
    const auto start = Clock::now();
    const auto stop = start + std::chrono::duration<double>(seconds);
    auto now = start;
    while (now < stop) {
        for (int i = 0; i < 50; ++i)
            (void)op();
        n += 50;
        now = Clock::now();
    }
    return static_cast<double>(n) / std::chrono::duration<double>(now - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double lowest(const std::vector<double>& v) {
    return *std::min_element(v.begin(), v.end());
}

} // namespace

int main(int argc, char** argv) {
    double seconds = 1.0;
    if (argc > 1)
        seconds = std::strtod(argv[1], nullptr); // bench-only knob; not untrusted input
    if (!(seconds > 0.05 && seconds < 60))
        seconds = 1.0;
    const std::int64_t now = std::time(nullptr);
    const int rounds = 5;

    std::printf("ID-token validation, %d interleaved rounds, %.2f s per contender per round;\n"
                "rates in tokens/s as min / median of the rounds\n\n",
                rounds, seconds / rounds / 5);
    std::printf("%-6s %-16s %19s %19s %8s\n", "alg", "contender", "min", "median", "÷ warm");
    bool goals_met = true;
    for (auto [name, type, alg] : {std::tuple{"RS256", tk::KeyType::RSA2048, psc::JwsAlg::RS256},
                                   std::tuple{"ES256", tk::KeyType::P256, psc::JwsAlg::ES256}}) {
        const Case c = make_case(name, type, alg, now);
        // The same token with a signature character changed (well inside it, so that the
        // encoding stays canonical): a forgery, which costs a full verification to refuse.
        std::string forged = c.token;
        char& flip = forged[forged.size() - 12];
        flip = flip == 'A' ? 'B' : 'A';
        auto refuse = [&] { return !psc::validate_id_token(forged, c.jwks, c.policy, now).ok(); };
        if (!refuse())
            die("the forged token was accepted");
        psc::EvpMdCtxPtr tmpl(EVP_MD_CTX_new());
        if (!tmpl || EVP_DigestVerifyInit(tmpl.get(), nullptr, c.md, nullptr, c.pub.get()) != 1)
            die("cannot set up the warm verification context");
        std::vector<double> r_ours, r_forged, r_raw, r_warm, r_jwt;
        const double slice = seconds / rounds / 5;
        for (int r = 0; r < rounds; ++r) {
            r_warm.push_back(rate([&] { return raw_openssl_cached(c, tmpl.get()); }, slice));
            r_ours.push_back(rate([&] { return ours(c, now); }, slice));
            r_forged.push_back(rate(refuse, slice));
            r_raw.push_back(rate([&] { return raw_openssl(c); }, slice));
            r_jwt.push_back(rate([&] { return libjwt(c); }, slice));
        }
        const double warm = median(r_warm);
        auto row = [&](const char* who, const std::vector<double>& v) {
            std::printf("%-6s %-16s %19.0f %19.0f %7.2fx\n", name, who, lowest(v), median(v),
                        median(v) / warm);
        };
        row("openssl-warm", r_warm);
        row("ours (valid)", r_ours);
        row("ours (forged)", r_forged);
        row("openssl-cold", r_raw);
        row("libjwt", r_jwt);
        goals_met = goals_met && median(r_ours) / warm >= 0.9 && median(r_ours) >= median(r_jwt);
    }
    std::printf("\ngoals (ours >= 0.90x the warm OpenSSL floor and >= libjwt, medians): %s\n",
                goals_met ? "met" : "NOT met");
    std::printf(
        "ours = full ID-token validation (JWS, header and claims JSON, every claim check);\n"
        "ours (forged) = the same token with a changed signature, refused;\n"
        "openssl-warm = EVP_DigestVerify with a context set up once per key, copied per token (the\n"
        "floor: ours keeps its keys' contexts the same way); openssl-cold = EVP_DigestVerifyInit +\n"
        "EVP_DigestVerify per token; libjwt = Debian's libjwt decoding and verifying the token.\n");
    return 0;
}

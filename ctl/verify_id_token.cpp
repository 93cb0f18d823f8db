// SPDX-License-Identifier: LGPL-2.1-or-later
// `pscctl verify-id-token`: the daemon's ID-token validation (design §3), offline, on a token file
// and a JWKS file — for operators checking what a provider sends and for black-box tests. Exit 0:
// valid, claims printed as JSON on stdout. Exit 1: rejected, one line "invalid: <reason>: <detail>"
// on stdout. Exit 2: bad usage or unusable input, message on stderr.
#include "cli_args.hpp"
#include "commands.hpp"
#include "file_io.hpp"
#include "login_finish.hpp"
#include "id_token.hpp"
#include "jwe.hpp"
#include "jwk.hpp"
#include "jws.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <unistd.h>
#include <ctime>
#include <string>
#include <string_view>

namespace psc::ctl {
namespace {

constexpr std::size_t kTokenFileMaxBytes = 1024 * 1024; // the 16 KiB JWT limit is applied later
constexpr std::int64_t kMaxSeconds = 10LL * 365 * 86400;

constexpr const char* kUsage =
    "Usage: pscctl verify-id-token --jwks FILE --issuer ISS --client-id ID [--nonce N]\n"
    "         [--acr-accept \"eidas1 ...\"] [--acr-missing accept|reject] [--algs \"RS256 ...\"]\n"
    "         [--hs-secret-file FILE] [--trusted-audiences \"AUD ...\"] [--now EPOCH]\n"
    "         [--max-age SECONDS] [--max-token-age SECONDS] [--clock-skew SECONDS]\n"
    "         [--access-token FILE] [--decryption-key FILE [--decryption-algs \"RSA-OAEP ...\"]]\n"
    "         TOKEN_FILE|-\n"
    "       pscctl verify-id-token --config PATH [--jwks FILE] [OPTIONS...] TOKEN_FILE|-\n"
    "\nWith --config, the issuer, client id, algorithms, acr policy, audiences, clock skew,\n"
    "token age, max_age, jwks_file, client secret (for HS*) and decryption key are those\n"
    "psc-authd uses; any option given as well overrides its value.\n"
    "An encrypted token (JWE) needs --decryption-key (a PEM or JWK private key, not readable by\n"
    "group or others); the signed token inside is then checked as any other.\n";

struct Options {
    std::string config_file, jwks_file, token_file, hs_secret_file, decryption_key_file;
    JweKeySet decryption_keys;
    JweDecryptPolicy decryption; // its keys are set once the options are in place
    Secret access_token; // --access-token: checked against the token's at_hash
    std::optional<std::int64_t> now;
    IdTokenPolicy policy;
    // The options in the order given, applied on top of the configuration's policy.
    std::vector<std::pair<std::string, std::string>> given;
};

Error usage_error(std::string message) {
    return make_error(Errc::invalid, "usage", std::move(message));
}

Result<std::int64_t> seconds_arg(std::string_view name, std::string_view value, std::int64_t lo,
                                 std::int64_t hi) {
    auto v = parse_int<std::int64_t>(value, lo, hi);
    if (!v)
        return usage_error(std::string(name) + ": " + v.error().message);
    return v;
}

// Applies one "--name value" pair to opts.
Status apply_option(Options& o, std::string_view name, const std::string& value) {
    IdTokenPolicy& p = o.policy;
    if (name == "--jwks") {
        o.jwks_file = value;
    } else if (name == "--issuer") {
        p.issuer = value;
    } else if (name == "--client-id") {
        p.client_id = value;
    } else if (name == "--nonce") {
        p.nonce = value;
    } else if (name == "--acr-accept") {
        p.acr_accept = split_ws(value);
    } else if (name == "--acr-missing") {
        if (value != "accept" && value != "reject")
            return usage_error("--acr-missing must be \"accept\" or \"reject\"");
        p.acr_missing_accept = value == "accept";
    } else if (name == "--algs") {
        auto algs = parse_alg_list(value);
        if (!algs)
            return usage_error("--algs: " + algs.error().message);
        p.jws.allowed_algs = std::move(*algs);
    } else if (name == "--access-token") {
        FileRules rules;
        rules.max_bytes = kTokenFileMaxBytes;
        auto f = read_file_checked(value, rules);
        if (!f)
            return make_error(Errc::io, f.error().reason, value + ": " + f.error().message);
        o.access_token = Secret(trim(f->content));
        if (o.access_token.empty())
            return usage_error("--access-token: " + value + " is empty");
        p.access_token = o.access_token.view();
    } else if (name == "--decryption-key") {
        o.decryption_key_file = value;
    } else if (name == "--decryption-algs") {
        auto algs = parse_jwe_alg_list(value);
        if (!algs)
            return usage_error("--decryption-algs: " + algs.error().message);
        o.decryption.allowed_algs = std::move(*algs);
    } else if (name == "--hs-secret-file") {
        o.hs_secret_file = value;
    } else if (name == "--trusted-audiences") {
        p.trusted_audiences = split_ws(value);
    } else if (name == "--now") {
        auto v = seconds_arg(name, value, 0, (std::int64_t{1} << 40));
        if (!v)
            return std::move(v).error();
        o.now = *v;
    } else if (name == "--max-age" || name == "--max-token-age" || name == "--clock-skew") {
        auto v = seconds_arg(name, value, 0, kMaxSeconds);
        if (!v)
            return std::move(v).error();
        const std::chrono::seconds s(*v);
        if (name == "--max-age")
            p.max_age = s;
        else if (name == "--max-token-age")
            p.max_token_age = s;
        else
            p.clock_skew = s;
    } else {
        return usage_error("unknown option " + std::string(name));
    }
    return {};
}

// Splits the arguments; the options are applied later (apply_given), once the configuration's
// policy, if any, is in place.
Result<Options> parse_args(int argc, char** argv) {
    Options o;
    bool positional_only = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (positional_only || arg == "-" || arg.substr(0, 2) != "--") {
            if (!o.token_file.empty())
                return usage_error("more than one token file given");
            o.token_file = std::string(arg);
            continue;
        }
        if (arg == "--") {
            positional_only = true;
            continue;
        }
        const auto eq = arg.find('=');
        const std::string_view name = arg.substr(0, eq);
        std::string value;
        if (eq != std::string_view::npos)
            value = std::string(arg.substr(eq + 1));
        else if (i + 1 < argc)
            value = argv[++i];
        else
            return usage_error(std::string(name) + " needs a value");
        if (name == "--config")
            o.config_file = value;
        else
            o.given.emplace_back(name, std::move(value));
    }
    if (o.token_file.empty())
        return usage_error("no token file given (use - for standard input)");
    return o;
}

Status apply_given(Options& o) {
    for (const auto& [name, value] : o.given)
        PSC_TRY(apply_option(o, name, value));
    if (o.jwks_file.empty() || o.policy.issuer.empty() || o.policy.client_id.empty())
        return usage_error(o.config_file.empty()
                               ? "--jwks, --issuer and --client-id are required"
                               : "--jwks is required: the configuration has no jwks_file (save "
                                 "the provider's JWKS, from its jwks_uri, to a file)");
    return {};
}

// --config: the policy psc-authd builds (id_token_policy) from the configuration, and its client
// secret when an HS* algorithm is configured. The nonce stays unchecked unless --nonce is given
// (the daemon's nonce is per login).
Status apply_config(Options& o, std::optional<Secret>& secret) {
    auto cfg = ctl::load_config_for_cli(o.config_file);
    if (!cfg)
        return usage_error("the configuration " + o.config_file + " is not valid (see pscctl "
                           "check-config)");
    const ProviderConfig& p = cfg->provider;
    const bool hmac = std::any_of(p.id_token_algs.begin(), p.id_token_algs.end(),
                                  [](const std::string& a) {
                                      auto alg = jws_alg_from_name(a);
                                      return alg && jws_alg_is_hmac(*alg);
                                  });
    if (hmac && !p.client_secret_file.empty()) {
        auto s = load_client_secret(*cfg, ::geteuid());
        if (!s)
            return make_error(Errc::io, s.error().reason, s.error().describe());
        secret = std::move(*s);
    }
    ProviderMetadata md;
    md.issuer = p.issuer;
    auto pol = id_token_policy(*cfg, md, std::nullopt, secret ? &*secret : nullptr);
    if (!pol)
        return usage_error(pol.error().describe());
    o.policy = std::move(*pol);
    o.jwks_file = p.jwks_file;
    o.decryption_key_file = p.id_token_decryption_key;
    o.decryption.allowed_algs.clear();
    for (const auto& name : p.id_token_decryption_algs)
        if (auto alg = jwe_alg_from_name(name))
            o.decryption.allowed_algs.push_back(*alg);
    return {};
}

Result<std::string> read_token(const std::string& path) {
    if (path != "-") {
        FileRules rules;
        rules.max_bytes = kTokenFileMaxBytes;
        auto f = read_file_checked(path, rules);
        if (!f)
            return std::move(f).error();
        return std::move(f->content);
    }
    std::string text;
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
        text.append(buf, n);
        if (text.size() > kTokenFileMaxBytes)
            return make_error(Errc::invalid, "file_too_large", "standard input is too large");
    }
    if (std::ferror(stdin))
        return make_error(Errc::io, "file_read", "cannot read standard input");
    return text;
}

Result<JwkSet> read_jwks(const std::string& path) {
    FileRules rules;
    rules.max_bytes = kJwksMaxBytes;
    auto f = read_file_checked(path, rules);
    if (!f)
        return std::move(f).error();
    auto set = parse_jwks(f->content);
    if (!set)
        return set;
    for (const auto& line : set->skipped)
        std::fprintf(stderr, "pscctl verify-id-token: JWKS: skipped %s\n",
                     strip_control(line).c_str());
    return set;
}

int fail_usage(const Error& e) {
    std::fprintf(stderr, "pscctl verify-id-token: %s\n%s", strip_control(e.message).c_str(),
                 kUsage);
    return kExitUsage;
}

int fail_input(const char* what, const Error& e) {
    std::fprintf(stderr, "pscctl verify-id-token: cannot use %s: %s\n", what,
                 strip_control(e.describe()).c_str());
    return kExitUsage;
}

} // namespace

int cmd_verify_id_token(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
            std::fputs(kUsage, stdout);
            return kExitOk;
        }
    auto opts = parse_args(argc, argv);
    if (!opts)
        return fail_usage(opts.error());
    std::optional<Secret> config_secret;
    if (!opts->config_file.empty())
        if (auto st = apply_config(*opts, config_secret); !st)
            return st.error().code == Errc::io ? fail_input(opts->config_file.c_str(), st.error())
                                               : fail_usage(st.error());
    if (auto st = apply_given(*opts); !st)
        return st.error().code == Errc::io ? fail_input("--access-token", st.error())
                                           : fail_usage(st.error());
    auto jwks = read_jwks(opts->jwks_file);
    if (!jwks)
        return fail_input(opts->jwks_file.c_str(), jwks.error());
    Secret hs_secret;
    if (!opts->hs_secret_file.empty()) {
        FileRules rules;
        rules.max_bytes = 4096;
        rules.refuse_group_world_readable = true;
        rules.refuse_group_world_writable = true;
        auto s = read_secret_file(opts->hs_secret_file, rules);
        if (!s)
            return fail_input(opts->hs_secret_file.c_str(), s.error());
        hs_secret = std::move(*s);
        opts->policy.jws.hmac_secret = &hs_secret;
    }
    if (!opts->decryption_key_file.empty()) {
        FileRules rules;
        rules.max_bytes = 64 * 1024;
        rules.refuse_group_world_readable = true;
        rules.refuse_group_world_writable = true;
        auto text = read_secret_file(opts->decryption_key_file, rules);
        if (!text)
            return fail_input(opts->decryption_key_file.c_str(), text.error());
        auto keys = parse_jwe_keys(text->view());
        if (!keys)
            return fail_input(opts->decryption_key_file.c_str(), keys.error());
        opts->decryption_keys = std::move(*keys);
        opts->decryption.keys = &opts->decryption_keys;
        opts->policy.jws.decryption = &opts->decryption;
    }
    auto token = read_token(opts->token_file);
    if (!token)
        return fail_input(opts->token_file.c_str(), token.error());
    const std::int64_t now = opts->now.value_or(static_cast<std::int64_t>(std::time(nullptr)));
    auto r = validate_id_token(trim(*token), *jwks, opts->policy, now);
    if (!r) {
        std::printf("invalid: %s\n", strip_control(r.error().describe()).c_str());
        return kExitRejected;
    }
    if (!opts->access_token.empty() && json_member(r->claims.get(), "at_hash") == nullptr)
        std::fputs("pscctl verify-id-token: note: the token has no at_hash: the access token "
                   "was not checked\n",
                   stderr);
    if (r->signed_token)
        std::fprintf(stderr, "pscctl verify-id-token: note: decrypted (%s, %s); the signed token "
                             "inside is valid\n",
                     r->jwe_alg.c_str(), r->jwe_enc.c_str());
    std::printf("%s\n", json_to_string(r->claims.get(), true).c_str());
    return kExitOk;
}

} // namespace psc::ctl

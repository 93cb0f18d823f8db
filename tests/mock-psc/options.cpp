// SPDX-License-Identifier: LGPL-2.1-or-later
#include "options.hpp"

#include "file_io.hpp"
#include "jwe.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <string_view>

#ifndef MOCK_PSC_IDENTITIES_DIR
#define MOCK_PSC_IDENTITIES_DIR "identities"
#endif

namespace psc::mock {

namespace {

Error usage_error(std::string message) {
    return make_error(Errc::invalid, "usage", std::move(message));
}

Result<std::chrono::seconds> parse_seconds(std::string_view flag, std::string_view text) {
    auto v = parse_int<long>(text, 1, 86400);
    if (!v) {
        Error e = std::move(v).error();
        e.message = std::string(flag) + ": " + e.message;
        return e;
    }
    return std::chrono::seconds(*v);
}

using ValueSetter = std::function<Status(MockOptions&, std::string_view)>;
using FlagSetter = std::function<void(MockOptions&)>;

Status set_seconds(std::chrono::seconds& out, std::string_view flag, std::string_view v) {
    auto s = parse_seconds(flag, v);
    if (!s)
        return std::move(s).error();
    out = *s;
    return {};
}

Status read_secret(MockOptions& o, std::string_view path) {
    auto s = read_secret_file(std::string(path), FileRules{.max_bytes = 4096});
    if (!s)
        return std::move(s).error();
    o.client_secret = std::string(s->view());
    return {};
}

const std::map<std::string_view, ValueSetter>& value_flags() {
    static const std::map<std::string_view, ValueSetter> flags{
        {"--state-file",
         [](MockOptions& o, std::string_view v) -> Status {
             o.state_file = v;
             return {};
         }},
        {"--public-host",
         [](MockOptions& o, std::string_view v) -> Status {
             const bool ok = !v.empty() && v.size() < 200 &&
                             std::all_of(v.begin(), v.end(), [](char c) {
                                 return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                                        c == '-';
                             });
             if (!ok)
                 return make_error(Errc::config, "usage", "--public-host needs a DNS name");
             o.public_host = v;
             return {};
         }},
        {"--identities",
         [](MockOptions& o, std::string_view v) -> Status {
             o.identities_dir = v;
             return {};
         }},
        {"--client-id",
         [](MockOptions& o, std::string_view v) -> Status {
             o.client_id = v;
             return {};
         }},
        {"--client-secret",
         [](MockOptions& o, std::string_view v) -> Status {
             o.client_secret = v;
             return {};
         }},
        {"--client-secret-file", read_secret},
        {"--client-cert-subject",
         [](MockOptions& o, std::string_view v) -> Status {
             o.client_cert_subject = v;
             return {};
         }},
        {"--client-public-key",
         [](MockOptions& o, std::string_view v) -> Status {
             o.client_public_key_file = v;
             return {};
         }},
        {"--encrypt-to",
         [](MockOptions& o, std::string_view v) -> Status {
             o.encrypt_to_file = v;
             return {};
         }},
        {"--encrypt-alg",
         [](MockOptions& o, std::string_view v) -> Status {
             if (!jwe_alg_from_name(v))
                 return make_error(Errc::config, "usage", "--encrypt-alg: unknown " + std::string(v));
             o.encrypt_alg = v;
             return {};
         }},
        {"--encrypt-enc",
         [](MockOptions& o, std::string_view v) -> Status {
             if (!jwe_enc_from_name(v))
                 return make_error(Errc::config, "usage", "--encrypt-enc: unknown " + std::string(v));
             o.encrypt_enc = v;
             return {};
         }},
        {"--encrypt-kid",
         [](MockOptions& o, std::string_view v) -> Status {
             o.encrypt_kid = v;
             return {};
         }},
        {"--auto-approve",
         [](MockOptions& o, std::string_view v) -> Status {
             o.auto_approve = v;
             return {};
         }},
        {"--access-ttl",
         [](MockOptions& o, std::string_view v) {
             return set_seconds(o.access_ttl, "--access-ttl", v);
         }},
        {"--refresh-ttl",
         [](MockOptions& o, std::string_view v) {
             return set_seconds(o.refresh_ttl, "--refresh-ttl", v);
         }},
        {"--code-ttl", [](MockOptions& o,
                          std::string_view v) { return set_seconds(o.code_ttl, "--code-ttl", v); }},
        {"--ciba-expires-in",
         [](MockOptions& o, std::string_view v) {
             return set_seconds(o.ciba_expires_in, "--ciba-expires-in", v);
         }},
        {"--ciba-interval",
         [](MockOptions& o, std::string_view v) {
             return set_seconds(o.ciba_interval, "--ciba-interval", v);
         }},
        {"--fault",
         [](MockOptions& o, std::string_view v) -> Status {
             auto f = parse_fault_spec(v);
             if (!f)
                 return std::move(f).error();
             o.faults.push_back(*f);
             return {};
         }},
    };
    return flags;
}

const std::map<std::string_view, FlagSetter>& bool_flags() {
    static const std::map<std::string_view, FlagSetter> flags{
        {"--no-client-secret", [](MockOptions& o) { o.client_secret.clear(); }},
        {"--redirect-loopback-any-port",
         [](MockOptions& o) { o.redirect_loopback_any_port = true; }},
        {"--device-grant", [](MockOptions& o) { o.device_grant = true; }},
        {"--standard-discovery", [](MockOptions& o) { o.standard_discovery = true; }},
        {"--es256", [](MockOptions& o) { o.es256 = true; }},
        {"--pkce-optional", [](MockOptions& o) { o.pkce_required = false; }},
        {"--no-end-session", [](MockOptions& o) { o.no_end_session = true; }},
        {"--exit-with-parent", [](MockOptions& o) { o.exit_with_parent = true; }},
    };
    return flags;
}

} // namespace

const char* usage_text() noexcept {
    return "usage: mock-psc [options]   (see tests/mock-psc/README.md)\n"
           "  --state-file PATH            write the start-up JSON here (default: stdout)\n"
           "  --identities DIR             identity files (default: the shipped set)\n"
           "  --client-id ID               registered client (default psc-login-demo)\n"
           "  --client-secret S | --client-secret-file PATH | --no-client-secret\n"
           "  --redirect-uri URI           registered redirect URI (repeatable)\n"
           "  --redirect-loopback-any-port a loopback redirect URI matches any port\n"
           "  --client-cert-subject DN     tls_client_auth subject (default: issued cert's)\n"
           "  --client-public-key PEM      public key for private_key_jwt\n"
           "  --encrypt-to PEM [--encrypt-alg A] [--encrypt-enc E] [--encrypt-kid K]\n"
           "                               encrypt ID tokens and signed UserInfo to this key\n"
           "  --access-ttl S --refresh-ttl S --code-ttl S --ciba-expires-in S --ciba-interval S\n"
           "  --auto-approve IDNAT         skip the login page, log in as IDNAT\n"
           "  --device-grant               enable the device authorization grant\n"
           "  --standard-discovery         also answer /.well-known/openid-configuration\n"
           "  --es256                      sign ID tokens with ES256 instead of RS256\n"
           "  --pkce-optional              accept authorization requests without PKCE\n"
           "  --no-end-session             discovery names no end_session_endpoint\n"
           "  --fault NAME[:next|all][@ENDPOINT]   arm a fault (repeatable)\n"
           "  --public-host NAME           URLs and certificate name NAME (listening on\n"
           "                               127.0.0.1): reachable only through a proxy\n"
           "  --exit-with-parent           exit when the parent process dies (tests)\n";
}

Result<ParsedArgs> parse_args(int argc, char** argv) {
    ParsedArgs out;
    out.options.identities_dir = MOCK_PSC_IDENTITIES_DIR;
    bool redirect_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            out.outcome = ParseOutcome::help;
            return out;
        }
        if (const auto b = bool_flags().find(arg); b != bool_flags().end()) {
            b->second(out.options);
            continue;
        }
        const bool is_redirect = arg == "--redirect-uri";
        const auto v = value_flags().find(arg);
        if (!is_redirect && v == value_flags().end())
            return usage_error("unknown option " + std::string(arg));
        if (i + 1 >= argc)
            return usage_error(std::string(arg) + " needs a value");
        const std::string_view value = argv[++i];
        if (is_redirect) {
            if (!redirect_given)
                out.options.redirect_uris.clear();
            redirect_given = true;
            out.options.redirect_uris.emplace_back(value);
            continue;
        }
        PSC_TRY(v->second(out.options, value));
    }
    return out;
}

} // namespace psc::mock

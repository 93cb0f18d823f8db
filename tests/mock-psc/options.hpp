// SPDX-License-Identifier: LGPL-2.1-or-later
// mock-psc's command line (README.md lists every flag). Defaults mirror PSC: access tokens live
// 120 s, refresh tokens 30 min, CIBA interval 5 s; tests shorten them.
#pragma once

#include "faults.hpp"
#include "result.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace psc::mock {

struct MockOptions {
    std::string state_file; // empty: the state JSON goes to stdout
    // Non-empty: the URLs (issuer, endpoints) name this host instead of 127.0.0.1, and the server
    // certificate is for it, while the server still listens on 127.0.0.1 — a provider that only
    // a proxy which resolves the name can reach (the outbound-proxy tests).
    std::string public_host;
    std::string identities_dir;
    std::string client_id = "psc-login-demo";
    std::string client_secret = "mock-psc-secret"; // empty: secret-based methods refused
    std::vector<std::string> redirect_uris{"http://127.0.0.1:8765/callback"};
    // RFC 8252 §7.3: a registered loopback redirect URI matches any port.
    bool redirect_loopback_any_port = false;
    // tls_client_auth: expected subject (RFC 4514 "CN=…"); empty = the issued client cert's.
    std::string client_cert_subject;
    std::string client_public_key_file; // PEM public key for private_key_jwt; empty: refused
    // Encrypted ID tokens and signed UserInfo JWTs (JWE): the client's PEM public key; empty: none.
    std::string encrypt_to_file;
    std::string encrypt_alg = "RSA-OAEP-256";
    std::string encrypt_enc = "A256GCM";
    std::string encrypt_kid; // the kid the client registered; empty: no kid header
    std::chrono::seconds access_ttl{120};
    std::chrono::seconds refresh_ttl{1800};
    std::chrono::seconds code_ttl{60};
    std::chrono::seconds ciba_expires_in{120};
    std::chrono::seconds ciba_interval{5};
    std::string auto_approve; // idNat approved without showing the login page
    bool device_grant = false;
    bool standard_discovery = false;
    bool es256 = false;
    bool pkce_required = true;
    bool no_end_session = false; // discovery names no end_session_endpoint (a provider without)
    bool exit_with_parent = false; // tests: PR_SET_PDEATHSIG, no orphan if a test crashes
    std::vector<ArmedFault> faults;
};

enum class ParseOutcome { run, help };

struct ParsedArgs {
    ParseOutcome outcome = ParseOutcome::run;
    MockOptions options;
};

// Reasons: usage (unknown flag, missing value), number, number_range, plus parse_fault_spec's.
[[nodiscard]] Result<ParsedArgs> parse_args(int argc, char** argv);
[[nodiscard]] const char* usage_text() noexcept;

} // namespace psc::mock

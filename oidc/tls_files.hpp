// SPDX-License-Identifier: LGPL-2.1-or-later
// The TLS files psc-login.conf names, checked the way an administrator needs them checked before
// a login depends on them (design §7, pscctl check-config, psc-authd at start): the client
// certificate and key for mTLS (PEM, the key unencrypted — psc-authd never prompts for a
// passphrase — and matching the certificate, the certificate within its validity), and the CA file
// (PEM certificates). Errors are Errc::config with the file named and the fix in the message.
#pragma once

#include "result.hpp"
#include "secret.hpp"

#include <ctime>
#include <string>
#include <string_view>

namespace psc {

struct CertSummary {
    std::string subject; // one line, RFC 2253
    std::string issuer;
    std::time_t not_before = 0;
    std::time_t not_after = 0;
};

// Reasons: tls_cert_invalid (no PEM certificate), tls_key_encrypted, tls_key_invalid,
// tls_key_mismatch, tls_cert_expired, tls_cert_not_yet_valid.
[[nodiscard]] Result<CertSummary> check_client_credentials(std::string_view cert_pem,
                                                           std::string_view cert_path,
                                                           const Secret& key_pem,
                                                           std::string_view key_path,
                                                           std::time_t now);
// The number of certificates in a CA file. Reason: ca_file_invalid (none, or a bad PEM block).
[[nodiscard]] Result<std::size_t> check_ca_pem(std::string_view pem, std::string_view path);
// "2027-03-01 12:00 UTC".
[[nodiscard]] std::string utc_date(std::time_t t);

} // namespace psc

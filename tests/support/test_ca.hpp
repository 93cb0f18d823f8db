// SPDX-License-Identifier: LGPL-2.1-or-later
// Test-only PKI generated at test time (OpenSSL 3, EC P-256): a trusted CA, a server certificate
// for 127.0.0.1/localhost, client certificates for mTLS, and a second CA nobody trusts. PEM files
// live in a temporary directory removed when the TestCa is destroyed.
#pragma once

#include "result.hpp"

#include <memory>
#include <string>
#include <vector>

namespace psc::testing {

struct CertKey {
    std::string cert_pem;
    std::string key_pem;
    std::string cert_path;
    std::string key_path;
};

class TestCa {
public:
    [[nodiscard]] static Result<std::unique_ptr<TestCa>> create();
    ~TestCa();
    TestCa(const TestCa&) = delete;
    TestCa& operator=(const TestCa&) = delete;

    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
    // The CA tests trust (pass ca().cert_path as ca_file).
    [[nodiscard]] const CertKey& ca() const noexcept { return ca_; }
    // Server certificate from ca(): SAN IP:127.0.0.1, DNS:localhost.
    [[nodiscard]] const CertKey& server() const noexcept { return server_; }
    // A CA that nothing trusts, and a server certificate (same names) it issued.
    [[nodiscard]] const CertKey& untrusted_ca() const noexcept { return untrusted_ca_; }
    [[nodiscard]] const CertKey& untrusted_server() const noexcept { return untrusted_server_; }

    // Server certificate from ca() for other names (e.g. a hostname-mismatch test).
    [[nodiscard]] Result<CertKey> issue_server(const std::vector<std::string>& dns_names,
                                               const std::vector<std::string>& ips,
                                               const std::string& file_stem);
    // Client certificate (extendedKeyUsage clientAuth) with subject CN=cn, from ca() or the
    // untrusted CA.
    [[nodiscard]] Result<CertKey> issue_client(const std::string& cn, bool untrusted = false);
    // The same, valid from now + not_before to now + not_after (seconds; negative: in the past).
    [[nodiscard]] Result<CertKey> issue_client_valid(const std::string& cn, long not_before,
                                                     long not_after, bool untrusted = false);

    struct Issuer;

private:
    TestCa() = default;
    std::string dir_;
    CertKey ca_, server_, untrusted_ca_, untrusted_server_;
    std::unique_ptr<Issuer> trusted_, untrusted_;
    int serial_ = 1;
};

} // namespace psc::testing

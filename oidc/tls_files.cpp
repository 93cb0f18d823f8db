// SPDX-License-Identifier: LGPL-2.1-or-later
#include "tls_files.hpp"

#include "ssl_ptr.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace psc {
namespace {

Error bad(std::string reason, std::string message) {
    return make_error(Errc::config, std::move(reason), std::move(message));
}

BioPtr mem_bio(std::string_view s) {
    return BioPtr(BIO_new_mem_buf(s.data(), static_cast<int>(s.size())));
}

std::string name_line(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0)
        return "?";
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::time_t to_time(const ASN1_TIME* t) {
    struct tm tm {};
    if (ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    return timegm(&tm);
}

// Never a terminal prompt (PEM_def_callback reads /dev/tty): a passphrase is simply absent.
int no_passphrase(char*, int, int, void* asked) {
    *static_cast<bool*>(asked) = true;
    return -1;
}

} // namespace

std::string utc_date(std::time_t t) {
    struct tm tm {};
    char buf[32];
    if (!gmtime_r(&t, &tm) || std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        return "?";
    return buf;
}

Result<CertSummary> check_client_credentials(std::string_view cert_pem, std::string_view cert_path,
                                             const Secret& key_pem, std::string_view key_path,
                                             std::time_t now) {
    const std::string cp(cert_path), kp(key_path);
    auto cbio = mem_bio(cert_pem);
    X509Ptr cert(cbio ? PEM_read_bio_X509(cbio.get(), nullptr, nullptr, nullptr) : nullptr);
    ERR_clear_error();
    if (!cert)
        return bad("tls_cert_invalid", cp + " holds no PEM certificate (from a .p12: openssl "
                                            "pkcs12 -in FILE.p12 -clcerts -nokeys -out " + cp + ")");
    bool asked = false;
    auto kbio = mem_bio(key_pem.view());
    EvpPkeyPtr key(kbio ? PEM_read_bio_PrivateKey(kbio.get(), nullptr, no_passphrase, &asked)
                        : nullptr);
    ERR_clear_error();
    if (!key && asked)
        return bad("tls_key_encrypted",
                   kp + " is encrypted with a passphrase, which psc-authd cannot ask for: "
                        "write it unencrypted (openssl pkey -in " + kp + " -out NEW.key), "
                        "chmod 600, owned by root");
    if (!key)
        return bad("tls_key_invalid", kp + " holds no PEM private key (from a .p12: openssl "
                                           "pkcs12 -in FILE.p12 -nocerts -nodes -out " + kp + ")");
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        return bad("tls_key_mismatch", kp + " is not the private key of the certificate " + cp);
    }
    CertSummary s;
    s.subject = name_line(X509_get_subject_name(cert.get()));
    s.issuer = name_line(X509_get_issuer_name(cert.get()));
    s.not_before = to_time(X509_get0_notBefore(cert.get()));
    s.not_after = to_time(X509_get0_notAfter(cert.get()));
    if (s.not_after <= now)
        return bad("tls_cert_expired", cp + " (" + s.subject + ") expired on " +
                                           utc_date(s.not_after) + ": renew it with the ANS");
    if (s.not_before > now)
        return bad("tls_cert_not_yet_valid",
                   cp + " (" + s.subject + ") is valid only from " + utc_date(s.not_before) +
                       " (is the clock right?)");
    return s;
}

Result<std::size_t> check_ca_pem(std::string_view pem, std::string_view path) {
    auto bio = mem_bio(pem);
    std::size_t n = 0;
    while (bio) {
        X509Ptr c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
        if (!c)
            break;
        ++n;
    }
    const unsigned long err = ERR_peek_last_error();
    ERR_clear_error();
    // The loop ends on "no start line" at the end of the file; anything else is a broken block.
    if (n == 0 || (err != 0 && ERR_GET_REASON(err) != PEM_R_NO_START_LINE))
        return bad("ca_file_invalid",
                   std::string(path) + " is not a file of PEM certificates" +
                       (n ? " (a block after certificate " + std::to_string(n) + " is broken)"
                          : ""));
    return n;
}

} // namespace psc

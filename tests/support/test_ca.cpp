// SPDX-License-Identifier: LGPL-2.1-or-later
#include "test_ca.hpp"

#include "ssl_ptr.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <utility>

namespace psc::testing {

struct TestCa::Issuer {
    EvpPkeyPtr key;
    X509Ptr cert;
};

namespace {

using X509ExtPtr = Owned<X509_EXTENSION, X509_EXTENSION_free>;
using X509NamePtr = Owned<X509_NAME, X509_NAME_free>;

Error ssl_failure(const std::string& what) {
    ERR_clear_error();
    return make_error(Errc::internal, "test_ca", what);
}

Result<EvpPkeyPtr> new_key() {
    EvpPkeyPtr k(EVP_EC_gen("P-256"));
    if (!k)
        return ssl_failure("EC key generation failed");
    return k;
}

Status add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1)
        return ssl_failure("cannot add extension " + value);
    return {};
}

struct CertSpec {
    std::string cn;
    std::vector<std::pair<int, std::string>> exts;
    long not_before = -3600; // seconds from now
    long not_after = 86400;
};

// Issues a certificate for key, signed by issuer (or self-signed when issuer is null), valid from
// an hour ago for a day (tolerates small clock differences between test processes).
Result<X509Ptr> make_cert(const CertSpec& spec, EVP_PKEY* key, const TestCa::Issuer* issuer,
                          long serial) {
    X509Ptr cert(X509_new());
    X509NamePtr name(X509_NAME_new());
    if (!cert || !name ||
        X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1, -1,
                                   0) != 1)
        return ssl_failure("cannot build subject");
    if (X509_set_version(cert.get(), 2) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial) != 1 ||
        X509_set_subject_name(cert.get(), name.get()) != 1 ||
        X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer->cert.get())
                                                : name.get()) != 1 ||
        !X509_gmtime_adj(X509_getm_notBefore(cert.get()), spec.not_before) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert.get()), spec.not_after) ||
        X509_set_pubkey(cert.get(), key) != 1)
        return ssl_failure("cannot fill certificate");
    X509* issuer_cert = issuer ? issuer->cert.get() : cert.get();
    for (const auto& [nid, value] : spec.exts)
        PSC_TRY(add_ext(cert.get(), issuer_cert, nid, value));
    if (X509_sign(cert.get(), issuer ? issuer->key.get() : key, EVP_sha256()) <= 0)
        return ssl_failure("cannot sign certificate");
    return cert;
}

template <class WriteFn>
Result<std::string> to_pem(WriteFn write) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1)
        return ssl_failure("cannot write PEM");
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

Status write_file(const std::string& path, const std::string& content) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << content;
    f.close();
    if (!f)
        return make_error(Errc::io, "test_ca", "cannot write " + path);
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
    return {};
}

Result<CertKey> export_pair(const std::string& dir, const std::string& stem, X509* cert,
                            EVP_PKEY* key) {
    CertKey out;
    auto c = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert); });
    auto k = to_pem([&](BIO* b) {
        return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
    });
    if (!c || !k)
        return ssl_failure("cannot export " + stem);
    out.cert_pem = std::move(*c);
    out.key_pem = std::move(*k);
    out.cert_path = dir + "/" + stem + ".crt";
    out.key_path = dir + "/" + stem + ".key";
    PSC_TRY(write_file(out.cert_path, out.cert_pem));
    PSC_TRY(write_file(out.key_path, out.key_pem));
    return out;
}

Result<std::unique_ptr<TestCa::Issuer>> make_ca(const std::string& cn) {
    auto key = new_key();
    if (!key)
        return std::move(key).error();
    const CertSpec spec{cn,
                        {{NID_basic_constraints, "critical,CA:TRUE"},
                         {NID_key_usage, "critical,keyCertSign,cRLSign"},
                         {NID_subject_key_identifier, "hash"},
                         {NID_authority_key_identifier, "keyid:always"}}};
    auto cert = make_cert(spec, key->get(), nullptr, 1);
    if (!cert)
        return std::move(cert).error();
    auto ca = std::make_unique<TestCa::Issuer>();
    ca->key = std::move(*key);
    ca->cert = std::move(*cert);
    return ca;
}

Result<CertKey> issue(const std::string& dir, const std::string& stem, const TestCa::Issuer& ca,
                      CertSpec spec, long serial) {
    auto key = new_key();
    if (!key)
        return std::move(key).error();
    spec.exts.insert(spec.exts.begin(), {{NID_basic_constraints, "critical,CA:FALSE"},
                                         {NID_subject_key_identifier, "hash"},
                                         {NID_authority_key_identifier, "keyid:always"}});
    auto cert = make_cert(spec, key->get(), &ca, serial);
    if (!cert)
        return std::move(cert).error();
    return export_pair(dir, stem, cert->get(), key->get());
}

std::string san_list(const std::vector<std::string>& dns, const std::vector<std::string>& ips) {
    std::string s;
    for (const auto& d : dns)
        s += (s.empty() ? "DNS:" : ",DNS:") + d;
    for (const auto& i : ips)
        s += (s.empty() ? "IP:" : ",IP:") + i;
    return s;
}

} // namespace

Result<std::unique_ptr<TestCa>> TestCa::create() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "psc-testca.XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
        return make_error(Errc::io, "test_ca", "mkdtemp failed");
    std::unique_ptr<TestCa> ca(new TestCa());
    ca->dir_ = tmpl;
    auto trusted = make_ca("psc-login test CA");
    auto untrusted = make_ca("psc-login untrusted CA");
    if (!trusted || !untrusted)
        return trusted ? std::move(untrusted).error() : std::move(trusted).error();
    ca->trusted_ = std::move(*trusted);
    ca->untrusted_ = std::move(*untrusted);
    auto ca_pem = export_pair(ca->dir_, "ca", ca->trusted_->cert.get(), ca->trusted_->key.get());
    auto un_pem = export_pair(ca->dir_, "untrusted-ca", ca->untrusted_->cert.get(),
                              ca->untrusted_->key.get());
    if (!ca_pem || !un_pem)
        return ca_pem ? std::move(un_pem).error() : std::move(ca_pem).error();
    ca->ca_ = std::move(*ca_pem);
    ca->untrusted_ca_ = std::move(*un_pem);
    auto server = ca->issue_server({"localhost"}, {"127.0.0.1"}, "server");
    if (!server)
        return std::move(server).error();
    ca->server_ = std::move(*server);
    const CertSpec spec{"localhost",
                        {{NID_key_usage, "critical,digitalSignature"},
                         {NID_ext_key_usage, "serverAuth"},
                         {NID_subject_alt_name, san_list({"localhost"}, {"127.0.0.1"})}}};
    auto bad = issue(ca->dir_, "untrusted-server", *ca->untrusted_, spec, ++ca->serial_);
    if (!bad)
        return std::move(bad).error();
    ca->untrusted_server_ = std::move(*bad);
    return ca;
}

TestCa::~TestCa() {
    std::error_code ec;
    if (!dir_.empty())
        std::filesystem::remove_all(dir_, ec);
}

Result<CertKey> TestCa::issue_server(const std::vector<std::string>& dns_names,
                                     const std::vector<std::string>& ips,
                                     const std::string& file_stem) {
    const CertSpec spec{dns_names.empty() ? std::string("server") : dns_names.front(),
                        {{NID_key_usage, "critical,digitalSignature"},
                         {NID_ext_key_usage, "serverAuth"},
                         {NID_subject_alt_name, san_list(dns_names, ips)}}};
    return issue(dir_, file_stem, *trusted_, spec, ++serial_);
}

Result<CertKey> TestCa::issue_client(const std::string& cn, bool untrusted) {
    return issue_client_valid(cn, -3600, 86400, untrusted);
}

Result<CertKey> TestCa::issue_client_valid(const std::string& cn, long not_before, long not_after,
                                           bool untrusted) {
    const CertSpec spec{cn,
                        {{NID_key_usage, "critical,digitalSignature"},
                         {NID_ext_key_usage, "clientAuth"}},
                        not_before,
                        not_after};
    const std::string stem =
        std::string(untrusted ? "untrusted-" : "") + "client-" + std::to_string(serial_ + 1);
    return issue(dir_, stem, untrusted ? *untrusted_ : *trusted_, spec, ++serial_);
}

} // namespace psc::testing

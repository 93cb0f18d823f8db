// SPDX-License-Identifier: LGPL-2.1-or-later
// mock-psc: a Pro Santé Connect look-alike on 127.0.0.1 for tests and demos (README.md).
// Start-up order: parse arguments → block signals (the server threads inherit the mask) → load
// identities → generate the test PKI and keys → listen → publish the state JSON → wait for
// SIGTERM/SIGINT → stop the server → remove the temporary directory.
#include "file_io.hpp"
#include "https_server.hpp"
#include "identities.hpp"
#include "keys.hpp"
#include "options.hpp"
#include "provider.hpp"
#include "random.hpp"
#include "test_ca.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <openssl/pem.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace {

using namespace psc;
using namespace psc::mock;

int fail(const char* what, const Error& e) {
    std::fprintf(stderr, "mock-psc: failed to %s: %s\n", what, e.describe().c_str());
    return 1;
}

// A relying party's public key (PEM SubjectPublicKeyInfo); `what` names the option in errors.
Result<EvpPkeyPtr> read_public_key(const std::string& path, const char* what) {
    auto data = read_file_checked(path, FileRules{.max_bytes = 64 * 1024});
    if (!data)
        return std::move(data).error();
    BioPtr bio(BIO_new_mem_buf(data->content.data(), static_cast<int>(data->content.size())));
    EvpPkeyPtr key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key)
        return make_error(Errc::config, what, path + " holds no PEM public key");
    return key;
}

// private_key_jwt: the relying party's public key as a one-key set.
Result<JwkSet> load_client_keys(const std::string& path) {
    auto key = read_public_key(path, "client_public_key");
    if (!key)
        return std::move(key).error();
    return parse_jwks(testkeys::jwks_json({testkeys::public_jwk_json(key->get(), {})}));
}

std::string state_json(const Provider& p, const testing::TestCa& ca, const testing::CertKey& client,
                       const ProviderConfig& cfg) {
    JsonPtr doc = json_new_object();
    json_set(doc.get(), "base_url", p.url(""));
    json_set(doc.get(), "issuer", p.issuer());
    json_set(doc.get(), "discovery_url", p.issuer() + std::string(kWalletDiscovery));
    json_set(doc.get(), "ca_file", ca.ca().cert_path);
    json_set(doc.get(), "untrusted_ca_file", ca.untrusted_ca().cert_path);
    json_set(doc.get(), "client_cert", client.cert_path);
    json_set(doc.get(), "client_key", client.key_path);
    json_set(doc.get(), "client_cert_subject", cfg.client_cert_subject);
    json_set(doc.get(), "client_id", cfg.options.client_id);
    json_set(doc.get(), "client_secret", cfg.options.client_secret);
    json_set_strings(doc.get(), "redirect_uris", cfg.options.redirect_uris);
    json_set(doc.get(), "demo_url", p.url(kDemoPath));
    json_set(doc.get(), "control_url", p.url(kControlPath));
    json_set(doc.get(), "control_token", cfg.control_token);
    json_set(doc.get(), "pid", static_cast<std::int64_t>(getpid()));
    return json_to_string(doc.get()) + "\n";
}

// Written to a temporary name and renamed, so a test polling for the file never reads half of it.
Status publish_state(const std::string& path, const std::string& json) {
    if (path.empty()) {
        std::fputs(json.c_str(), stdout);
        std::fflush(stdout);
        return {};
    }
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << json;
        if (!out.flush())
            return make_error(Errc::io, "state_file", "cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        return make_error(Errc::io, "state_file", path + ": " + ec.message());
    return {};
}

Result<ProviderConfig> configure(MockOptions options) {
    ProviderConfig cfg;
    auto ids = load_identities(options.identities_dir);
    if (!ids)
        return std::move(ids).error();
    cfg.identities = std::move(*ids);
    if (!options.auto_approve.empty() && !cfg.identities.count(options.auto_approve))
        return make_error(Errc::config, "auto_approve", "unknown idNat " + options.auto_approve);
    if (!options.client_public_key_file.empty()) {
        auto keys = load_client_keys(options.client_public_key_file);
        if (!keys)
            return std::move(keys).error();
        cfg.client_keys = std::move(*keys);
    }
    if (!options.encrypt_to_file.empty()) {
        auto key = read_public_key(options.encrypt_to_file, "encrypt_to");
        if (!key)
            return std::move(key).error();
        cfg.encrypt_to.reset(key->release(), EVP_PKEY_free);
    }
    cfg.client_cert_subject = options.client_cert_subject.empty() ? "CN=" + options.client_id
                                                                  : options.client_cert_subject;
    auto token = random_token(32);
    if (!token)
        return std::move(token).error();
    cfg.control_token = *token;
    cfg.options = std::move(options);
    return cfg;
}

int run(MockOptions options, const sigset_t& signals) {
    auto ca = testing::TestCa::create();
    if (!ca)
        return fail("create the test CA", ca.error());
    auto client = (*ca)->issue_client(options.client_id);
    if (!client)
        return fail("issue the client certificate", client.error());
    const std::string state_file = options.state_file;
    auto cfg = configure(std::move(options));
    if (!cfg)
        return fail("configure", cfg.error());
    auto provider = Provider::create(*cfg);
    if (!provider)
        return fail("create the provider", provider.error());
    Provider* p = provider->get();
    const std::string public_host = cfg->options.public_host;
    testing::CertKey public_cert;
    if (!public_host.empty()) {
        auto c = (*ca)->issue_server({public_host}, {}, "public-server");
        if (!c)
            return fail("issue the server certificate for --public-host", c.error());
        public_cert = std::move(*c);
    }
    const testing::CertKey& server_cert = p->tls_untrusted() ? (*ca)->untrusted_server()
                                          : public_host.empty() ? (*ca)->server()
                                                                : public_cert;
    testing::HttpsServerOptions so;
    so.cert_pem = server_cert.cert_pem;
    so.key_pem = server_cert.key_pem;
    so.client_ca_pem = (*ca)->ca().cert_pem;
    auto server = testing::HttpsServer::start(
        so, [p](const testing::ServerRequest& r) { return p->handle(r); });
    if (!server)
        return fail("start the HTTPS server", server.error());
    std::string base_url = (*server)->base_url();
    if (!public_host.empty())
        base_url.replace(base_url.find("127.0.0.1"), 9, public_host);
    p->set_base_url(base_url);
    if (auto st = publish_state(state_file, state_json(*p, **ca, *client, *cfg)); !st)
        return fail("publish the state", st.error());
    std::fprintf(stderr, "mock-psc: listening on %s (issuer %s)\n", p->url("").c_str(),
                 p->issuer().c_str());
    int sig = 0;
    sigwait(&signals, &sig);
    p->shutdown();
    (*server)->stop();
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    auto args = parse_args(argc, argv);
    if (!args) {
        std::fprintf(stderr, "mock-psc: %s\n%s", args.error().describe().c_str(), usage_text());
        return 2;
    }
    if (args->outcome == ParseOutcome::help) {
        std::fputs(usage_text(), stdout);
        return 0;
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    if (args->options.exit_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1) // the parent already went away
            return 0;
    }
    return run(std::move(args->options), signals);
}

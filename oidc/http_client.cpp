// SPDX-License-Identifier: LGPL-2.1-or-later
#include "http_client.hpp"

#include "file_io.hpp"
#include "owned.hpp"
#include "secret.hpp"
#include "ssl_ptr.hpp"
#include "strutil.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <curl/curl.h>
#include <map>
#include <mutex>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <optional>
#include <poll.h>
#include <utility>

namespace psc {
namespace {

using CurlEasyPtr = Owned<CURL, curl_easy_cleanup>;
using CurlMultiPtr = Owned<CURLM, curl_multi_cleanup>;
using CurlUrlPtr = Owned<CURLU, curl_url_cleanup>;
using CurlSlistPtr = Owned<curl_slist, curl_slist_free_all>;
using CurlStrPtr = Owned<char, curl_free>;
using CurlSharePtr = Owned<CURLSH, curl_share_cleanup>;
using X509StorePtr = Owned<X509_STORE, X509_STORE_free>;
using X509Owner = Owned<X509, X509_free>;

constexpr std::size_t kMaxUrlBytes = 8 * 1024;
constexpr std::size_t kMaxHeaderBytes = 8 * 1024;
// Loopback connections never go through the proxy.
constexpr std::string_view kNoProxy = "localhost,127.0.0.1,::1";

Error http_error(std::string reason, std::string message) {
    return make_error(Errc::unavailable, std::move(reason), std::move(message));
}

// The URL as shown in messages: no query or fragment (they may carry codes or hints).
std::string url_for_message(std::string_view url) {
    const std::size_t cut = std::min(url.find_first_of("?#"), std::size_t{200});
    return strip_control(url.substr(0, cut));
}

bool is_loopback_host(std::string_view host) {
    const std::string h = ascii_lower(host);
    return h == "127.0.0.1" || h == "[::1]" || h == "localhost";
}

std::optional<std::string> url_part(CURLU* u, CURLUPart part) {
    char* raw = nullptr;
    if (curl_url_get(u, part, &raw, 0) != CURLUE_OK)
        return std::nullopt;
    CurlStrPtr owned(raw);
    return std::string(raw);
}

// Parses with curl's own URL parser and hands the parsed handle to the transfer, so the URL that
// was checked is exactly the URL that is fetched (no parser differential).
Result<CurlUrlPtr> parse_checked_url(std::string_view url, bool allow_insecure_http) {
    const std::string shown = url_for_message(url);
    if (url.empty() || url.size() > kMaxUrlBytes || url.find('\0') != std::string_view::npos)
        return http_error("http_bad_url", "unusable URL \"" + shown + "\"");
    CurlUrlPtr u(curl_url());
    if (!u)
        return make_error(Errc::internal, "oom", "cannot allocate a URL handle");
    if (curl_url_set(u.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK)
        return http_error("http_bad_url", "malformed URL \"" + shown + "\"");
    const auto raw_scheme = url_part(u.get(), CURLUPART_SCHEME);
    const std::string scheme = raw_scheme ? ascii_lower(*raw_scheme) : std::string();
    // design §3: https only; plain http only for a loopback test provider when allowed.
    if (scheme != "https" && scheme != "http")
        return http_error("http_insecure_url", "refusing \"" + shown + "\": only https is allowed");
    const auto host = url_part(u.get(), CURLUPART_HOST);
    if (!host || host->empty())
        return http_error("http_bad_url", "URL without host \"" + shown + "\"");
    if (scheme == "https" || (allow_insecure_http && is_loopback_host(*host)))
        return u;
    return http_error("http_insecure_url",
                      "refusing \"" + shown + "\": only https is allowed" +
                          (allow_insecure_http ? " (plain http only to a loopback host)" : ""));
}

Status check_headers(const std::vector<std::string>& headers) {
    for (const auto& h : headers) {
        if (h.size() > kMaxHeaderBytes || h.find_first_of("\r\n") != std::string::npos ||
            h.find('\0') != std::string::npos || h.find(':') == std::string::npos)
            return make_error(Errc::invalid, "http_header", "malformed request header");
    }
    return {};
}

void global_init_once() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The TLS material every transfer shares, loaded once when the client is created (and again only
// when a new client is, on reload): the trust store (the system's anchors plus ca_file), and the
// client certificate and key for mTLS, kept in memory. A new connection then costs a handshake,
// not a re-read of the system bundle and of the key files. Fails at start-up, not at the first
// login, when a file is unusable.
struct TlsMaterial {
    X509StorePtr trust;
    std::string cert_pem; // leaf first, then its chain (IGC Santé intermediates)
    Secret key_pem;
};

Result<X509StorePtr> load_trust(const std::string& ca_file) {
    const curl_version_info_data* v = curl_version_info(CURLVERSION_NOW);
    if (!v || !v->ssl_version || std::strncmp(v->ssl_version, "OpenSSL", 7) != 0)
        return make_error(Errc::config, "http_tls_backend", "psc-login needs libcurl built with OpenSSL");
    X509StorePtr store(X509_STORE_new());
    if (!store || X509_STORE_set_default_paths(store.get()) != 1) {
        ERR_clear_error();
        return make_error(Errc::internal, "http_trust", "cannot load the system's trust anchors");
    }
    ERR_clear_error(); // a missing system bundle is not an error: ca_file may be all there is
    if (!ca_file.empty() && X509_STORE_load_file(store.get(), ca_file.c_str()) != 1) {
        ERR_clear_error();
        return make_error(Errc::config, "http_ca_file", "cannot load CA file " + ca_file);
    }
    return store;
}

Result<TlsMaterial> load_tls_material(const HttpOptions& o) {
    TlsMaterial m;
    auto trust = load_trust(o.ca_file);
    if (!trust)
        return std::move(trust).error();
    m.trust = std::move(*trust);
    if (o.client_cert.empty() && o.client_key.empty())
        return m;
    const auto bad = [&](const std::string& what) {
        ERR_clear_error();
        return make_error(Errc::config, "http_client_cert", what);
    };
    if (o.client_cert.empty() || o.client_key.empty())
        return bad("client certificate and key must both be set");
    auto cert = read_file_checked(o.client_cert, FileRules{});
    if (!cert)
        return bad("cannot read client certificate " + o.client_cert);
    FileRules key_rules;
    key_rules.max_bytes = 64 * 1024;
    auto key = read_secret_file(o.client_key, key_rules);
    if (!key)
        return bad("cannot read client key " + o.client_key);
    BioPtr cb(BIO_new_mem_buf(cert->content.data(), static_cast<int>(cert->content.size())));
    X509Owner x(cb ? PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr) : nullptr);
    BioPtr kb(BIO_new_mem_buf(key->view().data(), static_cast<int>(key->view().size())));
    // Never a passphrase prompt: an encrypted key simply fails here.
    EvpPkeyPtr k(kb ? PEM_read_bio_PrivateKey(kb.get(), nullptr,
                                              [](char*, int, int, void*) { return -1; }, nullptr)
                    : nullptr);
    if (!x)
        return bad("cannot read client certificate " + o.client_cert);
    if (!k)
        return bad("cannot read client key " + o.client_key + " (PEM, unencrypted)");
    if (X509_check_private_key(x.get(), k.get()) != 1)
        return bad("client key does not match certificate " + o.client_cert);
    m.cert_pem = std::move(cert->content);
    m.key_pem = std::move(*key);
    return m;
}

struct Transfer {
    HttpRequestId id = 0;
    CurlEasyPtr easy;
    CurlUrlPtr url;
    CurlSlistPtr headers;
    std::string shown_url;
    std::string body;
    std::string response;
    std::size_t cap = 0;
    bool too_large = false;
    bool proxied = false; // a proxy is configured (the host may still be in no_proxy)
    char errbuf[CURL_ERROR_SIZE] = {};
    HttpCallback done;
};

size_t write_cb(char* p, size_t size, size_t n, void* ud) noexcept {
    auto* t = static_cast<Transfer*>(ud);
    const std::size_t len = size * n;
    // design §9: cap at the first byte over the limit, whatever Content-Length said (or didn't).
    if (len > t->cap - t->response.size()) {
        t->too_large = true;
        return 0;
    }
    try {
        t->response.append(p, len);
    } catch (...) {
        return 0;
    }
    return len;
}

// Every new TLS connection verifies against the one shared store (system anchors + ca_file,
// design §3): curl loads no CA file of its own (CURLOPT_CAINFO/CAPATH are unset).
CURLcode ssl_ctx_cb(CURL*, void* ssl_ctx, void* ud) noexcept {
    SSL_CTX_set1_cert_store(static_cast<SSL_CTX*>(ssl_ctx), static_cast<X509_STORE*>(ud));
    return CURLE_OK;
}

Error curl_failure(const Transfer& t, CURLcode code) {
    std::string detail = t.errbuf[0] ? strip_control(t.errbuf) : curl_easy_strerror(code);
    detail = t.shown_url + ": " + detail;
    long connect_code = 0;
    if (t.proxied && curl_easy_getinfo(t.easy.get(), CURLINFO_HTTP_CONNECTCODE, &connect_code) ==
                         CURLE_OK &&
        connect_code >= 300)
        return http_error("http_proxy", t.shown_url + ": the proxy refused to open a tunnel (HTTP " +
                                            std::to_string(connect_code) + " to CONNECT)");
    if (t.proxied && (code == CURLE_COULDNT_CONNECT || code == CURLE_PROXY))
        return http_error("http_proxy", detail + " (https_proxy is set: is the proxy up, or should this host be in no_proxy?)");
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
        return http_error("http_timeout", detail);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
        return http_error("http_connect", detail);
    case CURLE_COULDNT_RESOLVE_PROXY:
        return http_error("http_proxy", detail);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return http_error("tls_verify", detail);
    case CURLE_SSL_CONNECT_ERROR:
        return http_error("tls_handshake", detail);
    case CURLE_SSL_CERTPROBLEM:
        return make_error(Errc::config, "http_client_cert", detail);
    case CURLE_SSL_CACERT_BADFILE:
        return make_error(Errc::config, "http_ca_file", detail);
    case CURLE_FILESIZE_EXCEEDED:
        return http_error("http_too_large", detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
        return http_error("http_insecure_url", detail);
    default:
        return http_error("http_transfer", detail);
    }
}

Result<HttpResponse> finish_transfer(Transfer& t, CURLcode code) {
    if (t.too_large || code == CURLE_FILESIZE_EXCEEDED)
        return http_error("http_too_large", t.shown_url + ": response larger than " +
                                                std::to_string(t.cap) + " bytes");
    if (code != CURLE_OK)
        return curl_failure(t, code);
    HttpResponse r;
    curl_easy_getinfo(t.easy.get(), CURLINFO_RESPONSE_CODE, &r.status);
    char* ct = nullptr;
    if (curl_easy_getinfo(t.easy.get(), CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
        r.content_type = ct;
    // 4xx carry OAuth error bodies (RFC 6749 §5.2, CIBA authorization_pending): callers read them.
    // Redirects are never followed and 5xx means the provider is not serving us.
    if ((r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500)) {
        r.body = std::move(t.response);
        return r;
    }
    return http_error(
        "http_status",
        t.shown_url + ": HTTP status " + std::to_string(r.status) +
            (r.status >= 300 && r.status < 400 ? " (redirects are not followed)" : ""));
}

// The private loop used by perform(): poll() over the sockets curl asked for.
class PollLoop final : public HttpLoop {
public:
    void watch(int fd, unsigned events) override {
        if (events == none)
            fds_.erase(fd);
        else
            fds_[fd] = events;
    }
    void set_timeout(long ms) override {
        if (ms < 0)
            deadline_.reset();
        else
            deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    }
    Status run_once(HttpClient& client, std::chrono::milliseconds max_wait);

private:
    std::map<int, unsigned> fds_;
    std::optional<std::chrono::steady_clock::time_point> deadline_;
};

unsigned events_from_poll(short revents) {
    unsigned ev = HttpLoop::none;
    if (revents & POLLIN)
        ev |= HttpLoop::readable;
    if (revents & POLLOUT)
        ev |= HttpLoop::writable;
    if (revents & (POLLERR | POLLHUP | POLLNVAL))
        ev |= HttpLoop::error;
    return ev;
}

Status PollLoop::run_once(HttpClient& client, std::chrono::milliseconds max_wait) {
    using namespace std::chrono;
    std::vector<pollfd> pfds;
    for (const auto& [fd, ev] : fds_)
        pfds.push_back(
            {fd,
             static_cast<short>(((ev & readable) ? POLLIN : 0) | ((ev & writable) ? POLLOUT : 0)),
             0});
    milliseconds wait = max_wait;
    if (deadline_)
        wait = std::clamp(duration_cast<milliseconds>(*deadline_ - steady_clock::now()),
                          milliseconds(0), max_wait);
    const int n = ::poll(pfds.data(), pfds.size(), static_cast<int>(wait.count()));
    if (n < 0 && errno != EINTR)
        return make_error(Errc::io, "http_poll", std::string("poll: ") + std::strerror(errno));
    for (const auto& p : pfds)
        if (n > 0 && p.revents)
            client.on_socket_ready(p.fd, events_from_poll(p.revents));
    if (deadline_ && steady_clock::now() >= *deadline_) {
        deadline_.reset();
        client.on_timeout();
    }
    return {};
}

} // namespace

struct HttpClient::Impl {
    HttpOptions opt;
    std::string noproxy; // kNoProxy + opt.no_proxy
    TlsMaterial tls;
    CurlSharePtr share; // TLS sessions and DNS answers, for every transfer (declared before them)
    HttpLoop* loop = nullptr;
    std::unique_ptr<PollLoop> own_loop; // declared before multi: curl_multi_cleanup calls it
    CurlMultiPtr multi;
    std::map<HttpRequestId, std::unique_ptr<Transfer>> transfers;
    HttpRequestId next_id = 1;
    long connections = 0;
    std::map<int, unsigned> watched; // what the loop watches for us, to unwatch on destruction

    Result<std::unique_ptr<Transfer>> make_transfer(HttpRequest& req, HttpCallback& done);
    Status configure(Transfer& t, const HttpRequest& req);
    void process_done() noexcept;
};

namespace {

int socket_cb(CURL*, curl_socket_t s, int what, void* userp, void*) noexcept {
    auto* impl = static_cast<HttpClient::Impl*>(userp);
    unsigned ev = HttpLoop::none;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        ev |= HttpLoop::readable;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        ev |= HttpLoop::writable;
    try {
        if (ev == HttpLoop::none)
            impl->watched.erase(s);
        else
            impl->watched[s] = ev;
        impl->loop->watch(s, ev);
    } catch (...) {
        return -1;
    }
    return 0;
}

int timer_cb(CURLM*, long timeout_ms, void* userp) noexcept {
    auto* impl = static_cast<HttpClient::Impl*>(userp);
    try {
        impl->loop->set_timeout(timeout_ms);
    } catch (...) {
        return -1;
    }
    return 0;
}

// Collects setopt failures so configure() reads as a list of options.
struct OptSetter {
    CURL* easy;
    bool ok = true;
    template <class V>
    void operator()(CURLoption o, V v) {
        if (curl_easy_setopt(easy, o, v) != CURLE_OK)
            ok = false;
    }
};

} // namespace

Status HttpClient::Impl::configure(Transfer& t, const HttpRequest& req) {
    OptSetter set{t.easy.get()};
    set(CURLOPT_CURLU, t.url.get());
    t.proxied = !opt.proxy.empty();
    set(CURLOPT_PROTOCOLS_STR, opt.allow_insecure_http ? "http,https" : "https");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt.connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(opt.total_timeout.count()));
    set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(opt.max_response_bytes));
    set(CURLOPT_WRITEFUNCTION, write_cb);
    set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
    set(CURLOPT_ERRORBUFFER, t.errbuf);
    set(CURLOPT_PRIVATE, static_cast<void*>(&t));
    set(CURLOPT_USERAGENT, opt.user_agent.c_str());
    // An empty CURLOPT_PROXY also keeps curl from reading proxy variables of its own: the
    // configuration (config.cpp) has already decided.
    set(CURLOPT_PROXY, opt.proxy.c_str());
    set(CURLOPT_NOPROXY, noproxy.c_str());
    if (!opt.proxy.empty()) {
        set(CURLOPT_PROXYTYPE, static_cast<long>(CURLPROXY_HTTP));
        set(CURLOPT_HTTPPROXYTUNNEL, 1L);
    }
    set(CURLOPT_HTTPHEADER, t.headers.get());
    if (req.method == HttpMethod::post) {
        set(CURLOPT_POST, 1L);
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.body.size()));
        set(CURLOPT_POSTFIELDS, t.body.c_str());
    } else {
        set(CURLOPT_HTTPGET, 1L);
    }
    set(CURLOPT_CAINFO, static_cast<const char*>(nullptr));
    set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));
    set(CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
    set(CURLOPT_SSL_CTX_DATA, static_cast<void*>(tls.trust.get()));
    set(CURLOPT_SHARE, share.get());
    if (req.client_cert) {
        // From memory, read once. curl keys its connection cache on these blobs, so a connection
        // with the client certificate never serves a request without it, nor the reverse.
        curl_blob cert{tls.cert_pem.data(), tls.cert_pem.size(), CURL_BLOB_NOCOPY};
        curl_blob key{const_cast<char*>(tls.key_pem.view().data()), tls.key_pem.view().size(),
                      CURL_BLOB_NOCOPY};
        set(CURLOPT_SSLCERTTYPE, "PEM");
        set(CURLOPT_SSLCERT_BLOB, &cert);
        set(CURLOPT_SSLKEYTYPE, "PEM");
        set(CURLOPT_SSLKEY_BLOB, &key);
    }
    if (!set.ok)
        return make_error(Errc::internal, "http_setup", "libcurl refused a transfer option");
    return {};
}

Result<std::unique_ptr<Transfer>> HttpClient::Impl::make_transfer(HttpRequest& req,
                                                                  HttpCallback& done) {
    PSC_TRY(check_headers(req.headers));
    if (req.client_cert && (opt.client_cert.empty() || opt.client_key.empty()))
        return make_error(Errc::config, "http_no_client_cert",
                          "mTLS requested but no client certificate is configured");
    auto url = parse_checked_url(req.url, opt.allow_insecure_http);
    if (!url)
        return std::move(url).error();
    auto t = std::make_unique<Transfer>();
    t->id = next_id++;
    t->url = std::move(*url);
    t->easy.reset(curl_easy_init());
    t->shown_url = url_for_message(req.url);
    t->body = std::move(req.body);
    t->cap = opt.max_response_bytes;
    t->done = std::move(done);
    if (!t->easy)
        return make_error(Errc::internal, "oom", "cannot allocate a transfer");
    // "Expect:" off: no 100-continue round trip for form posts.
    std::vector<std::string> headers = req.headers;
    headers.emplace_back("Expect:");
    for (const auto& h : headers) {
        curl_slist* next = curl_slist_append(t->headers.get(), h.c_str());
        if (!next)
            return make_error(Errc::internal, "oom", "cannot allocate request headers");
        (void)t->headers.release();
        t->headers.reset(next);
    }
    PSC_TRY(configure(*t, req));
    return t;
}

void HttpClient::Impl::process_done() noexcept {
    int left = 0;
    while (CURLMsg* m = curl_multi_info_read(multi.get(), &left)) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL* easy = m->easy_handle;
        const CURLcode code = m->data.result;
        char* priv = nullptr;
        if (curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv) != CURLE_OK || !priv)
            continue;
        const auto it = transfers.find(reinterpret_cast<Transfer*>(priv)->id);
        if (it == transfers.end())
            continue;
        std::unique_ptr<Transfer> t = std::move(it->second);
        transfers.erase(it);
        curl_multi_remove_handle(multi.get(), easy);
        long conns = 0;
        if (curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &conns) == CURLE_OK)
            connections += conns;
        try {
            auto result = finish_transfer(*t, code);
            if (t->done)
                t->done(std::move(result));
        } catch (...) {
            // A throwing callback must not unwind through libcurl; the request is finished anyway.
        }
    }
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
    for (auto& [id, t] : impl_->transfers)
        curl_multi_remove_handle(impl_->multi.get(), t->easy.get());
    impl_->transfers.clear();
    impl_->multi.reset();
    // The loop must not keep sources for sockets curl has closed, whatever curl reported.
    for (const auto& [fd, ev] : impl_->watched)
        impl_->loop->watch(fd, HttpLoop::none);
    impl_->loop->set_timeout(-1);
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(HttpOptions options, HttpLoop* loop) {
    global_init_once();
    auto tls = load_tls_material(options);
    if (!tls)
        return std::move(tls).error();
    if (options.max_response_bytes == 0 || options.connect_timeout.count() <= 0 ||
        options.total_timeout.count() <= 0)
        return make_error(Errc::config, "http_options", "timeouts and size cap must be positive");
    auto impl = std::make_unique<Impl>();
    impl->opt = std::move(options);
    impl->noproxy = std::string(kNoProxy);
    if (!impl->opt.no_proxy.empty())
        impl->noproxy += "," + impl->opt.no_proxy;
    impl->tls = std::move(*tls);
    impl->share.reset(curl_share_init());
    if (!impl->share ||
        curl_share_setopt(impl->share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
            CURLSHE_OK ||
        curl_share_setopt(impl->share.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
        return make_error(Errc::internal, "http_setup", "cannot set up the curl share handle");
    if (!loop) {
        impl->own_loop = std::make_unique<PollLoop>();
        loop = impl->own_loop.get();
    }
    impl->loop = loop;
    impl->multi.reset(curl_multi_init());
    if (!impl->multi)
        return make_error(Errc::internal, "oom", "cannot allocate a curl multi handle");
    CURLM* m = impl->multi.get();
    if (curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, socket_cb) != CURLM_OK ||
        curl_multi_setopt(m, CURLMOPT_SOCKETDATA, static_cast<void*>(impl.get())) != CURLM_OK ||
        curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
        curl_multi_setopt(m, CURLMOPT_TIMERDATA, static_cast<void*>(impl.get())) != CURLM_OK ||
        // Keep-alive connections to the provider's hosts, reused from login to login.
        curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, 32L) != CURLM_OK)
        return make_error(Errc::internal, "http_setup", "libcurl refused a multi option");
    return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

Result<HttpRequestId> HttpClient::start(HttpRequest request, HttpCallback done) {
    auto t = impl_->make_transfer(request, done);
    if (!t)
        return std::move(t).error();
    const HttpRequestId id = (*t)->id;
    if (curl_multi_add_handle(impl_->multi.get(), (*t)->easy.get()) != CURLM_OK)
        return make_error(Errc::internal, "http_setup", "cannot queue the transfer");
    impl_->transfers.emplace(id, std::move(*t));
    return id;
}

void HttpClient::cancel(HttpRequestId id) noexcept {
    const auto it = impl_->transfers.find(id);
    if (it == impl_->transfers.end())
        return;
    // Removing an unfinished transfer closes its connection (curl will not reuse it).
    curl_multi_remove_handle(impl_->multi.get(), it->second->easy.get());
    impl_->transfers.erase(it);
}

void HttpClient::on_socket_ready(int fd, unsigned events) noexcept {
    int mask = 0;
    if (events & HttpLoop::readable)
        mask |= CURL_CSELECT_IN;
    if (events & HttpLoop::writable)
        mask |= CURL_CSELECT_OUT;
    if (events & HttpLoop::error)
        mask |= CURL_CSELECT_ERR;
    int running = 0;
    curl_multi_socket_action(impl_->multi.get(), fd, mask, &running);
    impl_->process_done();
}

void HttpClient::on_timeout() noexcept {
    int running = 0;
    curl_multi_socket_action(impl_->multi.get(), CURL_SOCKET_TIMEOUT, 0, &running);
    impl_->process_done();
}

std::size_t HttpClient::in_flight() const noexcept {
    return impl_->transfers.size();
}
long HttpClient::connections_opened() const noexcept {
    return impl_->connections;
}
const HttpOptions& HttpClient::options() const noexcept {
    return impl_->opt;
}
bool HttpClient::has_private_loop() const noexcept {
    return impl_->own_loop != nullptr;
}

Status HttpClient::run_private_loop_once(std::chrono::milliseconds max_wait) {
    if (!impl_->own_loop)
        return make_error(Errc::internal, "http_loop_external",
                          "this client is driven by an external event loop");
    return impl_->own_loop->run_once(*this, max_wait);
}

ScopedHttpRequest::ScopedHttpRequest(ScopedHttpRequest&& o) noexcept
    : client_(std::exchange(o.client_, nullptr)), id_(o.id_) {}

ScopedHttpRequest& ScopedHttpRequest::operator=(ScopedHttpRequest&& o) noexcept {
    if (this != &o) {
        reset();
        client_ = std::exchange(o.client_, nullptr);
        id_ = o.id_;
    }
    return *this;
}

void ScopedHttpRequest::reset() noexcept {
    if (client_)
        client_->cancel(id_);
    client_ = nullptr;
}

Result<HttpResponse> perform(HttpClient& client, HttpRequest request) {
    using namespace std::chrono;
    if (!client.has_private_loop())
        return make_error(Errc::internal, "http_loop_external",
                          "perform() needs a client with its own loop");
    std::optional<Result<HttpResponse>> out;
    auto id = client.start(std::move(request),
                           [&out](Result<HttpResponse> r) { out.emplace(std::move(r)); });
    if (!id)
        return std::move(id).error();
    ScopedHttpRequest guard(client, *id);
    // curl enforces the total timeout; this backstop only guards against a loop that never fires.
    const auto backstop = steady_clock::now() + client.options().total_timeout + seconds(5);
    while (!out) {
        if (steady_clock::now() > backstop)
            return http_error("http_timeout", "request did not complete");
        PSC_TRY(client.run_private_loop_once(milliseconds(1000)));
    }
    return std::move(*out);
}

std::string http_media_type(std::string_view content_type) {
    return ascii_lower(trim(content_type.substr(0, content_type.find(';'))));
}

Status http_check_url(std::string_view url, bool allow_insecure_http) {
    auto r = parse_checked_url(url, allow_insecure_http);
    if (!r)
        return std::move(r).error();
    return {};
}

} // namespace psc

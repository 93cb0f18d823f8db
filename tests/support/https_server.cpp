// SPDX-License-Identifier: LGPL-2.1-or-later
#include "https_server.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cstring>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>

namespace psc::testing {
namespace {

using MhdResponsePtr = Owned<MHD_Response, MHD_destroy_response>;
using GnutlsCrtPtr = Owned<gnutls_x509_crt_int, gnutls_x509_crt_deinit>;

// gnutls_free is a function pointer variable, so it cannot be an Owned<> deleter.
struct GnutlsDatum {
    gnutls_datum_t d{nullptr, 0};
    ~GnutlsDatum() {
        if (d.data)
            gnutls_free(d.data);
    }
};

struct PerRequest {
    std::string body;
    bool too_large = false;
};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

MHD_Result collect_header(void* cls, MHD_ValueKind, const char* key, const char* value) {
    static_cast<ServerRequest*>(cls)->headers[lower(key)] = value ? value : "";
    return MHD_YES;
}

MHD_Result collect_query(void* cls, MHD_ValueKind, const char* key, const char* value) {
    static_cast<ServerRequest*>(cls)->query.emplace_back(key, value ? value : "");
    return MHD_YES;
}

// The subject of a client certificate that verified against MHD_OPTION_HTTPS_MEM_TRUST.
std::optional<std::string> verified_client_subject(MHD_Connection* conn) {
    const MHD_ConnectionInfo* ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return std::nullopt;
    auto session = static_cast<gnutls_session_t>(ci->tls_session);
    unsigned status = 0;
    if (gnutls_certificate_verify_peers2(session, &status) != GNUTLS_E_SUCCESS || status != 0)
        return std::nullopt;
    unsigned n = 0;
    const gnutls_datum_t* peers = gnutls_certificate_get_peers(session, &n);
    if (!peers || n == 0)
        return std::nullopt;
    gnutls_x509_crt_t raw = nullptr;
    if (gnutls_x509_crt_init(&raw) != GNUTLS_E_SUCCESS)
        return std::nullopt;
    GnutlsCrtPtr crt(raw);
    GnutlsDatum dn;
    if (gnutls_x509_crt_import(crt.get(), &peers[0], GNUTLS_X509_FMT_DER) != GNUTLS_E_SUCCESS ||
        gnutls_x509_crt_get_dn3(crt.get(), &dn.d, 0) != GNUTLS_E_SUCCESS)
        return std::nullopt;
    return std::string(reinterpret_cast<const char*>(dn.d.data), dn.d.size);
}

ssize_t chunk_reader(void* cls, std::uint64_t pos, char* buf, std::size_t max) {
    const auto* body = static_cast<const std::string*>(cls);
    if (pos >= body->size())
        return MHD_CONTENT_READER_END_OF_STREAM;
    const std::size_t n = std::min(max, body->size() - static_cast<std::size_t>(pos));
    std::memcpy(buf, body->data() + pos, n);
    return static_cast<ssize_t>(n);
}

void free_chunk_body(void* cls) {
    delete static_cast<std::string*>(cls);
}

MHD_Result send(MHD_Connection* conn, const ServerResponse& r) {
    MhdResponsePtr resp;
    if (r.chunked) {
        auto* copy = new std::string(r.body);
        resp.reset(MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, chunk_reader,
                                                     copy, free_chunk_body));
        if (!resp)
            delete copy;
    } else {
        resp.reset(MHD_create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()),
                                                   MHD_RESPMEM_MUST_COPY));
    }
    if (!resp)
        return MHD_NO;
    if (!r.content_type.empty())
        MHD_add_response_header(resp.get(), MHD_HTTP_HEADER_CONTENT_TYPE, r.content_type.c_str());
    for (const auto& [k, v] : r.headers)
        MHD_add_response_header(resp.get(), k.c_str(), v.c_str());
    return MHD_queue_response(conn, r.status, resp.get());
}

} // namespace

struct HttpsServer::Internals {
    static MHD_Result access(void* cls, MHD_Connection* conn, const char* url, const char* method,
                             const char*, const char* upload, std::size_t* upload_size,
                             void** con_cls) noexcept {
        auto* self = static_cast<HttpsServer*>(cls);
        try {
            if (!*con_cls) {
                *con_cls = new PerRequest();
                return MHD_YES;
            }
            auto* pr = static_cast<PerRequest*>(*con_cls);
            if (*upload_size > 0) {
                if (pr->body.size() + *upload_size > self->options_.max_request_body)
                    pr->too_large = true;
                else
                    pr->body.append(upload, *upload_size);
                *upload_size = 0;
                return MHD_YES;
            }
            if (pr->too_large)
                return send(conn, ServerResponse::json(R"({"error":"too_large"})", 413));
            ServerRequest req;
            req.method = method;
            req.path = url;
            req.body = std::move(pr->body);
            MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &req);
            MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, &req);
            req.client_subject = verified_client_subject(conn);
            return self->dispatch(conn, std::move(req));
        } catch (...) {
            return MHD_NO; // closes the connection; a test sees a transfer error
        }
    }

    static void completed(void*, MHD_Connection*, void** con_cls,
                          MHD_RequestTerminationCode) noexcept {
        delete static_cast<PerRequest*>(*con_cls);
        *con_cls = nullptr;
    }

    static void connection(void* cls, MHD_Connection*, void**,
                           MHD_ConnectionNotificationCode code) noexcept {
        auto* self = static_cast<HttpsServer*>(cls);
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
            std::lock_guard lock(self->mu_);
            ++self->connections_;
        }
    }
};

MHD_Result HttpsServer::dispatch(MHD_Connection* conn, ServerRequest req) {
    {
        std::unique_lock lock(mu_);
        received_.push_back(req);
        cv_.wait(lock, [this] { return !stall_ || stopping_; });
        if (stopping_)
            return MHD_NO;
    }
    ServerResponse resp;
    {
        std::lock_guard hl(handler_mu_);
        resp = handler_ ? handler_(req) : ServerResponse::json("{}", 404);
    }
    return send(conn, resp);
}

Result<std::unique_ptr<HttpsServer>> HttpsServer::start(HttpsServerOptions options,
                                                        Handler handler) {
    std::unique_ptr<HttpsServer> s(new HttpsServer());
    s->options_ = std::move(options);
    s->handler_ = std::move(handler);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    std::vector<MHD_OptionItem> opts = {
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_NOTIFY_COMPLETED, reinterpret_cast<intptr_t>(&Internals::completed), s.get()},
        {MHD_OPTION_NOTIFY_CONNECTION, reinterpret_cast<intptr_t>(&Internals::connection), s.get()},
        {MHD_OPTION_CONNECTION_TIMEOUT, 30, nullptr},
    };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
    if (s->options_.tls) {
        flags |= MHD_USE_TLS;
        opts.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, s->options_.key_pem.data()});
        opts.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, s->options_.cert_pem.data()});
        if (!s->options_.client_ca_pem.empty())
            opts.push_back({MHD_OPTION_HTTPS_MEM_TRUST, 0, s->options_.client_ca_pem.data()});
    }
    opts.push_back({MHD_OPTION_END, 0, nullptr});
    s->daemon_.reset(MHD_start_daemon(flags, 0, nullptr, nullptr, &Internals::access, s.get(),
                                      MHD_OPTION_ARRAY, opts.data(), MHD_OPTION_END));
    if (!s->daemon_)
        return make_error(Errc::internal, "test_server", "MHD_start_daemon failed");
    const MHD_DaemonInfo* info = MHD_get_daemon_info(s->daemon_.get(), MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0)
        return make_error(Errc::internal, "test_server", "cannot read the bound port");
    s->port_ = info->port;
    return s;
}

HttpsServer::~HttpsServer() {
    stop();
}

void HttpsServer::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    daemon_.reset(); // MHD_stop_daemon joins the connection threads
}

std::string HttpsServer::base_url() const {
    return std::string(options_.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

void HttpsServer::set_stall(bool stall) {
    {
        std::lock_guard lock(mu_);
        stall_ = stall;
    }
    cv_.notify_all();
}

std::size_t HttpsServer::connections() const {
    std::lock_guard lock(mu_);
    return connections_;
}

std::size_t HttpsServer::requests() const {
    std::lock_guard lock(mu_);
    return received_.size();
}

std::vector<ServerRequest> HttpsServer::received() const {
    std::lock_guard lock(mu_);
    return received_;
}

std::string ServerRequest::header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> ServerRequest::query_value(const std::string& name) const {
    for (const auto& [k, v] : query)
        if (k == name)
            return v;
    return std::nullopt;
}

ServerResponse ServerResponse::json(std::string body, unsigned status) {
    ServerResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

ServerResponse ServerResponse::huge(std::size_t bytes, bool chunked) {
    ServerResponse r;
    r.content_type = "application/octet-stream";
    r.body.assign(bytes, 'x');
    r.chunked = chunked;
    return r;
}

} // namespace psc::testing

// SPDX-License-Identifier: LGPL-2.1-or-later
// Test-only loopback HTTP(S) server on libmicrohttpd: 127.0.0.1, port 0, its own threads (one per
// connection, so a stalled request never blocks the others or shutdown). TLS comes from TestCa;
// client certificates are requested when a client CA is given and reported only once verified
// (GnuTLS, which Debian's libmicrohttpd uses).
#pragma once

#include "owned.hpp"
#include "result.hpp"

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <microhttpd.h>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace psc::testing {

struct ServerRequest {
    std::string method;
    std::string path;                                       // without the query
    std::vector<std::pair<std::string, std::string>> query; // decoded
    std::map<std::string, std::string> headers;             // names lower-cased
    std::string body;
    // Subject DN (RFC 4514, e.g. "CN=alice") of a client certificate that verified against the
    // client CA; nullopt when none was presented or it did not verify.
    std::optional<std::string> client_subject;

    [[nodiscard]] std::string header(const std::string& lower_name) const;
    [[nodiscard]] std::optional<std::string> query_value(const std::string& name) const;
};

struct ServerResponse {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool chunked = false; // no Content-Length: the client cannot refuse it up front

    [[nodiscard]] static ServerResponse json(std::string body, unsigned status = 200);
    // bytes of 'x', for response-size caps.
    [[nodiscard]] static ServerResponse huge(std::size_t bytes, bool chunked = false);
};

struct HttpsServerOptions {
    bool tls = true;
    std::string cert_pem; // server certificate and key (TestCa::server())
    std::string key_pem;
    std::string client_ca_pem; // non-empty: request client certificates, verify against this
    std::size_t max_request_body = 1024 * 1024;
};

class HttpsServer {
public:
    using Handler = std::function<ServerResponse(const ServerRequest&)>;

    [[nodiscard]] static Result<std::unique_ptr<HttpsServer>> start(HttpsServerOptions options,
                                                                    Handler handler);
    ~HttpsServer();
    HttpsServer(const HttpsServer&) = delete;
    HttpsServer& operator=(const HttpsServer&) = delete;

    // Stops accepting, releases stalled requests (their connections are closed unanswered) and
    // joins every thread. Idempotent.
    void stop();

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    // "https://127.0.0.1:PORT" (or http://), no trailing slash.
    [[nodiscard]] std::string base_url() const;

    // While on, requests are held without an answer until stop() (or until turned off).
    void set_stall(bool stall);
    [[nodiscard]] std::size_t connections() const; // TCP connections accepted
    [[nodiscard]] std::size_t requests() const;    // requests that reached the handler or stall
    [[nodiscard]] std::vector<ServerRequest> received() const; // copies, in arrival order

    struct Internals;

private:
    HttpsServer() = default;
    MHD_Result dispatch(MHD_Connection* conn, ServerRequest req);
    HttpsServerOptions options_;
    Handler handler_;
    Owned<MHD_Daemon, MHD_stop_daemon> daemon_;
    std::uint16_t port_ = 0;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    bool stall_ = false;
    bool stopping_ = false;
    std::size_t connections_ = 0;
    std::vector<ServerRequest> received_;
    std::mutex handler_mu_; // the handler runs on one request at a time
};

} // namespace psc::testing

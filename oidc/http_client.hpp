// SPDX-License-Identifier: LGPL-2.1-or-later
// HTTPS client on the libcurl multi interface (design §3 "HTTP", §9 limits). The daemon drives it
// from sd-event through HttpLoop (curl's socket/timer API, no threads); tests and pscctl use
// perform(), which runs the very same machinery with a private poll() loop.
//
// Rules enforced here, for every request: https only (plain http only to a loopback host when
// allow_insecure_http), peer and host verification always on, ca_file *adds* trust anchors to the
// system store, no redirects, connect/total timeouts, a response size cap, connection reuse.
#pragma once

#include "result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace psc {

struct HttpOptions {
    // Plain http:// only to 127.0.0.1, ::1 or localhost (a test provider), never elsewhere.
    bool allow_insecure_http = false;
    // Extra PEM trust anchors, added to (not replacing) the system store.
    std::string ca_file;
    // Client certificate and key (PEM files) for requests with HttpRequest::client_cert (RFC 8705).
    std::string client_cert;
    std::string client_key;
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds total_timeout{15000};
    std::size_t max_response_bytes = 256 * 1024; // design §9
    std::string user_agent = "psc-login/0.1";
    // "http://host:port": every request is tunnelled through this proxy with CONNECT (TLS stays
    // end to end, client certificate included). Empty: direct, whatever the environment says.
    std::string proxy;
    // Hosts reached directly despite `proxy` (curl's NOPROXY syntax, comma-separated); loopback
    // always is.
    std::string no_proxy;
};

enum class HttpMethod { get, post };

struct HttpRequest {
    HttpMethod method = HttpMethod::get;
    std::string url;
    std::vector<std::string> headers; // "Name: value"; CR/LF refused
    std::string body;                 // POST only
    bool client_cert = false;         // present HttpOptions::client_cert (mTLS) on this request
};

struct HttpResponse {
    long status = 0;
    std::string content_type; // as sent, e.g. "application/json; charset=utf-8"
    std::string body;
};

// The event-loop side, implemented by the daemon with sd-event (and by tests). Calls come from
// inside HttpClient methods; implementations must not call back into the client synchronously.
class HttpLoop {
public:
    enum Events : unsigned { none = 0, readable = 1, writable = 2, error = 4 };
    virtual ~HttpLoop() = default;
    // Watch fd for these events (a bitmask of Events); none = stop watching it.
    virtual void watch(int fd, unsigned events) = 0;
    // Call HttpClient::on_timeout() after ms milliseconds (0: as soon as possible); -1 = disarm.
    virtual void set_timeout(long ms) = 0;
};

using HttpRequestId = std::uint64_t;
// Called exactly once per started request unless it is cancelled first. It may start or cancel
// other requests but must not destroy the client.
using HttpCallback = std::function<void(Result<HttpResponse>)>;

class HttpClient {
public:
    // loop == nullptr: the client uses a private poll() loop (perform() only). Otherwise the loop
    // must outlive the client.
    [[nodiscard]] static Result<std::unique_ptr<HttpClient>> create(HttpOptions options,
                                                                    HttpLoop* loop = nullptr);
    // Abandons unfinished requests without calling their callbacks and unwatches every socket.
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Checks the request (URL scheme/host, headers) and queues it. Refusals happen here, before any
    // connection: http_insecure_url, http_bad_url, http_header, http_no_client_cert.
    [[nodiscard]] Result<HttpRequestId> start(HttpRequest request, HttpCallback done);
    // Abandons a request; its callback is never called. Unknown or finished ids are ignored.
    void cancel(HttpRequestId id) noexcept;

    // Event-loop entry points (events: HttpLoop::Events; EPOLLERR/EPOLLHUP map to error).
    void on_socket_ready(int fd, unsigned events) noexcept;
    void on_timeout() noexcept;

    [[nodiscard]] std::size_t in_flight() const noexcept;
    // TCP connections opened so far (CURLINFO_NUM_CONNECTS summed): a reused connection adds 0.
    [[nodiscard]] long connections_opened() const noexcept;
    [[nodiscard]] const HttpOptions& options() const noexcept;
    // True when created without an external loop (perform() can drive it).
    [[nodiscard]] bool has_private_loop() const noexcept;
    // Private loop only: waits for events (at most max_wait) and dispatches them.
    [[nodiscard]] Status run_private_loop_once(std::chrono::milliseconds max_wait);

    struct Impl;

private:
    explicit HttpClient(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

// Cancels its request when destroyed (a login object holds one: destroying the login cancels its
// HTTP exchange). The client must outlive it.
class ScopedHttpRequest {
public:
    ScopedHttpRequest() = default;
    ScopedHttpRequest(HttpClient& client, HttpRequestId id) : client_(&client), id_(id) {}
    ScopedHttpRequest(ScopedHttpRequest&& o) noexcept;
    ScopedHttpRequest& operator=(ScopedHttpRequest&& o) noexcept;
    ~ScopedHttpRequest() { reset(); }
    void reset() noexcept;

private:
    HttpClient* client_ = nullptr;
    HttpRequestId id_ = 0;
};

// Blocking request on a client with a private loop (tests, pscctl). 2xx and 4xx are returned as
// responses (OAuth error bodies are 4xx); anything else is an error.
[[nodiscard]] Result<HttpResponse> perform(HttpClient& client, HttpRequest request);

// Media type of a Content-Type value, lower-cased, parameters dropped ("application/json").
[[nodiscard]] std::string http_media_type(std::string_view content_type);

// Whether a URL is acceptable under the rules above (used for endpoints read from discovery).
[[nodiscard]] Status http_check_url(std::string_view url, bool allow_insecure_http);

} // namespace psc

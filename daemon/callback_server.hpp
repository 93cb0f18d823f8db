// SPDX-License-Identifier: LGPL-2.1-or-later
// The local callback listener of the code flow (design §2 item 1): one libmicrohttpd daemon for
// every pending login, run inside sd-event (MHD's epoll fd is an sd-event io source,
// MHD_get_timeout re-arms one time source; no MHD thread). It only answers GET/HEAD on the callback
// path and hands the raw request target to a handler; the OAuth checks (state, iss, code) are the
// handler's.
//
// Limits (design §9): request target (8 KiB), request line + headers (MHD's per-connection memory),
// connection count, per-connection idle timeout; request bodies are never read.
//
// Under abuse (a local user, or the Internet behind a bastion's proxy, opening idle or trickling
// connections): a connection must complete its request headers within header_timeout of being
// accepted — a deadline trickling bytes cannot renew — and connections still waiting for their
// headers are capped per client address and in all, the oldest closed first. A real browser sends
// its request as soon as it connects, so floods delay it by at most a loop iteration or two.
#pragma once

#include "callback_page.hpp"
#include "event_loop.hpp"
#include "owned.hpp"
#include "result.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <microhttpd.h>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace psc {

struct CallbackServerOptions {
    // Numeric address (IPv6 without brackets), as parsed from callback_listen. Port 0 picks a free
    // port (tests); port() reports it.
    std::string listen_host = "127.0.0.1";
    std::uint16_t listen_port = 8765;
    // The only path served; anything else gets the 404 page. Compared byte for byte.
    std::string path = "/callback";
    // callback_tls_cert / callback_tls_key (PEM files). Both or neither. The key is read with the
    // secret-file rules (owned by us or root, not readable by group/others) and wiped after use.
    std::string tls_cert_file;
    std::string tls_key_file;
    std::size_t max_request_target = 8 * 1024; // design §9 "callback request line"
    std::size_t max_header_bytes = 8 * 1024;   // request headers, enforced by MHD's memory pool
    unsigned max_connections = 512;           // MHD's hard cap on open connections
    std::chrono::seconds connection_timeout{5}; // idle time after a request (keep-alive)
    std::chrono::milliseconds header_timeout{3000}; // accept → complete request headers
    unsigned max_unfinished_per_address = 32; // connections still sending headers, per address
    unsigned max_unfinished = 256;            // ... and in all
    // How long a page waits for the login's outcome (Page::wait) before the "received" page, and
    // a back-channel logout for its deferred answer.
    std::chrono::milliseconds hold_timeout{5000};
    // OpenID Connect Back-Channel Logout: the one path that takes a POST (its body at most
    // max_body bytes), served only when a back-channel handler is set.
    std::string backchannel_path = "/backchannel_logout";
    std::size_t max_body = 32 * 1024;
};

// An answer known later: the handler returns one, and whoever completes it (once, from the event
// loop) decides what the client gets; the request waits, its connection suspended, at most
// hold_timeout. Completing it after the client left, or after the server is gone, does nothing.
template <class T>
class Deferred {
public:
    // The answering side: the value, once (later calls are ignored).
    void complete(T value) noexcept;
    // The server's side: called on complete() while a connection waits (nullptr to stop waiting).
    void on_complete(std::function<void()> wake) noexcept { wake_ = std::move(wake); }
    [[nodiscard]] const std::optional<T>& result() const noexcept { return result_; }

private:
    std::optional<T> result_;
    std::function<void()> wake_;
};

// The answer to a back-channel logout POST: 200 (empty body) or 400 with a JSON error
// (Back-Channel Logout 1.0 §2.8). Always sent with Cache-Control: no-store.
struct BackchannelReply;
using DeferredBackchannel = Deferred<BackchannelReply>;
struct BackchannelReply {
    unsigned status = 400;
    std::string json; // "" for 200
    // Set: the answer comes later (the handler waits for something, e.g. the provider's new
    // keys); status and json above are sent if it has not come after hold_timeout.
    std::shared_ptr<DeferredBackchannel> deferred;
};
using BackchannelHandler =
    std::function<BackchannelReply(std::string_view content_type, std::string_view body)>;

// A page whose content is known later: the handler answers Page::wait with one; if nobody has
// completed it after hold_timeout, the browser gets the "received" page.
struct CallbackReply;
using DeferredPage = Deferred<CallbackReply>;

// What the browser is shown. The handler picks the page; the server owns headers and HTML.
struct CallbackReply {
    enum class Page { received, confirm, signed_in, refused, failure, unknown_login, wait };
    CallbackReply() = default;
    CallbackReply(Page p, std::string d = {}) : page(p), detail(std::move(d)) {}
    Page page = Page::unknown_login;
    // The reason (failure, refused), the confirmation code (confirm) or the account (signed_in);
    // sanitised and escaped by the page (never trusted).
    std::string detail;
    std::shared_ptr<DeferredPage> deferred; // Page::wait: the page to come
};

template <class T>
void Deferred<T>::complete(T value) noexcept {
    if (result_)
        return;
    try {
        result_ = std::move(value);
    } catch (...) {
        return;
    }
    if (wake_)
        std::exchange(wake_, nullptr)();
}

// Called synchronously from the event loop with the path and query exactly as received
// (percent-encoding preserved), already known to be a GET or HEAD on the callback path and within
// the size limit. It must be cheap (it runs once per request, floods included), must not destroy
// the server, and should not throw (an exception gives the internal-error page).
using CallbackHandler = std::function<CallbackReply(std::string_view request_target)>;

// Whether a raw request target ("/callback?code=...") names exactly this path: the part before
// '?' must equal it byte for byte (no decoding, no dot segments, no fragment).
[[nodiscard]] bool callback_path_matches(std::string_view target, std::string_view path) noexcept;

class CallbackServer {
public:
    // Reasons: callback_options, callback_listen (bad address, or bind failed: port in use),
    // callback_tls_cert, callback_tls_key (and the file_io reasons for unreadable files),
    // callback_start, event_source.
    [[nodiscard]] static Result<std::unique_ptr<CallbackServer>>
    start(sd_event* event, CallbackServerOptions options, CallbackHandler handler);
    // Stops listening and closes every connection, open or idle; the handler is not called again.
    ~CallbackServer();
    CallbackServer(const CallbackServer&) = delete;
    CallbackServer& operator=(const CallbackServer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] bool tls() const noexcept { return tls_; }
    // "http://127.0.0.1:PORT/callback" (https:// with TLS, [::1] for IPv6): the default
    // redirect_uri when none is configured.
    [[nodiscard]] std::string url() const;
    // Errors from MHD_run or from re-arming the sources, for the daemon to log.
    [[nodiscard]] std::size_t errors() const noexcept { return errors_; }
    // Connections closed because they sent no complete request in time or were the oldest
    // unfinished ones of a crowd (abuse counter, for tests and the benchmark).
    [[nodiscard]] std::size_t evicted() const noexcept { return evicted_; }
    // Requests waiting for a deferred answer (pages and back-channel logouts).
    [[nodiscard]] std::size_t held() const noexcept { return held_; }
    // Serves POST backchannel_path with this handler from now on (empty: not served, 404/405).
    void set_backchannel_handler(BackchannelHandler h) { backchannel_ = std::move(h); }

    struct Internals;
    struct Connections;

private:
    CallbackServer() = default;

    CallbackServerOptions options_;
    CallbackHandler handler_;
    BackchannelHandler backchannel_;
    std::uint16_t port_ = 0;
    bool tls_ = false;
    bool at_limit_ = false; // at max_connections after the last MHD_run
    std::size_t errors_ = 0;
    std::size_t evicted_ = 0;
    std::size_t held_ = 0; // requests suspended, waiting for their page
    std::unique_ptr<Connections> conns_;
    // Declaration order is teardown order in reverse: the sources go before the daemon (whose
    // epoll fd they watch), the prebuilt responses last.
    struct Responses;
    std::unique_ptr<Responses> responses_;
    Owned<MHD_Daemon, MHD_stop_daemon> daemon_;
    SdEventSourcePtr io_;
    SdEventSourcePtr timer_;
};

} // namespace psc

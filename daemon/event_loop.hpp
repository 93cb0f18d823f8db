// SPDX-License-Identifier: LGPL-2.1-or-later
// sd-event glue. The daemon is single-threaded: libcurl's multi interface (HttpClient) and
// libmicrohttpd (CallbackServer) both run inside one sd-event loop, as systemd's curl-util.c and
// journal-remote do. Cancelling a login is destroying objects; no thread ever needs joining.
#pragma once

#include "http_client.hpp"
#include "owned.hpp"
#include "result.hpp"

#include <cstddef>
#include <memory>
#include <systemd/sd-event.h>
#include <unordered_map>

namespace psc {

// sd-event coalesces timers by their accuracy (250 ms when 0 is passed): poll intervals, login
// deadlines and the listener's timers ask for 1 ms (design §3: CIBA polls at the provider's
// interval, not a quarter-second late).
inline constexpr uint64_t kTimerAccuracyUsec = 1000;

using SdEventPtr = Owned<sd_event, sd_event_unref>;
// disable_unref, not unref: a source released while the loop (or a pending dispatch) still holds a
// reference must never fire into a destroyed object.
using SdEventSourcePtr = Owned<sd_event_source, sd_event_source_disable_unref>;

// A fresh event loop (not the thread's default one). Reason: event_new.
[[nodiscard]] Result<SdEventPtr> event_new();

// Maps HttpClient's sockets to sd-event io sources and its timer to one CLOCK_MONOTONIC time
// source. Client and loop refer to each other, so the order is:
//     auto loop = SdEventHttpLoop::create(event);        // 1. the loop
//     auto client = HttpClient::create(opts, loop.get()); // 2. the client, given the loop
//     loop->attach(*client);                              // 3. the loop, given the client
// and on the way down the client is destroyed first (its destructor unwatches every socket and
// disarms the timer through this loop), then the loop.
class SdEventHttpLoop final : public HttpLoop {
public:
    [[nodiscard]] static Result<std::unique_ptr<SdEventHttpLoop>> create(sd_event* event);
    ~SdEventHttpLoop() override;
    SdEventHttpLoop(const SdEventHttpLoop&) = delete;
    SdEventHttpLoop& operator=(const SdEventHttpLoop&) = delete;

    // Events are delivered to this client from now on; until then (and after detach) they are
    // dropped.
    void attach(HttpClient& client) noexcept;
    void detach() noexcept;

    // HttpLoop. A source that cannot be created (out of memory) is counted in errors(); the
    // transfer then ends on curl's own timeout instead of hanging, since the timer source is
    // re-armed by every later call.
    void watch(int fd, unsigned events) override;
    void set_timeout(long ms) override;

    // Sources held right now: one per watched socket, plus the timer while armed. Zero once the
    // client is gone (tests assert it: nothing is left behind in the loop).
    [[nodiscard]] std::size_t source_count() const noexcept;
    [[nodiscard]] std::size_t errors() const noexcept { return errors_; }

private:
    explicit SdEventHttpLoop(sd_event* event) : event_(sd_event_ref(event)) {}
    static int on_io(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    static int on_time(sd_event_source* s, uint64_t usec, void* userdata) noexcept;

    SdEventPtr event_;
    HttpClient* client_ = nullptr;
    std::unordered_map<int, SdEventSourcePtr> io_;
    SdEventSourcePtr timer_;
    std::size_t errors_ = 0;
};

// The three steps above in one call, in a holder that tears down in the right order.
struct SdEventHttpClient {
    std::unique_ptr<SdEventHttpLoop> loop;
    std::unique_ptr<HttpClient> client; // declared last, destroyed first
};
// Reasons: event_new, and HttpClient::create's (http_ca_file, http_client_cert, http_options...).
[[nodiscard]] Result<SdEventHttpClient> sd_event_http_client(sd_event* event, HttpOptions options);

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// Polling the token endpoint for a decoupled grant, shared by CIBA (OpenID CIBA Core §7.3, §10.1,
// §11) and the device grant (RFC 8628 §3.4-3.5): one poll per interval on an sd-event timer,
// authorization_pending keeps going, slow_down adds 5 s for this and every later poll, any other
// OAuth error ends the login, and nothing is sent past the server's expires_in. Destroying the
// poller stops its timer and cancels its HTTP exchange; done is then never called.
#pragma once

#include "event_loop.hpp"
#include "http_client.hpp"
#include "token_request.hpp"
#include "token_response.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace psc {

// A transient failure while polling (docs/pro-sante-connect.md: 502-504 from PSC's reverse proxy, a
// reset connection, a timeout) is retried at the next interval rather than ending the login: the
// auth_req_id / device_code stays valid at the provider, a poll changes nothing there before the
// user approves, and the user may be approving on the phone at this very moment. If tokens were
// issued behind a 5xx, the next poll gets invalid_grant and the login fails closed. More than
// this many failures in a row end the login Unavailable, so an outage still answers quickly.
inline constexpr unsigned kMaxTransientPollFailures = 3;

struct PollOptions {
    std::chrono::seconds interval{5};   // from the server (5 s when it sent none)
    std::chrono::seconds expires_in{0}; // from the server
    std::string expired_reason;         // Timeout reason when expires_in passes locally
    bool require_id_token = true;
    int json_max_depth = kJsonMaxDepth; // [limits] json_max_depth
    unsigned max_transient_failures = kMaxTransientPollFailures;
};

class TokenPoller {
public:
    using Clock = PollSchedule::Clock;
    // Builds one poll request; called for every poll (a private_key_jwt assertion is single-use).
    using BuildPoll = std::function<Result<HttpFormRequest>()>;
    using Done = std::function<void(Result<TokenResponse>)>;

    TokenPoller(sd_event* event, HttpClient& http) : event_(event), http_(http) {}
    TokenPoller(const TokenPoller&) = delete;
    TokenPoller& operator=(const TokenPoller&) = delete;

    // The first poll comes one interval from now. done is called once, from the loop, with the
    // tokens or the error that ended the polling: the OAuth error's (oauth_error_to_error:
    // access_denied, expired_token, invalid_request, invalid_grant, ...), parse_token_response's,
    // opts.expired_reason (timeout), the last transient HTTP error (unavailable), or
    // event_source. Reasons returned at once: event_source.
    [[nodiscard]] Status start(PollOptions opts, BuildPoll build, Done done);

    [[nodiscard]] std::chrono::seconds interval() const noexcept {
        return schedule_ ? schedule_->interval() : std::chrono::seconds(0);
    }
    [[nodiscard]] unsigned polls_sent() const noexcept { return polls_; }

private:
    [[nodiscard]] Status arm(Clock::time_point when);
    void poll();
    void on_answer(Result<HttpResponse> resp);
    void again(Error last);
    void finish(Result<TokenResponse> r);
    static int on_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;

    sd_event* event_;
    HttpClient& http_;
    PollOptions opts_;
    std::optional<PollSchedule> schedule_;
    BuildPoll build_;
    Done done_;
    unsigned transient_ = 0;
    unsigned polls_ = 0;
    SdEventSourcePtr timer_;
    ScopedHttpRequest request_; // last: cancelled first
};

} // namespace psc

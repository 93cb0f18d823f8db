// SPDX-License-Identifier: LGPL-2.1-or-later
// The state machine behind both decoupled flows: a CIBA request (auth_req_id) or a device
// authorization (device_code) that the client polls at the token endpoint. Each poll is recorded
// with its time and answer, so the daemon's tests can prove `interval` and `slow_down` were
// honoured.
#pragma once

#include "identities.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace psc::mock {

using SteadyClock = std::chrono::steady_clock;

enum class PollAnswer {
    pending,   // 400 authorization_pending
    slow_down, // 400 slow_down (interval grew by 5 s)
    denied,    // 400 access_denied
    expired,   // 400 expired_token
    approved,  // 200 with tokens (the request is then spent)
    spent,     // 400 invalid_grant: already redeemed
};

[[nodiscard]] std::string_view poll_answer_name(PollAnswer a) noexcept;

struct PollRecord {
    std::int64_t at_ms = 0;      // since the request was created
    std::int64_t interval_s = 0; // the interval in force when this poll arrived
    PollAnswer answer = PollAnswer::pending;
};

// RFC 8628 §3.5 / CIBA Core §11: each slow_down adds 5 s to the interval.
inline constexpr std::chrono::seconds kSlowDownStep{5};
// Polls earlier than interval minus this are "too fast" and answered slow_down (network jitter
// and the client's timer granularity must not count as misbehaviour).
inline constexpr std::chrono::milliseconds kPollTolerance{250};

struct DecoupledRequest {
    enum class Kind { ciba, device } kind = Kind::ciba;
    std::string id; // auth_req_id or device_code
    std::string client_id;
    std::string scope;
    std::string idnat;     // device: empty until a user approves
    std::string auth_mode; // CARD/MOBILE
    std::string binding_message;
    std::string user_code; // device only
    SteadyClock::time_point created;
    SteadyClock::time_point expires;
    std::chrono::seconds interval{5};
    CibaScript script;
    std::vector<PollRecord> polls;
    bool spent = false;

    // Decides the answer to a poll arriving at `now` and records it.
    PollAnswer poll(SteadyClock::time_point now);
};

} // namespace psc::mock

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "decoupled.hpp"

namespace psc::mock {

namespace {

PollAnswer decide(DecoupledRequest& r, SteadyClock::time_point now, std::size_t poll_number) {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    if (r.spent)
        return PollAnswer::spent;
    if (now >= r.expires)
        return PollAnswer::expired;
    // A client polling faster than the interval is told to slow down, as Keycloak does.
    if (!r.polls.empty()) {
        const auto last = r.created + milliseconds(r.polls.back().at_ms);
        if (now - last + kPollTolerance < r.interval) {
            r.interval += kSlowDownStep;
            return PollAnswer::slow_down;
        }
    }
    if (r.script.slow_down_on_poll > 0 &&
        poll_number == static_cast<std::size_t>(r.script.slow_down_on_poll)) {
        r.interval += kSlowDownStep;
        return PollAnswer::slow_down;
    }
    if (r.script.outcome == CibaOutcome::never || now - r.created < r.script.approve_after)
        return PollAnswer::pending;
    if (r.script.outcome == CibaOutcome::deny)
        return PollAnswer::denied;
    if (r.idnat.empty()) // device flow: nobody approved yet
        return PollAnswer::pending;
    r.spent = true;
    return PollAnswer::approved;
}

} // namespace

std::string_view poll_answer_name(PollAnswer a) noexcept {
    switch (a) {
    case PollAnswer::pending:
        return "authorization_pending";
    case PollAnswer::slow_down:
        return "slow_down";
    case PollAnswer::denied:
        return "access_denied";
    case PollAnswer::expired:
        return "expired_token";
    case PollAnswer::approved:
        return "approved";
    case PollAnswer::spent:
        return "invalid_grant";
    }
    return "?";
}

PollAnswer DecoupledRequest::poll(SteadyClock::time_point now) {
    const std::int64_t interval_before = interval.count();
    const PollAnswer a = decide(*this, now, polls.size() + 1);
    const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(now - created);
    polls.push_back(PollRecord{at.count(), interval_before, a});
    return a;
}

} // namespace psc::mock

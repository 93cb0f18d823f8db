// SPDX-License-Identifier: LGPL-2.1-or-later
// CIBA pushes to one person's phone, throttled (docs/pro-sante-connect.md, "CIBA": anyone who knows
// a user name can start a push, so a phone can be flooded into a tired "approve"). Per user, the
// local seat and remote logins each have a token bucket: `burst` pushes at once, then one per
// `interval`; an access_denied on the phone stops that bucket for `deny_cooldown`. Remote logins
// can therefore never use up the local seat's pushes, and no number of addresses can push faster
// than one bucket allows. Pure: the caller gives the time.
#pragma once

#include "result.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace psc {

struct PushThrottleLimits {
    unsigned burst = 3;
    std::chrono::seconds interval{30};
    std::chrono::seconds deny_cooldown{120};
};

class PushThrottle {
public:
    explicit PushThrottle(PushThrottleLimits limits) : limits_(limits) {}
    // New limits (a reload); the buckets, and so the pushes already spent, are kept.
    void set_limits(PushThrottleLimits limits) noexcept { limits_ = limits; }
    // Takes one push from the bucket, or Errc::busy "ciba_throttled" whose message says when the
    // next one is allowed ("next push for this account in N s").
    [[nodiscard]] Status admit(const std::string& user, bool remote, std::uint64_t now_usec);
    // The person refused a push on the phone: no push from that side for deny_cooldown.
    void denied(const std::string& user, bool remote, std::uint64_t now_usec);
    [[nodiscard]] std::size_t size() const noexcept { return buckets_.size(); }

private:
    struct Bucket {
        double tokens = 0;
        std::uint64_t at_usec = 0;       // when `tokens` was last brought up to date
        std::uint64_t cool_until = 0;    // no push before this (after access_denied)
    };
    Bucket& bucket(const std::string& user, bool remote, std::uint64_t now_usec);
    void refill(Bucket& b, std::uint64_t now_usec) const;
    void forget_idle(std::uint64_t now_usec);

    PushThrottleLimits limits_;
    std::unordered_map<std::string, Bucket> buckets_;
};

} // namespace psc

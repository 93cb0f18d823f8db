// SPDX-License-Identifier: LGPL-2.1-or-later
#include "push_throttle.hpp"

#include <algorithm>
#include <cmath>

namespace psc {
namespace {

constexpr std::size_t kSweepAbove = 4096; // buckets kept before idle ones are forgotten

std::uint64_t usec(std::chrono::seconds s) {
    return static_cast<std::uint64_t>(s.count()) * 1'000'000;
}

} // namespace

void PushThrottle::refill(Bucket& b, std::uint64_t now) const {
    if (now <= b.at_usec)
        return;
    const double cap = limits_.burst;
    if (limits_.interval.count() == 0)
        b.tokens = cap;
    else
        b.tokens = std::min(cap, b.tokens + static_cast<double>(now - b.at_usec) /
                                                static_cast<double>(usec(limits_.interval)));
    b.at_usec = now;
}

// A bucket that is full again and not cooling down says nothing a fresh one would not.
void PushThrottle::forget_idle(std::uint64_t now) {
    if (buckets_.size() < kSweepAbove)
        return;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
        refill(it->second, now);
        if (it->second.tokens >= limits_.burst && it->second.cool_until <= now)
            it = buckets_.erase(it);
        else
            ++it;
    }
}

PushThrottle::Bucket& PushThrottle::bucket(const std::string& user, bool remote,
                                           std::uint64_t now) {
    forget_idle(now);
    const std::string key = (remote ? "r:" : "l:") + user;
    auto [it, fresh] = buckets_.try_emplace(key);
    if (fresh) {
        it->second.tokens = limits_.burst;
        it->second.at_usec = now;
    }
    refill(it->second, now);
    return it->second;
}

Status PushThrottle::admit(const std::string& user, bool remote, std::uint64_t now) {
    Bucket& b = bucket(user, remote, now);
    std::uint64_t wait = 0;
    if (b.cool_until > now)
        wait = b.cool_until - now;
    else if (b.tokens < 1.0)
        wait = static_cast<std::uint64_t>(std::ceil((1.0 - b.tokens) *
                                                    static_cast<double>(usec(limits_.interval))));
    if (wait > 0) {
        const auto s = (wait + 999'999) / 1'000'000;
        return make_error(Errc::busy, "ciba_throttled",
                          "next push for this account in " + std::to_string(s) + " s");
    }
    b.tokens -= 1.0;
    return {};
}

void PushThrottle::denied(const std::string& user, bool remote, std::uint64_t now) {
    Bucket& b = bucket(user, remote, now);
    b.cool_until = std::max(b.cool_until, now + usec(limits_.deny_cooldown));
}

} // namespace psc

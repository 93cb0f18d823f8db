// SPDX-License-Identifier: LGPL-2.1-or-later
// The pending-login limits of design §9, as counters kept on start and end (never a scan): the
// local seat (no rhost: console, GDM, screen unlock) and remote logins have separate budgets, so
// logins started from elsewhere can never make a local login for the same user answer Busy, and
// remote logins are also limited per source address. Only running logins count: one that ended
// and waits for its owner to collect the outcome no longer holds a slot.
#pragma once

#include "result.hpp"

#include <cstddef>
#include <string>
#include <unordered_map>

namespace psc {

struct LoginCountLimits {
    std::size_t max_pending = 1024;         // each of local and remote
    std::size_t max_pending_per_user = 4;   // each of local and remote, per user
    std::size_t max_pending_per_source = 16; // remote, per rhost
};

struct CountKey {
    std::string user;
    std::string rhost; // "" = the local seat
};

class LoginCounts {
public:
    // Reasons (Errc::busy): too_many_logins, too_many_user_logins, too_many_source_logins.
    [[nodiscard]] Status admit(const CountKey& k, const LoginCountLimits& limits) const;
    void add(const CountKey& k);
    void remove(const CountKey& k) noexcept;
    [[nodiscard]] std::size_t local() const noexcept { return local_; }
    [[nodiscard]] std::size_t remote() const noexcept { return remote_; }

private:
    using Counter = std::unordered_map<std::string, std::size_t>;
    static std::size_t get(const Counter& c, const std::string& key);
    static bool dec(Counter& c, const std::string& key) noexcept;
    std::size_t local_ = 0, remote_ = 0;
    Counter local_user_, remote_user_, source_;
};

} // namespace psc

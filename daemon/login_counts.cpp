// SPDX-License-Identifier: LGPL-2.1-or-later
#include "login_counts.hpp"

namespace psc {

std::size_t LoginCounts::get(const Counter& c, const std::string& key) {
    const auto it = c.find(key);
    return it == c.end() ? 0 : it->second;
}

bool LoginCounts::dec(Counter& c, const std::string& key) noexcept {
    const auto it = c.find(key);
    if (it == c.end())
        return false;
    if (--it->second == 0)
        c.erase(it);
    return true;
}

Status LoginCounts::admit(const CountKey& k, const LoginCountLimits& limits) const {
    const bool remote = !k.rhost.empty();
    if ((remote ? remote_ : local_) >= limits.max_pending)
        return make_error(Errc::busy, "too_many_logins", "too many pending logins");
    if (get(remote ? remote_user_ : local_user_, k.user) >= limits.max_pending_per_user)
        return make_error(Errc::busy, "too_many_user_logins",
                          remote ? "too many pending remote logins for this user"
                                 : "too many pending logins for this user on this machine");
    if (remote && get(source_, k.rhost) >= limits.max_pending_per_source)
        return make_error(Errc::busy, "too_many_source_logins",
                          "too many pending logins from this address");
    return {};
}

void LoginCounts::add(const CountKey& k) {
    if (k.rhost.empty()) {
        ++local_;
        ++local_user_[k.user];
        return;
    }
    ++remote_;
    ++remote_user_[k.user];
    ++source_[k.rhost];
}

// Only what add() counted is taken away: a key never added changes nothing.
void LoginCounts::remove(const CountKey& k) noexcept {
    if (k.rhost.empty()) {
        if (dec(local_user_, k.user))
            --local_;
        return;
    }
    if (dec(remote_user_, k.user)) {
        --remote_;
        dec(source_, k.rhost);
    }
}

} // namespace psc

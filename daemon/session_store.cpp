// SPDX-License-Identifier: LGPL-2.1-or-later
#include "session_store.hpp"

#include "random.hpp"

#include <algorithm>
#include <openssl/crypto.h>

namespace psc {
namespace {

constexpr std::uint64_t usec(std::chrono::minutes m) {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(m).count());
}

bool same(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Error unknown() {
    return make_error(Errc::invalid, "session_unknown",
                      "no such session ticket (expired, already used, or from another daemon run)");
}

} // namespace

void SessionStore::expire(std::uint64_t now_usec) {
    const std::uint64_t ttl = usec(kTicketTtl);
    std::erase_if(records_, [&](const SessionRecord& r) {
        return !r.open && now_usec > r.created_usec && now_usec - r.created_usec > ttl;
    });
}

Result<std::string> SessionStore::add(SessionRecord r, std::uint64_t now_usec) {
    expire(now_usec);
    if (records_.size() >= kMaxRecords)
        records_.erase(records_.begin());
    auto ticket = random_token(32);
    auto id = random_token(6);
    if (!ticket || !id)
        return make_error(Errc::internal, "rng", "no randomness for a session ticket");
    r.ticket = std::move(*ticket);
    r.id = std::move(*id);
    r.open = false;
    r.created_usec = now_usec;
    records_.push_back(std::move(r));
    return records_.back().ticket;
}

Result<const SessionRecord*> SessionStore::open(std::string_view ticket, uid_t caller,
                                                std::string logind_session,
                                                std::uint64_t now_usec,
                                                std::uint64_t realtime_usec) {
    expire(now_usec);
    for (auto& r : records_) {
        if (!same(r.ticket, ticket))
            continue;
        if (r.open)
            return unknown();
        if (r.caller_uid != caller)
            return make_error(Errc::denied, "session_not_yours",
                              "this session was authenticated by another caller");
        r.open = true;
        r.opened_at = realtime_usec;
        r.logind_session = std::move(logind_session);
        return &r;
    }
    return unknown();
}

Result<SessionRecord> SessionStore::close(std::string_view ticket, uid_t caller) {
    for (auto it = records_.begin(); it != records_.end(); ++it) {
        if (!same(it->ticket, ticket))
            continue;
        if (!it->open)
            return unknown();
        if (it->caller_uid != caller)
            return make_error(Errc::denied, "session_not_yours",
                              "this session was authenticated by another caller");
        SessionRecord r = std::move(*it);
        records_.erase(it);
        return r;
    }
    return unknown();
}

std::vector<SessionStore::Ending> SessionStore::end_at_provider(std::string_view user,
                                                                std::string_view id) {
    std::vector<Ending> out;
    for (auto& r : records_) {
        if (!r.open || r.ended_at_provider)
            continue;
        if ((!user.empty() && r.user == user) || (!id.empty() && r.id == id)) {
            r.ended_at_provider = true;
            out.push_back({r.id, r.user, r.idnat, r.service, std::move(r.id_token)});
            r.id_token.reset();
        }
    }
    return out;
}

std::vector<SessionStore::ProviderEnded> SessionStore::end_by_provider(std::string_view sid,
                                                                      std::string_view sub) {
    std::vector<ProviderEnded> out;
    if (sid.empty() && sub.empty())
        return out;
    for (auto& r : records_) {
        if (!r.open)
            continue;
        const bool match = !sid.empty() ? r.sid == sid && (sub.empty() || r.sub == sub)
                                        : r.sub == sub;
        if (!match)
            continue;
        r.ended_at_provider = true;
        r.id_token.reset(); // the provider session is gone: no hint to send any more
        out.push_back({r.id, r.user, r.idnat, r.service, r.logind_session});
    }
    return out;
}

std::vector<const SessionRecord*> SessionStore::open_sessions() const {
    std::vector<const SessionRecord*> out;
    for (const auto& r : records_)
        if (r.open)
            out.push_back(&r);
    return out;
}

} // namespace psc

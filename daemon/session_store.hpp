// SPDX-License-Identifier: LGPL-2.1-or-later
// The sessions that follow a psc-login authentication (design §5): a successful login leaves a
// ticket (a random secret handed to the PAM module with the outcome); the PAM session stack opens
// it (OpenSession) and closes it (CloseSession). An open session keeps what a logout at the
// provider needs — the ID token, in memory only, for id_token_hint — and what `pscctl sessions`
// shows. Bounded: tickets never opened are forgotten after kTicketTtl, and at most kMaxRecords
// records are kept: the oldest gives way (an application that died without closing its session
// leaves a record nobody will close; the oldest are those).
#pragma once

#include "result.hpp"
#include "secret.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

namespace psc {

struct SessionRecord {
    std::string id;     // public, short: names the session in ListSessions and Logout
    std::string ticket; // secret: only the PAM stack that authenticated holds it
    std::string user, idnat, service, rhost, tty;
    std::string sid;            // the provider's session id (ID token "sid"), "" when none
    std::string sub;            // the ID token's sub
    std::string logind_session; // XDG_SESSION_ID when the PAM stack had one at open
    uid_t caller_uid = static_cast<uid_t>(-1);
    std::shared_ptr<const Secret> id_token;
    bool open = false;
    bool logout_on_close = false;   // the service's logout_on_session_close, at login time
    bool ended_at_provider = false; // a logout at the provider was sent (pscctl logout)
    std::uint64_t created_usec = 0; // CLOCK_MONOTONIC
    std::uint64_t opened_at = 0;    // realtime µs; 0 until open
};

class SessionStore {
public:
    static constexpr std::size_t kMaxRecords = 8192;
    static constexpr std::chrono::minutes kTicketTtl{10};

    // Adds a record for a successful login (ticket and id drawn here) and returns its ticket.
    // Reasons: random (no randomness).
    [[nodiscard]] Result<std::string> add(SessionRecord r, std::uint64_t now_usec);
    // The PAM stack opens the session its login left. Reasons (Errc::invalid): session_unknown
    // (no such ticket, expired, or already open); (Errc::denied) session_not_yours (another uid
    // than the one that started the login).
    // The record, valid until the store changes.
    [[nodiscard]] Result<const SessionRecord*> open(std::string_view ticket, uid_t caller,
                                                    std::string logind_session,
                                                    std::uint64_t now_usec,
                                                    std::uint64_t realtime_usec);
    // Closes and forgets it; the record is returned (for a logout at close). Reasons as open().
    [[nodiscard]] Result<SessionRecord> close(std::string_view ticket, uid_t caller);
    // For a logout at the provider: the open sessions of `user` (or the one whose public id is
    // `id`) not yet ended there are marked ended and their ID tokens handed over (the records
    // stay until the PAM session closes).
    struct Ending {
        std::string id, user, idnat, service;
        std::shared_ptr<const Secret> id_token;
    };
    [[nodiscard]] std::vector<Ending> end_at_provider(std::string_view user, std::string_view id);
    // A back-channel logout: the open sessions of the provider session `sid` (and of `sub` when
    // given), or, without sid, every open session of `sub`, are marked ended at the provider and
    // listed for the action on their logind sessions.
    struct ProviderEnded {
        std::string id, user, idnat, service, logind_session;
    };
    [[nodiscard]] std::vector<ProviderEnded> end_by_provider(std::string_view sid,
                                                             std::string_view sub);
    // Open sessions, oldest first.
    [[nodiscard]] std::vector<const SessionRecord*> open_sessions() const;
    [[nodiscard]] std::size_t size() const noexcept { return records_.size(); }

private:
    void expire(std::uint64_t now_usec);
    std::deque<SessionRecord> records_; // in creation order (the oldest give way first)
};

} // namespace psc

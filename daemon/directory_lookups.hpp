// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-authd's directory lookups ([mapping] source = ldap or sssd) without blocking its event loop:
// one lookup thread owns the directory's connection (LDAP, or the bus to SSSD's InfoPipe, kept
// open between lookups) and works through a queue; answers come back to the loop through an
// eventfd. Answers (mapped or not) are cached for ldap_cache_ttl (with SSSD, not at all: SSSD
// caches); errors never are. When the directory cannot be reached, every lookup waiting
// behind the failed one gets that answer at once instead of each waiting its timeout again.
#pragma once

#include "config.hpp"
#include "directory.hpp"
#include "event_loop.hpp"
#include "result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace psc {

class DirectoryLookups {
public:
    using Done = std::function<void(Result<DirectoryMapping>)>;

    // search: what the lookup thread runs (an LdapDirectory or an SssdDirectory; tests pass
    // their own). cache_ttl: how long answers are kept (0: never).
    static Result<std::unique_ptr<DirectoryLookups>>
    create(sd_event* event, std::chrono::seconds cache_ttl,
           std::unique_ptr<DirectorySearch> search);
    ~DirectoryLookups();
    DirectoryLookups(const DirectoryLookups&) = delete;
    DirectoryLookups& operator=(const DirectoryLookups&) = delete;

    // The account's mapping (directory_account_idnat). done is called from the event loop, never
    // from inside this call; the returned id cancels it. Reasons: directory_busy (Errc::busy: too
    // many lookups waiting) and directory_account_idnat's.
    [[nodiscard]] Result<std::uint64_t> account_idnat(const std::string& user, Done done);
    void cancel(std::uint64_t id) noexcept;

    static constexpr std::size_t kMaxQueued = 4096;
    static constexpr std::size_t kMaxCached = 8192;

    struct Shared;

private:
    DirectoryLookups(sd_event* event, std::chrono::seconds cache_ttl);
    static int on_ready(sd_event_source* s, int fd, std::uint32_t revents, void* userdata);
    void drain();
    void deliver(std::uint64_t id, Result<DirectoryMapping> r);

    sd_event* event_;
    std::chrono::seconds ttl_;
    std::shared_ptr<Shared> shared_;
    SdEventSourcePtr io_;
    SdEventSourcePtr defer_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Done> waiting_;
    struct Cached {
        DirectoryMapping mapping;
        std::chrono::steady_clock::time_point until;
    };
    std::map<std::string, Cached, std::less<>> cache_;
    std::map<std::uint64_t, Result<DirectoryMapping>> ready_; // cache hits, delivered deferred
};

} // namespace psc

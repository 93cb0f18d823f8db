// SPDX-License-Identifier: LGPL-2.1-or-later
// Which bus connections hold logins, and which left the bus (design §5: a login whose caller leaves
// is cancelled). One NameOwnerChanged match for the whole daemon, whatever the number of logins
// or callers: dbus-daemon caps match rules per connection (512 on the system bus), and a rule per
// login once made the daemon lose its bus at about 510 pending logins. A caller seen for the
// first time is asked about once (NameHasOwner), so one that left before its login was recorded
// is noticed too.
#pragma once

#include "owned.hpp"
#include "result.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#include <systemd/sd-bus.h>

namespace psc {

class BusPeers {
public:
    // `gone` is called with the logins of a connection that left the bus (from the event loop;
    // the peer is forgotten first, so it may call remove()). Reasons: bus_match.
    using Gone = std::function<void(std::vector<std::string> login_ids)>;
    [[nodiscard]] static Result<std::unique_ptr<BusPeers>> create(sd_bus* bus, Gone gone);
    BusPeers(const BusPeers&) = delete;
    BusPeers& operator=(const BusPeers&) = delete;

    // Reasons: bus_track (the NameHasOwner probe could not be sent).
    [[nodiscard]] Status add(const std::string& sender, const std::string& login_id);
    void remove(const std::string& sender, const std::string& login_id) noexcept;
    [[nodiscard]] std::size_t peers() const noexcept { return peers_.size(); }

private:
    using SlotPtr = Owned<sd_bus_slot, sd_bus_slot_unref>;
    struct Peer {
        std::unordered_set<std::string> logins;
        SlotPtr probe; // the NameHasOwner call, while it is in flight
    };
    BusPeers(sd_bus* bus, Gone gone) : bus_(bus), gone_(std::move(gone)) {}
    void left(const std::string& sender);
    static int on_owner_changed(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept;
    static int on_probe(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept;

    sd_bus* bus_;
    Gone gone_;
    std::unordered_map<std::string, Peer> peers_;
    SlotPtr match_;
};

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
#include "bus_peers.hpp"

namespace psc {
namespace {

// The probe's reply finds its peer by name: the Peer may have been erased meanwhile.
struct ProbeCtx {
    BusPeers* self;
    std::string sender;
};

} // namespace

Result<std::unique_ptr<BusPeers>> BusPeers::create(sd_bus* bus, Gone gone) {
    std::unique_ptr<BusPeers> p(new BusPeers(bus, std::move(gone)));
    sd_bus_slot* slot = nullptr;
    const int r = sd_bus_match_signal(bus, &slot, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                      "org.freedesktop.DBus", "NameOwnerChanged",
                                      on_owner_changed, p.get());
    if (r < 0)
        return make_error(Errc::internal, "bus_match",
                          "cannot watch the bus for callers that leave: " + std::to_string(-r));
    p->match_.reset(slot);
    return p;
}

Status BusPeers::add(const std::string& sender, const std::string& login_id) {
    auto [it, fresh] = peers_.try_emplace(sender);
    it->second.logins.insert(login_id);
    if (!fresh)
        return {};
    // Asked once per caller: it may have left before the match saw it.
    sd_bus_slot* slot = nullptr;
    auto* ctx = new ProbeCtx{this, sender};
    const int r = sd_bus_call_method_async(bus_, &slot, "org.freedesktop.DBus",
                                           "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                           "NameHasOwner", on_probe, ctx, "s", sender.c_str());
    if (r < 0) {
        delete ctx;
        peers_.erase(it);
        return make_error(Errc::internal, "bus_track", "cannot watch the caller");
    }
    (void)sd_bus_slot_set_destroy_callback(slot, [](void* u) { delete static_cast<ProbeCtx*>(u); });
    it->second.probe.reset(slot);
    return {};
}

void BusPeers::remove(const std::string& sender, const std::string& login_id) noexcept {
    auto it = peers_.find(sender);
    if (it == peers_.end())
        return;
    it->second.logins.erase(login_id);
    if (it->second.logins.empty())
        peers_.erase(it); // cancels a probe still in flight
}

void BusPeers::left(const std::string& sender) {
    auto it = peers_.find(sender);
    if (it == peers_.end())
        return;
    std::vector<std::string> ids(it->second.logins.begin(), it->second.logins.end());
    peers_.erase(it);
    gone_(std::move(ids));
}

int BusPeers::on_owner_changed(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    const char *name = nullptr, *old_owner = nullptr, *new_owner = nullptr;
    if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
        return 0;
    // A unique name (":1.42") losing its owner is a connection gone for good.
    if (name == nullptr || name[0] != ':' || new_owner == nullptr || new_owner[0] != '\0')
        return 0;
    try {
        static_cast<BusPeers*>(userdata)->left(name);
    } catch (...) {
    }
    return 0;
}

int BusPeers::on_probe(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    auto* ctx = static_cast<ProbeCtx*>(userdata);
    int has = 1;
    if (!sd_bus_message_is_method_error(m, nullptr))
        (void)sd_bus_message_read(m, "b", &has);
    try {
        BusPeers* self = ctx->self;
        const std::string sender = ctx->sender;
        auto it = self->peers_.find(sender);
        if (it != self->peers_.end()) {
            it->second.probe.reset(); // sd-bus holds its own reference during this callback
            if (!has)
                self->left(sender);
        }
    } catch (...) {
    }
    return 0;
}

} // namespace psc

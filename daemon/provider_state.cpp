// SPDX-License-Identifier: LGPL-2.1-or-later
#include "provider_state.hpp"

#include <algorithm>
#include <utility>

namespace psc {

namespace {

bool psc_wallet_path(const ProviderConfig& p) {
    return p.profile == Profile::psc_production || p.profile == Profile::psc_sandbox;
}

} // namespace

ProviderState::ProviderState(sd_event* event, HttpClient& http, const Config& cfg,
                             ProviderStateOptions opts)
    : event_(event), http_(http), cfg_(cfg.provider), json_max_depth_(cfg.limits.json_max_depth),
      opts_(opts),
      jwks_(JwksCacheOptions{cfg.provider.jwks_refresh, cfg.limits.jwks_refetch_interval}) {}

ProviderState::~ProviderState() = default;

Result<std::unique_ptr<ProviderState>> ProviderState::create(sd_event* event, HttpClient& http,
                                                             const Config& cfg,
                                                             ProviderStateOptions opts) {
    std::unique_ptr<ProviderState> p(new ProviderState(event, http, cfg, opts));
    if (!cfg.provider.metadata_file.empty()) {
        auto md = load_discovery_file(cfg.provider.metadata_file, cfg.provider.issuer,
                                      cfg.provider.allow_insecure_http,
                                      cfg.limits.json_max_depth);
        if (!md)
            return std::move(md).error();
        p->metadata_ = std::move(*md);
        p->static_metadata_ = true;
        p->discovery_at_ = std::chrono::system_clock::now();
    }
    if (!cfg.provider.jwks_file.empty()) {
        auto keys = JwksCache::from_file(cfg.provider.jwks_file, cfg.limits.json_max_depth);
        if (!keys)
            return std::move(keys).error();
        p->jwks_ = std::move(*keys);
        p->jwks_at_ = std::chrono::system_clock::now();
    }
    return p;
}

Error ProviderState::not_ready_error() const {
    std::string why = last_error_ ? last_error_->describe() : std::string("still loading");
    return make_error(Errc::unavailable, "provider_not_ready",
                      "provider metadata or signing keys not loaded: " + why);
}

void ProviderState::begin() {
    if (static_metadata_) {
        if (!jwks_.is_static())
            load_jwks();
        return;
    }
    load_discovery();
}

std::chrono::seconds ProviderState::backoff(unsigned failures) const noexcept {
    auto d = opts_.retry_min;
    for (unsigned i = 1; i < failures && d < opts_.retry_max; ++i)
        d *= 2;
    return std::min(d, opts_.retry_max);
}

void ProviderState::schedule(SdEventSourcePtr& timer, std::chrono::seconds delay, bool discovery) {
    timer.reset();
    sd_event_source* s = nullptr;
    const auto usec = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(delay).count());
    // A timer that cannot be created (out of memory) leaves the current state as is; the next
    // login attempt still fails closed when nothing is loaded.
    if (sd_event_add_time_relative(event_, &s, CLOCK_MONOTONIC, usec, 0,
                                   discovery ? &on_discovery_timer : &on_jwks_timer, this) >= 0)
        timer = SdEventSourcePtr(s);
}

// One event per change: the first success (or the first after failures), and each failure whose
// text differs from the last one reported for that part — not one per retry.
// Last in each handler and never throwing: a log line that cannot be built (out of memory) must
// not keep a waiting login from its answer.
void ProviderState::report(bool discovery, const Status& outcome) noexcept {
    try {
        report_change(discovery, outcome);
    } catch (...) {
    }
}

void ProviderState::report_change(bool discovery, const Status& outcome) {
    std::string& last = reported_[discovery ? 0 : 1];
    const std::string_view part = discovery ? "discovery document" : "signing keys";
    const std::string url = discovery ? cfg_.discovery_url
                            : metadata_ ? metadata_->jwks_uri
                                        : std::string();
    if (outcome) {
        const bool first = discovery ? discovery_loads_ == 1 : jwks_loads_ == 1;
        if (last.empty() && !first)
            return; // a routine refresh
        last.clear();
        if (opts_.on_event)
            opts_.on_event(ProviderEvent{true, part, "provider " + std::string(part) + " loaded" +
                                                         (first ? "" : " again") + " from " + url});
        return;
    }
    const std::string text = outcome.error().describe();
    if (text == last)
        return;
    last = text;
    const unsigned failures = discovery ? discovery_failures_ : jwks_failures_;
    if (opts_.on_event)
        opts_.on_event(ProviderEvent{
            false, part,
            "provider " + std::string(part) + " could not be loaded: " + text + " (retrying in " +
                std::to_string(backoff(failures).count()) + " s" +
                ((discovery ? metadata_.has_value() : jwks_.has_keys())
                     ? "; the previous copy stays in use)"
                     : "; logins fail Unavailable until it loads)")});
}

std::chrono::seconds ProviderState::until(const SdEventSourcePtr& timer) const {
    uint64_t at = 0, now = 0;
    if (!timer || sd_event_source_get_time(timer.get(), &at) < 0 ||
        sd_event_now(event_, CLOCK_MONOTONIC, &now) < 0)
        return std::chrono::seconds(-1);
    return std::chrono::seconds(at > now ? (at - now + 999999) / 1000000 : 0);
}

ProviderPartInfo ProviderState::discovery_info() const {
    ProviderPartInfo i;
    i.loaded = metadata_.has_value();
    i.is_static = static_metadata_;
    i.loaded_at = discovery_at_;
    i.next_fetch = static_metadata_ ? std::chrono::seconds(-1) : until(discovery_timer_);
    i.failures = discovery_failures_;
    i.last_error = discovery_error_;
    return i;
}

ProviderPartInfo ProviderState::keys_info() const {
    ProviderPartInfo i;
    i.loaded = jwks_.has_keys();
    i.is_static = jwks_.is_static();
    i.loaded_at = jwks_at_;
    i.next_fetch = jwks_.is_static() ? std::chrono::seconds(-1) : until(jwks_timer_);
    i.failures = jwks_failures_;
    i.last_error = jwks_error_;
    i.keys = jwks_.keys().keys.size();
    return i;
}

int ProviderState::on_discovery_timer(sd_event_source*, uint64_t, void* userdata) noexcept {
    static_cast<ProviderState*>(userdata)->load_discovery();
    return 0;
}

int ProviderState::on_jwks_timer(sd_event_source*, uint64_t, void* userdata) noexcept {
    static_cast<ProviderState*>(userdata)->load_jwks();
    return 0;
}

void ProviderState::load_discovery() {
    auto src = discovery_source(cfg_.issuer, cfg_.discovery_url, psc_wallet_path(cfg_),
                                cfg_.allow_insecure_http);
    src.json_max_depth = json_max_depth_;
    discovery_fetch_ = std::make_unique<DiscoveryFetch>(http_, std::move(src));
    auto st = discovery_fetch_->start([this](Result<ProviderMetadata> md) { on_discovery(std::move(md)); });
    if (!st)
        on_discovery(std::move(st).error());
}

void ProviderState::on_discovery(Result<ProviderMetadata> md) {
    // The fetch object is not destroyed here: we may be inside its callback. It is replaced by
    // the next load.
    if (!md) {
        last_error_ = md.error();
        discovery_error_ = md.error().describe();
        schedule(discovery_timer_, backoff(++discovery_failures_), true);
        refresh_after_discovery(md.error());
        report(true, md.error());
        return;
    }
    const bool first = !metadata_.has_value();
    const bool jwks_moved = metadata_ && metadata_->jwks_uri != md->jwks_uri;
    metadata_ = std::move(*md);
    discovery_failures_ = 0;
    ++discovery_loads_;
    discovery_at_ = std::chrono::system_clock::now();
    schedule(discovery_timer_, cfg_.discovery_refresh, true);
    if (!jwks_.is_static() && !jwks_in_flight_ && (first || jwks_moved || !jwks_.has_keys()))
        load_jwks();
    refresh_after_discovery({});
    report(true, {});
}

void ProviderState::load_jwks() {
    if (jwks_in_flight_ || jwks_.is_static())
        return;
    if (!metadata_) { // the discovery load chains to us once it succeeds
        return;
    }
    HttpRequest req;
    req.url = metadata_->jwks_uri;
    jwks_.note_attempt(std::chrono::steady_clock::now());
    auto id = http_.start(std::move(req), [this](Result<HttpResponse> r) { on_jwks(std::move(r)); });
    if (!id) {
        on_jwks(std::move(id).error());
        return;
    }
    jwks_in_flight_ = true;
    jwks_request_ = ScopedHttpRequest(http_, *id);
}

void ProviderState::on_jwks(Result<HttpResponse> resp) {
    jwks_in_flight_ = false;
    Status outcome;
    if (!resp) {
        outcome = std::move(resp).error();
    } else if (auto keys = jwks_from_response(*resp, json_max_depth_); !keys) {
        outcome = std::move(keys).error();
    } else {
        jwks_.replace(std::move(*keys), std::chrono::steady_clock::now());
        jwks_failures_ = 0;
        ++jwks_loads_;
        jwks_at_ = std::chrono::system_clock::now();
    }
    if (outcome) {
        schedule(jwks_timer_, cfg_.jwks_refresh, false);
    } else {
        last_error_ = outcome.error();
        jwks_error_ = outcome.error().describe();
        schedule(jwks_timer_, backoff(++jwks_failures_), false);
    }
    // Waiters may start new requests or forget others: work on a detached copy.
    auto waiters = std::exchange(waiters_, {});
    for (auto& [id, done] : waiters)
        done(outcome);
    report(false, outcome);
}

bool ProviderState::refetch_keys(std::uint64_t waiter, KeysWaiter done) {
    if (jwks_.is_static() || !metadata_)
        return false;
    if (!jwks_in_flight_ && !jwks_.should_refetch_for_unknown_kid(std::chrono::steady_clock::now()))
        return false;
    waiters_[waiter] = std::move(done);
    load_jwks();
    return true;
}

void ProviderState::forget_waiter(std::uint64_t waiter) noexcept {
    waiters_.erase(waiter);
}

namespace {
// The JWKS waiter slot of an admin refresh; login waiters use login ids, which start at 1.
constexpr std::uint64_t kRefreshWaiter = 0;
} // namespace

Status ProviderState::refresh(KeysWaiter done) {
    if (refresh_done_)
        return make_error(Errc::busy, "refresh_in_progress", "a provider refresh is already running");
    if (!jwks_.is_static() && !jwks_in_flight_ &&
        !jwks_.should_refetch_for_unknown_kid(std::chrono::steady_clock::now()))
        return make_error(Errc::busy, "jwks_rate_limited",
                          "the signing keys were fetched moments ago; retry after "
                          "[limits] jwks_refetch_interval");
    refresh_done_ = std::move(done);
    if (static_metadata_) {
        refresh_after_discovery({});
    } else {
        refresh_fetching_discovery_ = true;
        load_discovery();
    }
    return {};
}

// Second step of an admin refresh, once the discovery document is in (or failed).
void ProviderState::refresh_after_discovery(const Status& discovery) {
    if (!refresh_done_ || (!refresh_fetching_discovery_ && !static_metadata_))
        return;
    refresh_fetching_discovery_ = false;
    if (!discovery)
        return finish_refresh(discovery);
    if (jwks_.is_static())
        return finish_refresh({});
    waiters_[kRefreshWaiter] = [this](Status keys) { finish_refresh(std::move(keys)); };
    load_jwks(); // no-op when the discovery step already started it: the waiter rides along
}

void ProviderState::finish_refresh(Status outcome) {
    // Delivered from a deferred source: refresh() promises never to call back from inside itself,
    // and a synchronous HTTP start failure would otherwise do just that.
    refresh_outcome_ = std::move(outcome);
    sd_event_source* s = nullptr;
    if (sd_event_add_defer(event_, &s, &on_refresh_done, this) < 0) {
        // Out of memory: answer now rather than leave the caller waiting forever.
        auto done = std::exchange(refresh_done_, nullptr);
        return done(std::move(refresh_outcome_));
    }
    refresh_defer_ = SdEventSourcePtr(s);
}

int ProviderState::on_refresh_done(sd_event_source*, void* userdata) noexcept {
    auto* self = static_cast<ProviderState*>(userdata);
    auto done = std::exchange(self->refresh_done_, nullptr);
    Status outcome = std::move(self->refresh_outcome_);
    self->refresh_defer_.reset();
    if (done)
        done(std::move(outcome));
    return 0;
}

} // namespace psc

// SPDX-License-Identifier: LGPL-2.1-or-later
// The provider as psc-authd knows it (design §3): discovery metadata (fetched, or metadata_file)
// and the signing keys (jwks_uri, or jwks_file), loaded asynchronously inside sd-event and
// refreshed on timers (discovery_refresh, jwks_refresh) and, after a failure, with exponential
// backoff. Until both are loaded the provider is "not ready" and logins fail Unavailable. A failed
// refresh keeps what was loaded; no key is ever trusted without a successful fetch
// (jwks_cache.hpp).
#pragma once

#include "config.hpp"
#include "discovery.hpp"
#include "event_loop.hpp"
#include "http_client.hpp"
#include "http_config.hpp"
#include "jwks_cache.hpp"
#include "login_backend.hpp"
#include "result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace psc {


// A change worth an operator's attention: a part (the discovery document or the signing keys)
// loaded for the first time or again after failures, or failing (once per distinct error, not
// once per retry). The daemon logs these; library code does not.
struct ProviderEvent {
    bool ok = false;
    std::string_view part; // "discovery document" or "signing keys"
    std::string message;   // what happened, with the URL and, on failure, the error and retry
};

struct ProviderStateOptions {
    // First retry after a failed load; doubled per failure up to retry_max.
    std::chrono::seconds retry_min{5};
    std::chrono::seconds retry_max{300};
    std::function<void(const ProviderEvent&)> on_event; // may be empty
};

class ProviderState {
public:
    using KeysWaiter = std::function<void(Status)>;

    // Reads metadata_file / jwks_file at once when configured (their errors are returned: the
    // daemon must not start with a bad static file); begin() starts the network loads.
    // Reasons: load_discovery_file's, JwksCache::from_file's, event_source.
    [[nodiscard]] static Result<std::unique_ptr<ProviderState>>
    create(sd_event* event, HttpClient& http, const Config& cfg, ProviderStateOptions opts = {});
    ~ProviderState();
    ProviderState(const ProviderState&) = delete;
    ProviderState& operator=(const ProviderState&) = delete;

    // Starts the asynchronous discovery and JWKS loads (no-op for static parts).
    void begin();

    [[nodiscard]] bool ready() const noexcept { return metadata_.has_value() && jwks_.has_keys(); }
    // Why not ready, for StartLogin's Unavailable: reason provider_not_ready with the last error.
    [[nodiscard]] Error not_ready_error() const;
    [[nodiscard]] const ProviderMetadata& metadata() const { return *metadata_; }
    [[nodiscard]] const JwksCache& jwks() const noexcept { return jwks_; }

    // An ID token named an unknown kid: refetch the JWKS once, rate-limited (design §9). Returns
    // false when no refetch is allowed now (static set, or one was attempted within the interval);
    // else `done` is called from the loop with the fetch's outcome, unless forget_waiter(waiter)
    // first.
    [[nodiscard]] bool refetch_keys(std::uint64_t waiter, KeysWaiter done);
    void forget_waiter(std::uint64_t waiter) noexcept;

    // Admin refresh (RefreshProvider): the discovery document (unless static), then the JWKS
    // (unless static), now. `done` gets the outcome later, always from the loop, never from
    // inside refresh(); a failure keeps what was loaded. The JWKS fetch counts against the
    // unknown-kid rate limit and is refused by it like any other refetch.
    // Reasons: refresh_in_progress, jwks_rate_limited (busy).
    [[nodiscard]] Status refresh(KeysWaiter done);

    [[nodiscard]] ProviderPartInfo discovery_info() const;
    [[nodiscard]] ProviderPartInfo keys_info() const;

    // Counters for tests and the daemon's status.
    [[nodiscard]] unsigned discovery_loads() const noexcept { return discovery_loads_; }
    [[nodiscard]] unsigned jwks_loads() const noexcept { return jwks_loads_; }

private:
    ProviderState(sd_event* event, HttpClient& http, const Config& cfg, ProviderStateOptions opts);
    void load_discovery();
    void on_discovery(Result<ProviderMetadata> md);
    void load_jwks();
    void on_jwks(Result<HttpResponse> resp);
    void schedule(SdEventSourcePtr& timer, std::chrono::seconds delay, bool discovery);
    void report(bool discovery, const Status& outcome) noexcept;
    void report_change(bool discovery, const Status& outcome);
    [[nodiscard]] std::chrono::seconds until(const SdEventSourcePtr& timer) const;
    [[nodiscard]] std::chrono::seconds backoff(unsigned failures) const noexcept;
    static int on_discovery_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    static int on_jwks_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    void refresh_after_discovery(const Status& discovery);
    void finish_refresh(Status outcome);
    static int on_refresh_done(sd_event_source* s, void* userdata) noexcept;

    sd_event* event_;
    HttpClient& http_;
    ProviderConfig cfg_;
    int json_max_depth_; // [limits] json_max_depth, for the discovery document and the JWKS
    ProviderStateOptions opts_;
    bool static_metadata_ = false;
    std::optional<ProviderMetadata> metadata_;
    JwksCache jwks_;
    std::optional<Error> last_error_;
    std::string discovery_error_, jwks_error_; // per part, for the status
    unsigned discovery_failures_ = 0;
    unsigned jwks_failures_ = 0;
    unsigned discovery_loads_ = 0;
    unsigned jwks_loads_ = 0;
    std::chrono::system_clock::time_point discovery_at_{}, jwks_at_{};
    std::string reported_[2]; // last event text per part (discovery, keys): "" = ok
    std::map<std::uint64_t, KeysWaiter> waiters_;
    std::unique_ptr<DiscoveryFetch> discovery_fetch_;
    ScopedHttpRequest jwks_request_;
    bool jwks_in_flight_ = false;
    SdEventSourcePtr discovery_timer_;
    SdEventSourcePtr jwks_timer_;
    KeysWaiter refresh_done_; // set while an admin refresh runs
    bool refresh_fetching_discovery_ = false;
    Status refresh_outcome_;
    SdEventSourcePtr refresh_defer_;
};

} // namespace psc

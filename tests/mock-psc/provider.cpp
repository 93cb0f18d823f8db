// SPDX-License-Identifier: LGPL-2.1-or-later
// Routing, the request log and the transport-level faults (5xx, stall, oversized, malformed JSON).
#include "provider.hpp"

#include "random.hpp"

#include <chrono>

namespace psc::mock {

namespace {

constexpr std::size_t kLogMax = 512;
// Comfortably above the 256 KiB response cap of design §9.
constexpr std::size_t kOversizedBytes = 1024 * 1024;

std::string_view strip_prefix(std::string_view path, std::string_view prefix) {
    if (path.substr(0, prefix.size()) == prefix)
        return path.substr(prefix.size());
    return {};
}

} // namespace

ServerResponse to_oauth_response(Answer a) {
    if (a)
        return std::move(*a);
    const Error& e = a.error();
    // RFC 6749 §5.2: invalid_client is 401; RFC 6750 §3.1: invalid_token is 401 too.
    const unsigned status =
        (e.reason == "invalid_client" || e.reason == "invalid_token") ? 401 : 400;
    ServerResponse r = oauth_error(status, e.reason, e.message);
    if (e.reason == "invalid_token")
        r.headers.emplace_back("WWW-Authenticate",
                               "Bearer error=\"invalid_token\", error_description=\"" + e.message +
                                   "\"");
    return r;
}

Provider::Provider(ProviderConfig cfg, Signer signer)
    : cfg_(std::move(cfg)), signer_(std::move(signer)) {}

Result<std::unique_ptr<Provider>> Provider::create(ProviderConfig cfg) {
    auto signer = Signer::create(cfg.options.es256);
    if (!signer)
        return std::move(signer).error();
    std::unique_ptr<Provider> p(new Provider(std::move(cfg), std::move(*signer)));
    for (const auto& f : p->cfg_.options.faults)
        PSC_TRY(p->faults_.arm(f, true));
    return p;
}

void Provider::set_base_url(const std::string& base_url) {
    std::lock_guard lock(mu_);
    base_url_ = base_url;
    issuer_ = base_url + std::string(kRealmPath);
}

void Provider::shutdown() noexcept {
    {
        std::lock_guard lock(mu_);
        shutting_down_ = true;
    }
    stall_cv_.notify_all();
}

std::optional<Error> Provider::injected_error(Endpoint at, std::string_view usual) {
    if (!faults_.take(Fault::oauth_error, at))
        return std::nullopt;
    return oauth_failure(oauth_error_code_.empty() ? usual : oauth_error_code_,
                         "mock-psc: injected error");
}

const Identity* Provider::identity(const std::string& idnat) const {
    const auto it = cfg_.identities.find(idnat);
    return it == cfg_.identities.end() ? nullptr : &it->second;
}

std::int64_t Provider::now_unix() const {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::optional<std::string> Provider::fresh_token() {
    auto t = random_token(32);
    if (!t)
        return std::nullopt;
    return std::move(*t);
}

std::optional<Endpoint> Provider::classify(std::string_view path) const {
    if (path == kAuthorizePath)
        return Endpoint::authorize;
    if (path == kControlPath)
        return Endpoint::control;
    if (path == std::string(kRealmPath) + std::string(kWalletDiscovery) ||
        (cfg_.options.standard_discovery &&
         path == std::string(kRealmPath) + std::string(kStandardDiscovery)))
        return Endpoint::discovery;
    // The mTLS aliases answer exactly like the plain endpoints.
    if (auto alias = strip_prefix(path, kMtlsPrefix); !alias.empty())
        path = alias;
    const std::string_view rest = strip_prefix(path, kOidcPath);
    if (rest == "/token")
        return Endpoint::token;
    if (rest == "/token/introspect")
        return Endpoint::introspect;
    if (rest == "/userinfo")
        return Endpoint::userinfo;
    if (rest == "/certs")
        return Endpoint::certs;
    if (rest == "/logout")
        return Endpoint::logout;
    if (rest == "/ext/ciba/auth")
        return Endpoint::ciba;
    if (rest == "/auth/device")
        return Endpoint::device;
    return std::nullopt;
}

ServerResponse Provider::handle(const ServerRequest& req) noexcept {
    try {
        std::unique_lock lock(mu_);
        const auto t0 = SteadyClock::now();
        const auto ep = classify(req.path);
        ServerResponse resp = ep ? dispatch(*ep, req, lock) : unrouted(req);
        const auto t1 = SteadyClock::now();
        log_.push_back(RequestLogEntry{
            std::chrono::duration_cast<std::chrono::milliseconds>(t1 - started_).count(), req.method,
            req.path, ep ? std::string(endpoint_name(*ep)) : "", resp.status,
            std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()});
        if (log_.size() > kLogMax)
            log_.pop_front();
        return resp;
    } catch (...) {
        return oauth_error(500, "server_error", "mock-psc internal error");
    }
}

ServerResponse Provider::dispatch(Endpoint ep, const ServerRequest& req,
                                  std::unique_lock<std::mutex>& lock) {
    if (ep != Endpoint::control)
        if (const auto f = faults_.take_transport(ep))
            return transport_fault(*f, ep, req, lock);
    return serve(ep, req);
}

ServerResponse Provider::serve(Endpoint ep, const ServerRequest& req) {
    switch (ep) {
    case Endpoint::discovery:
        return discovery(faults_.take(Fault::discovery_wrong_issuer, ep));
    case Endpoint::authorize:
        return authorize(req);
    case Endpoint::token:
        return to_oauth_response(token(req));
    case Endpoint::userinfo:
        return to_oauth_response(userinfo(req));
    case Endpoint::certs:
        return ServerResponse::json(signer_.jwks_json());
    case Endpoint::logout:
        return logout(req);
    case Endpoint::introspect:
        return to_oauth_response(introspect(req));
    case Endpoint::ciba:
        return to_oauth_response(ciba_auth(req));
    case Endpoint::device:
        return to_oauth_response(device_auth(req));
    case Endpoint::control:
        return control(req);
    }
    return oauth_error(404, "not_found", "");
}

ServerResponse Provider::transport_fault(Fault f, Endpoint ep, const ServerRequest& req,
                                         std::unique_lock<std::mutex>& lock) {
    switch (f) {
    case Fault::http_500:
        return oauth_error(500, "unknown_error", "");
    case Fault::http_502:
    case Fault::http_503: {
        // What a reverse proxy in front of Keycloak answers: HTML, not OAuth JSON.
        const bool bad_gateway = f == Fault::http_502;
        return html_response(bad_gateway
                                 ? "<html><body><h1>502 Bad Gateway</h1></body></html>"
                                 : "<html><body><h1>503 Service Unavailable</h1></body></html>",
                             bad_gateway ? 502 : 503);
    }
    case Fault::oversized_body: {
        ServerResponse r = ServerResponse::huge(kOversizedBytes, true);
        r.content_type = "application/json";
        return r;
    }
    case Fault::malformed_json: {
        // The genuine answer, cut in the middle: the side effects happened, the body is broken.
        ServerResponse r = serve(ep, req);
        r.body.resize(r.body.size() / 2);
        return r;
    }
    case Fault::stall:
    default: {
        // Holds the answer until shutdown or stall_for_ (the shared test server runs one handler
        // at a time, so a stall delays the other requests too; see README).
        const auto until = SteadyClock::now() + stall_for_;
        stall_cv_.wait_until(lock, until, [this] { return shutting_down_; });
        return html_response("<html><body><h1>504 Gateway Timeout</h1></body></html>", 504);
    }
    }
}

ServerResponse Provider::unrouted(const ServerRequest& req) {
    if (req.path == "/" || req.path == "/mock")
        return index_page();
    if (req.path == kDemoPath)
        return demo_start();
    if (req.path == kDemoCallbackPath)
        return demo_callback(req);
    if (req.path == kDevicePagePath)
        return device_page(req);
    return oauth_error(404, "not_found", "no such endpoint on mock-psc");
}

} // namespace psc::mock

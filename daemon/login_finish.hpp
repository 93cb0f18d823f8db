// SPDX-License-Identifier: LGPL-2.1-or-later
// The end of every flow (SPEC §3, §4): token response → ID token → UserInfo → identity → mapping
// decision for the requested PAM user. Pure steps (no event loop) so CIBA and the device grant
// reuse them; the flows only fetch.
#pragma once

#include "config.hpp"
#include "discovery.hpp"
#include "file_io.hpp"
#include "http_client.hpp"
#include "id_token.hpp"
#include "jws.hpp"
#include "login_backend.hpp"
#include "mapping.hpp"
#include "provider_state.hpp"
#include "result.hpp"
#include "secret.hpp"
#include "token_response.hpp"
#include "userinfo.hpp"

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>

namespace psc {

// The token endpoint's answer: an OAuth error becomes its Errc (oauth_error_to_error), 5xx is
// provider_unavailable. Reasons: parse_token_response's and the OAuth codes.
[[nodiscard]] Result<TokenResponse> token_from_response(const HttpResponse& response,
                                                        int json_max_depth);

// The ID token policy from the config (SPEC §3): issuer byte for byte, client_id, nonce (nullopt
// for CIBA), acr_accept (empty → any value), acr_missing, algs from id_token_algs (HS* only with
// the client secret, and only when configured), clock_skew, max_token_age, max_age.
// Reason: id_token_algs (an unknown name slipped past the config check).
[[nodiscard]] Result<IdTokenPolicy> id_token_policy(const Config& cfg, const ProviderMetadata& md,
                                                    std::optional<std::string> nonce,
                                                    const Secret* client_secret);

// The identity from identity_claim (ID token first, else UserInfo), aliases from alias_claim
// (otherIds), exercices and authMode from UserInfo. Reasons: identity_missing (invalid),
// userinfo_claim_type.
[[nodiscard]] Result<PscIdentity> identity_from(const MappingConfig& cfg, const IdToken& token,
                                                const UserInfo* userinfo);

// The map file, re-read when its inode or mtime changes (SPEC §4). Files that grant access:
// owned by root (or trusted_owner), not group/world writable. Any bad line rejects the whole map
// (Unavailable, the message carries "path:line"). Reason: map_unusable (plus file_io's).
class MapFileCache {
public:
    explicit MapFileCache(uid_t trusted_owner = 0) : trusted_owner_(trusted_owner) {}
    [[nodiscard]] Result<const UserMap*> get(const std::string& path);

private:
    uid_t trusted_owner_;
    std::optional<UserMap> map_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
    struct timespec mtime_ {};
};

// decide() with the service's authorization rules; the requested PAM user is the only account
// that can come out. Reasons: decide()'s and map_unusable.
[[nodiscard]] Result<LoginSuccess> decide_login(const Config& cfg, const LoginRequest& request,
                                                const PscIdentity& identity, MapFileCache& maps,
                                                const UserDb& users);

// What every flow shares with the engine (owned by it; outlives every login).
struct FlowContext {
    sd_event* event = nullptr;
    HttpClient* http = nullptr;
    ProviderState* provider = nullptr;
    const Config* cfg = nullptr;
    const Secret* client_secret = nullptr;      // null unless client_secret_* or HS* is configured
    const JwsSigningKey* signing_key = nullptr; // null unless private_key_jwt is configured
    MapFileCache* maps = nullptr;
    const UserDb* users = nullptr;
};

// The asynchronous tail of every flow: ID token (one rate-limited JWKS refetch on an unknown kid,
// then validated again), UserInfo right after the exchange when configured (PSC access tokens live
// 2 minutes), identity, decision. Destroying it cancels its requests; done is then never called.
class LoginFinisher {
public:
    using Done = std::function<void(Result<LoginSuccess>)>;
    // waiter: a process-unique id (the login's) for the JWKS refetch queue.
    LoginFinisher(const FlowContext& ctx, std::uint64_t waiter, LoginRequest request);
    ~LoginFinisher();
    LoginFinisher(const LoginFinisher&) = delete;
    LoginFinisher& operator=(const LoginFinisher&) = delete;

    // done may be called before run() returns (a token refused at once).
    void run(TokenResponse tokens, std::optional<std::string> nonce, Done done);

private:
    void validate(bool after_refetch);
    void fetch_userinfo();
    void on_userinfo(Result<HttpResponse> resp);
    void conclude(const UserInfo* userinfo);
    void finish(Result<LoginSuccess> r);

    FlowContext ctx_;
    std::uint64_t waiter_;
    LoginRequest request_;
    TokenResponse tokens_;
    std::optional<std::string> nonce_;
    std::optional<IdToken> id_token_;
    Done done_;
    ScopedHttpRequest userinfo_request_;
};

} // namespace psc

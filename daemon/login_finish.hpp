// SPDX-License-Identifier: LGPL-2.1-or-later
// The two ends of every flow (design §3, §4). Before: the PAM user is resolved to a managed account
// (AccountResolver, before any provider contact). After: token response → ID token → UserInfo →
// identity → the decision (decision/decision.hpp) for that account. Pure steps where possible
// (no event loop) so CIBA and the device grant reuse them; the flows only fetch.
#pragma once

#include "config.hpp"
#include "decision.hpp"
#include "directory_lookups.hpp"
#include "map_file.hpp"
#include "discovery.hpp"
#include "file_io.hpp"
#include "http_client.hpp"
#include "id_token.hpp"
#include "jws.hpp"
#include "login_backend.hpp"
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

// The ID token policy from the config (design §3): issuer byte for byte, client_id, nonce (nullopt
// for CIBA), acr_accept (empty → any value), acr_missing, algs from id_token_algs (HS* only with
// the client secret, and only when configured), clock_skew, max_token_age, max_age.
// Reason: id_token_algs (an unknown name slipped past the config check).
[[nodiscard]] Result<IdTokenPolicy> id_token_policy(const Config& cfg, const ProviderMetadata& md,
                                                    std::optional<std::string> nonce,
                                                    const Secret* client_secret);

// The identity from identity_claim (ID token first, else UserInfo), former identifiers from the
// configured alias_claim (only when set), practices and authMode from UserInfo. Reasons:
// identity_missing (invalid), userinfo_claim_type.
[[nodiscard]] Result<PscIdentity> identity_from(const MappingConfig& cfg, const IdToken& token,
                                                const UserInfo* userinfo);

// Step 1 of the decision with its lookups: NSS, then (for accounts that could be managed) the
// mapping source. Reasons: managed_account()'s (unknown_user), nss_lookup (io), map_unusable
// (config), and with source = ldap or sssd DirectoryLookups' (directory_unavailable, ...).
class AccountResolver {
public:
    using Done = std::function<void(Result<ManagedAccount>)>;

    AccountResolver(const Config& cfg, MapFileCache& maps, const UserDb& users)
        : cfg_(cfg), maps_(maps), users_(users) {}
    // source = ldap or sssd: the lookups to use (owned by the caller, set before the first resolve).
    void set_directory(DirectoryLookups* directory) noexcept { directory_ = directory; }

    // The answer now (map file, template, or any account the directory is not asked about:
    // root, system and missing accounts), or nullopt: `later` gets it from the event loop, and
    // *lookup is the id that cancels it.
    [[nodiscard]] std::optional<Result<ManagedAccount>> resolve(const std::string& user,
                                                                Done later,
                                                                std::uint64_t* lookup) const;
    void cancel(std::uint64_t lookup) const noexcept;

private:
    const Config& cfg_;
    MapFileCache& maps_;
    const UserDb& users_;
    DirectoryLookups* directory_ = nullptr;
};

// One login as every flow sees it: what the PAM module asked, and the account it resolved to.
struct LoginSubject {
    LoginRequest request;
    ManagedAccount account;
};

// decide() with the service's rules, as a LoginOutcome that carries the person's idNat.
[[nodiscard]] LoginOutcome decide_login(const Config& cfg, const LoginSubject& subject,
                                        const PscIdentity& identity);

// What every flow shares with the engine (owned by it; outlives every login).
struct FlowContext {
    sd_event* event = nullptr;
    HttpClient* http = nullptr;
    ProviderState* provider = nullptr;
    const Config* cfg = nullptr;
    const Secret* client_secret = nullptr;      // null unless client_secret_* or HS* is configured
    const JwsSigningKey* signing_key = nullptr; // null unless private_key_jwt is configured
    const JweDecryptPolicy* decryption = nullptr; // null unless id_token_decryption_key is set
};

// The asynchronous tail of every flow: ID token (one rate-limited JWKS refetch on an unknown kid,
// then validated again), UserInfo right after the exchange when configured (PSC access tokens live
// 2 minutes), identity, decision. Destroying it cancels its requests; done is then never called.
class LoginFinisher {
public:
    using Done = std::function<void(LoginOutcome)>;
    // waiter: a process-unique id (the login's) for the JWKS refetch queue.
    LoginFinisher(const FlowContext& ctx, std::uint64_t waiter, LoginSubject subject);
    ~LoginFinisher();
    LoginFinisher(const LoginFinisher&) = delete;
    LoginFinisher& operator=(const LoginFinisher&) = delete;

    // done may be called before run() returns (a token refused at once). `code`: the
    // authorization code the tokens were redeemed for (code flow), for the ID token's c_hash.
    void run(TokenResponse tokens, std::optional<std::string> nonce, Done done, Secret code = {});
    [[nodiscard]] const LoginSubject& subject() const noexcept { return subject_; }

private:
    void validate(bool after_refetch);
    void fetch_userinfo();
    void on_userinfo(Result<HttpResponse> resp);
    void conclude(const UserInfo* userinfo);
    void finish(LoginOutcome r);

    FlowContext ctx_;
    std::uint64_t waiter_;
    LoginSubject subject_;
    TokenResponse tokens_;
    std::optional<std::string> nonce_;
    Secret code_;
    std::optional<IdToken> id_token_;
    Done done_;
    ScopedHttpRequest userinfo_request_;
};

} // namespace psc

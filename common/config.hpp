// SPDX-License-Identifier: LGPL-2.1-or-later
// psc-login.conf(5): the typed configuration shared by psc-authd, pscctl and the PAM module.
// Layers, lowest first: built-in defaults, the PSC profile preset named by [provider] profile
// (wherever it is set), the main file, then <dir>/psc-login.conf.d/*.conf in byte order; finally
// [service:NAME] sections override [login] (and the [mapping] authorization rules) for one PAM
// service. Errors and warnings are "file:line: message" (ini.hpp), the same lines psc-authd logs
// and `pscctl check-config` prints.
#pragma once

#include "ini.hpp"
#include "result.hpp"
#include "secret.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace psc {

inline constexpr std::string_view kDefaultConfigPath = "/etc/psc-login/psc-login.conf";
inline constexpr std::string_view kPscProductionIssuer =
    "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet";
inline constexpr std::string_view kPscSandboxIssuer =
    "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet";
// PSC serves discovery at a non-standard path (docs/pro-sante-connect.md, "Platform").
inline constexpr std::string_view kPscDiscoverySuffix = "/.well-known/wallet-openid-configuration";
inline constexpr std::string_view kOidcDiscoverySuffix = "/.well-known/openid-configuration";

enum class Profile { generic, psc_production, psc_sandbox };
enum class TokenAuthMethod {
    client_secret_basic,
    client_secret_post,
    tls_client_auth,
    private_key_jwt
};
enum class AcrMissing { accept, reject };
enum class Flow { code, ciba, device }; // `code` includes paste-back (design §2.2)
enum class CibaChannel { mobile, card };
enum class AuthMode { card, mobile };
// confirm_code (design §2.1, [callback]): whether a callback that reached the listener must be
// confirmed by typing, at the prompt, the short code its page shows. auto: only when the
// redirect_uri is not loopback (a bastion, where someone else's browser can complete a login).
enum class ConfirmCode { automatic, always, never };
// What a back-channel logout does to the matching local sessions (through systemd-logind).
enum class BackchannelAction { none, lock, terminate };
// Where the account ↔ idNat mapping comes from (design §4).
enum class MappingSource { file, template_, ldap, sssd };

[[nodiscard]] std::string_view to_string(Profile p) noexcept;
[[nodiscard]] std::string_view to_string(TokenAuthMethod m) noexcept;
[[nodiscard]] std::string_view to_string(AcrMissing a) noexcept;
[[nodiscard]] std::string_view to_string(Flow f) noexcept;
[[nodiscard]] std::string_view to_string(CibaChannel c) noexcept;
[[nodiscard]] std::string_view to_string(AuthMode m) noexcept;
[[nodiscard]] std::string_view to_string(ConfirmCode c) noexcept;
[[nodiscard]] std::string_view to_string(MappingSource s) noexcept;

using Seconds = std::chrono::seconds;

struct ProviderConfig {
    Profile profile = Profile::generic;
    std::string issuer;
    std::string discovery_url; // derived from issuer unless set
    std::string metadata_file; // static discovery document instead of fetching discovery_url
    std::string client_id;
    std::string client_secret_file;
    TokenAuthMethod token_auth_method = TokenAuthMethod::client_secret_basic;
    std::string tls_client_cert;
    std::string tls_client_key;
    std::string client_assertion_key; // PEM private key for private_key_jwt (RFC 7523)
    std::string client_assertion_alg = "RS256";
    std::string ca_file; // extra trust anchors; system store always used
    std::vector<std::string> scopes{"openid"};
    std::vector<std::string> acr_values; // sent as acr_values
    // ID token `acr` must be one of these; empty = any value. Absent `acr`: see acr_missing.
    std::vector<std::string> acr_accept;
    AcrMissing acr_missing = AcrMissing::accept;
    std::vector<std::string> id_token_algs{"RS256", "PS256", "ES256"};
    std::string jwks_file;
    // Encrypted ID tokens / UserInfo JWTs (JWE): the RSA private key (PEM, JWK or JWK Set) the
    // provider encrypts to, and the key management algorithms accepted (RSA1_5 only if listed).
    std::string id_token_decryption_key;
    std::vector<std::string> id_token_decryption_algs{"RSA-OAEP", "RSA-OAEP-256"};
    bool userinfo = true;
    Seconds clock_skew{60};
    Seconds max_token_age{600};                 // oldest acceptable ID token `iat`
    std::optional<Seconds> max_age;             // OIDC max_age request parameter + auth_time check
    std::vector<std::string> trusted_audiences; // extra `aud` values tolerated (with azp check)
    bool allow_insecure_http = false;
    Seconds http_connect_timeout{10};
    Seconds http_timeout{30};
    Seconds discovery_refresh{3600};
    Seconds jwks_refresh{3600};
    // Outbound proxy for every provider request, "http://host:port"; empty: direct. Set by the
    // https_proxy key ("none" = direct), else (LoadOptions::proxy_environment) by the https_proxy
    // / HTTPS_PROXY environment variables. proxy_origin says which, for status and check-config.
    std::string https_proxy;
    std::vector<std::string> no_proxy; // loopback is always reached directly
    std::string proxy_origin;          // "", a "file:line", or "environment variable NAME"
    // Fixed parameters added to the authorization request (e.g. kc_idp_hint for a broker).
    std::vector<std::pair<std::string, std::string>> extra_auth_params;
};

struct CallbackConfig {
    std::string listen_host = "127.0.0.1"; // IPv4 dotted quad or IPv6 (without brackets)
    std::uint16_t listen_port = 8765;
    bool listen_ipv6 = false;
    std::string redirect_uri; // empty: http://<callback_listen>/callback is used
    std::string tls_cert;
    std::string tls_key;
    ConfirmCode confirm_code = ConfirmCode::automatic;
    // OpenID Connect Back-Channel Logout on the listener's /backchannel_logout: none (not
    // served), lock or terminate the matching sessions.
    BackchannelAction backchannel_logout_action = BackchannelAction::none;
};

struct LoginSettings {
    std::vector<Flow> flows{Flow::code}; // in the order offered at the prompt
    Seconds timeout{180};
    CibaChannel ciba_channel = CibaChannel::mobile;
    // When the PAM session of a psc-login authentication closes, also end the person's session at
    // the provider (RP-initiated logout with id_token_hint). Per service.
    bool logout_on_session_close = false;
    // Pending logins, counted apart for the local seat (no rhost) and for remote logins, so that
    // remote logins never make a console, GDM or screen-unlock login answer Busy (design §9).
    unsigned max_pending = 1024;
    unsigned max_pending_per_user = 4;    // each of local and remote, per user
    unsigned max_pending_per_source = 16; // remote logins from one rhost, all users together
    // CIBA pushes to one person's phone (docs/pro-sante-connect.md, "CIBA": push fatigue): per
    // user, the local seat and remote logins have their own budget of `burst` pushes, refilled one
    // per `interval`; an access_denied on the phone stops that budget's pushes for `deny_cooldown`.
    unsigned ciba_push_burst = 3;
    Seconds ciba_push_interval{30};
    Seconds ciba_deny_cooldown{120};
};

// Authorization rules from UserInfo (design §4); may be overridden per service.
struct AuthzRules {
    std::vector<std::string> allow_professions; // two-digit codeProfession; empty = any
    std::vector<char> deny_categories;          // codeCategorieProfessionnelle letters
    std::vector<std::string> allow_idnat;       // empty = any
    std::optional<AuthMode> require_auth_mode;
};

// [mapping] source = ldap: the directory entry that holds the idNat names the account.
struct LdapConfig {
    std::vector<std::string> uris;   // tried in order; ldap:// always with StartTLS
    std::string base;
    std::string filter;              // with {idnat}; empty: (<idnat_attribute>={idnat})
    std::string idnat_attribute;     // e.g. employeeNumber
    std::string user_attribute = "uid";
    std::string ca_file;             // trust anchors for the directory's certificate
    std::string bind_dn;             // empty: anonymous
    std::string bind_password_file;  // root-only, with bind_dn
    Seconds timeout{5};              // connect, bind and each search
    Seconds cache_ttl{60};           // answers (mapped or not) kept this long; 0: none

    // The search filter template: {idnat} stands for the escaped value (RFC 4515).
    [[nodiscard]] std::string effective_filter() const {
        return filter.empty() ? "(" + idnat_attribute + "={idnat})" : filter;
    }
};

// [mapping] source = sssd: the same rule, asked of SSSD's InfoPipe on the system bus.
struct SssdConfig {
    std::string idnat_attribute; // as SSSD names it (ldap_user_extra_attrs, [ifp] user_attributes)
    Seconds timeout{10};         // each InfoPipe call (SSSD may ask its server on a cache miss)
};

struct MappingConfig {
    MappingSource source = MappingSource::file;
    LdapConfig ldap;
    SssdConfig sssd;
    std::string identity_claim = "sub";
    std::string map_file = "/etc/psc-login/users.map";
    std::string username_template; // source = template (set alone, it selects it)
    std::string alias_claim;       // PSC: otherIds (ADELI→RPPS migrations)
    std::uint32_t min_uid = 1000;
    std::vector<std::string> allow_system_users;
    AuthzRules authz;
};

struct LimitsConfig {
    std::size_t http_max_bytes = 256 * 1024;
    std::size_t jwt_max_bytes = 16 * 1024;
    int json_max_depth = 32;
    std::size_t callback_max_request = 8 * 1024;
    std::size_t dbus_max_string = 1024;
    Seconds jwks_refetch_interval{60};
};

// What one PAM service gets once its [service:NAME] section is applied.
struct ServicePolicy {
    LoginSettings login;
    AuthzRules authz;
};

// Values a [service:NAME] section set; unset fields fall back to [login] / [mapping].
struct ServiceOverride {
    std::optional<std::vector<Flow>> flows;
    std::optional<Seconds> timeout;
    std::optional<CibaChannel> ciba_channel;
    std::optional<bool> logout_on_session_close;
    std::optional<std::vector<std::string>> allow_professions;
    std::optional<std::vector<char>> deny_categories;
    std::optional<std::vector<std::string>> allow_idnat;
    std::optional<std::optional<AuthMode>> require_auth_mode;
};

struct Config {
    ProviderConfig provider;
    CallbackConfig callback;
    LoginSettings login;
    MappingConfig mapping;
    LimitsConfig limits;
    std::map<std::string, ServiceOverride, std::less<>> services;
    std::vector<std::string> files; // main file then drop-ins, in the order applied
    // Where each [service:NAME] section was first seen, "file:line" (check-config's messages).
    std::map<std::string, std::string, std::less<>> service_locations;

    // The effective settings for PAM service `service` ([login] + [service:NAME]).
    [[nodiscard]] ServicePolicy policy_for(std::string_view service) const;
    [[nodiscard]] LoginSettings login_for(std::string_view service) const {
        return policy_for(service).login;
    }
};

struct LoadOptions {
    // Config, drop-in directory and key files must be owned by this uid or by root. psc-authd
    // keeps 0; tests pass their own uid.
    uid_t trusted_owner = 0;
    // Open the secret and certificate files named in the config (mode, owner, readable) while
    // loading, so a bad file stops the daemon at start rather than at the first login.
    bool check_files = true;
    // Take the proxy from the environment (https_proxy, HTTPS_PROXY, no_proxy, NO_PROXY) when
    // the file does not set it: psc-authd and pscctl, never the PAM module (whose environment
    // belongs to the application that loaded it).
    bool proxy_environment = false;
};

// Loads `path` and its drop-ins. On failure the Error carries the first issue's reason and
// "file:line: message" text; `diag` (optional) receives every error and every warning.
[[nodiscard]] Result<Config> load_config(const std::string& path, const LoadOptions& opts = {},
                                         ConfigDiagnostics* diag = nullptr);
// The same from memory (one file, no drop-ins, no file checks): for tests and the fuzzer.
[[nodiscard]] Result<Config> load_config_from_text(std::string_view name, std::string_view text,
                                                   ConfigDiagnostics* diag = nullptr);

// Reads a key or secret named by the config: regular, not a symlink, owned by `trusted_owner` or
// root, no group/other access (else reasons file_mode / file_owner / file_symlink with the fix in
// the message). The content is never logged.
[[nodiscard]] Result<Secret> read_config_secret(const std::string& path, uid_t trusted_owner);
// The client secret (client_secret_file), for client_secret_* and HS* ID token validation.
[[nodiscard]] Result<Secret> load_client_secret(const Config& cfg, uid_t trusted_owner = 0);

} // namespace psc

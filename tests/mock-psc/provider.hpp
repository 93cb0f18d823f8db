// SPDX-License-Identifier: LGPL-2.1-or-later
// mock-psc's provider: all state behind one lock, one handler for every request. The endpoints are
// split by flow over several files (authorize.cpp, token_endpoint.cpp, decoupled_endpoints.cpp,
// resource_endpoints.cpp, control.cpp, demo.cpp); routing and transport faults are in provider.cpp.
#pragma once

#include "decoupled.hpp"
#include "faults.hpp"
#include "http_util.hpp"
#include "identities.hpp"
#include "jwk.hpp"
#include "options.hpp"
#include "signer.hpp"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace psc::mock {

// Paths under the base URL. The authorization page stands for PSC's separate wallet host.
inline constexpr std::string_view kRealmPath = "/auth/realms/esante-wallet";
inline constexpr std::string_view kOidcPath = "/auth/realms/esante-wallet/protocol/openid-connect";
inline constexpr std::string_view kWalletDiscovery = "/.well-known/wallet-openid-configuration";
inline constexpr std::string_view kStandardDiscovery = "/.well-known/openid-configuration";
inline constexpr std::string_view kAuthorizePath = "/wallet/auth";
inline constexpr std::string_view kDevicePagePath = "/wallet/device";
inline constexpr std::string_view kMtlsPrefix = "/mtls"; // mtls_endpoint_aliases (RFC 8705 §5)
inline constexpr std::string_view kControlPath = "/mock/control";
inline constexpr std::string_view kDemoPath = "/mock/demo";
inline constexpr std::string_view kDemoCallbackPath = "/mock/demo/callback";

struct ProviderConfig {
    MockOptions options;
    std::map<std::string, Identity> identities;
    std::string client_cert_subject;   // tls_client_auth
    std::optional<JwkSet> client_keys; // private_key_jwt
    std::shared_ptr<EVP_PKEY> encrypt_to; // --encrypt-to: the client's public key
    std::string control_token;
};

// What an authorization code, a token or an approved decoupled request stands for.
struct Grant {
    std::string client_id;
    std::string idnat;
    std::string auth_mode;
    std::string scope;
    std::optional<std::string> nonce;
    std::string sid; // Keycloak session id (sid, session_state)
    std::int64_t auth_time = 0;
};

// An authorization request waiting for the login form.
struct PendingLogin {
    std::string client_id;
    std::string redirect_uri;
    std::string scope;
    std::string code_challenge;
    std::optional<std::string> state;
    std::optional<std::string> nonce;
    SteadyClock::time_point expires;
};

struct IssuedCode {
    Grant grant;
    std::string redirect_uri;
    std::string code_challenge; // empty: issued without PKCE
    std::int64_t expires_at = 0;
    bool used = false;
    std::vector<std::string> tokens; // revoked if the code is replayed (RFC 6749 §4.1.2)
};

struct IssuedToken {
    Grant grant;
    std::int64_t expires_at = 0;
    bool refresh = false;
};

struct TokenSet {
    std::string access_token;
    std::string refresh_token;
    std::string id_token;
};

struct DemoLogin {
    std::string verifier;
    std::string nonce;
};

struct RequestLogEntry {
    std::int64_t at_ms = 0;
    std::string method;
    std::string path;
    std::string endpoint;
    unsigned status = 0;
    std::int64_t took_us = 0; // time spent answering (signing tokens, …), TLS excluded
};

// Endpoint functions return a response, or an Error whose reason is the OAuth error code and
// whose message is the error_description (to_oauth_response turns it into the JSON answer).
using Answer = Result<ServerResponse>;
[[nodiscard]] ServerResponse to_oauth_response(Answer a);

class Provider {
public:
    [[nodiscard]] static Result<std::unique_ptr<Provider>> create(ProviderConfig cfg);

    // Called once the server knows its port, before the address is published.
    void set_base_url(const std::string& base_url);
    // The server's handler; never throws.
    [[nodiscard]] ServerResponse handle(const ServerRequest& req) noexcept;
    // Releases stalled responses (shutdown).
    void shutdown() noexcept;

    [[nodiscard]] const std::string& issuer() const noexcept { return issuer_; }
    [[nodiscard]] std::string url(std::string_view path) const {
        return base_url_ + std::string(path);
    }
    [[nodiscard]] bool tls_untrusted() const noexcept {
        return faults_.armed(Fault::tls_untrusted);
    }

private:
    explicit Provider(ProviderConfig cfg, Signer signer);

    [[nodiscard]] std::optional<Endpoint> classify(std::string_view path) const;
    [[nodiscard]] ServerResponse dispatch(Endpoint ep, const ServerRequest& req,
                                          std::unique_lock<std::mutex>& lock);
    [[nodiscard]] ServerResponse serve(Endpoint ep, const ServerRequest& req);
    [[nodiscard]] ServerResponse transport_fault(Fault f, Endpoint ep, const ServerRequest& req,
                                                 std::unique_lock<std::mutex>& lock);
    [[nodiscard]] ServerResponse unrouted(const ServerRequest& req);

    // authorize.cpp
    [[nodiscard]] ServerResponse authorize(const ServerRequest& req);
    [[nodiscard]] ServerResponse authorize_start(const QueryParams& p);
    [[nodiscard]] ServerResponse authorize_submit(const QueryParams& p);
    [[nodiscard]] bool redirect_registered(const std::string& uri) const;
    [[nodiscard]] ServerResponse finish_login(const PendingLogin& login, const Identity& who,
                                              const std::string& auth_mode);
    [[nodiscard]] ServerResponse
    authz_redirect(const PendingLogin& login,
                   std::vector<std::pair<std::string, std::string>> params);
    [[nodiscard]] ServerResponse login_page(const std::string& login_id, const PendingLogin& login,
                                            const std::string& error) const;

    // client_auth.cpp: a back-channel POST (token, CIBA, device, introspection): form parsed,
    // client authenticated, then the oauth_error fault (answering `usual_error`) given its chance.
    struct BackChannel {
        QueryParams params;
        std::string client_id;
    };
    [[nodiscard]] Result<BackChannel> back_channel(const ServerRequest& req, Endpoint at,
                                                   std::string_view usual_error);
    // The authenticated client_id, or an invalid_client/invalid_request error.
    [[nodiscard]] Result<std::string> authenticate_client(const ServerRequest& req,
                                                          const QueryParams& p);
    [[nodiscard]] Result<std::string> check_client_assertion(const QueryParams& p);

    // token_endpoint.cpp
    [[nodiscard]] Answer token(const ServerRequest& req);
    [[nodiscard]] Answer code_grant(const std::string& client_id, const QueryParams& p);
    [[nodiscard]] Answer refresh_grant(const std::string& client_id, const QueryParams& p);
    [[nodiscard]] Answer decoupled_grant(const std::string& client_id, const std::string& id,
                                         DecoupledRequest::Kind kind);
    [[nodiscard]] Result<Grant> redeem_code(const std::string& client_id, const std::string& code,
                                            const std::string& redirect_uri,
                                            const std::optional<std::string>& verifier);
    [[nodiscard]] Result<TokenSet> issue_tokens(const Grant& g, std::vector<std::string>* issued);
    [[nodiscard]] ServerResponse token_response(const Grant& g, const TokenSet& t) const;

    // id_token_claims.cpp
    [[nodiscard]] Result<std::string> mint_id_token(const Grant& g, std::string_view access_token);
    // With --encrypt-to: the signed JWT encrypted to the client (ID token faults at `at`);
    // without: the JWT as it is.
    [[nodiscard]] Result<std::string> encrypt_for_client(std::string jwt, std::string_view claims,
                                                         Endpoint at);

    // decoupled_endpoints.cpp
    [[nodiscard]] Answer ciba_auth(const ServerRequest& req);
    [[nodiscard]] Answer device_auth(const ServerRequest& req);
    [[nodiscard]] ServerResponse device_page(const ServerRequest& req);

    // resource_endpoints.cpp
    [[nodiscard]] ServerResponse discovery(bool wrong_issuer) const;
    [[nodiscard]] Answer userinfo(const ServerRequest& req);
    [[nodiscard]] Answer introspect(const ServerRequest& req);
    [[nodiscard]] ServerResponse logout(const ServerRequest& req);
    [[nodiscard]] Result<std::string> userinfo_document(const Grant& g, bool other_sub) const;

    // control.cpp
    [[nodiscard]] ServerResponse control(const ServerRequest& req);
    [[nodiscard]] ServerResponse control_fault(const json_object* body);
    [[nodiscard]] ServerResponse control_ciba(const json_object* body);
    [[nodiscard]] ServerResponse control_polls(const json_object* body) const;
    [[nodiscard]] ServerResponse control_log() const;
    // {"logout_token": {"idnat": ..., "fault": ...}}: a back-channel logout token for the latest
    // session of idnat (README.md, "Control endpoint").
    [[nodiscard]] ServerResponse control_logout_token(const json_object* body);

    // demo.cpp
    [[nodiscard]] ServerResponse index_page() const;
    [[nodiscard]] ServerResponse demo_start();
    [[nodiscard]] ServerResponse demo_callback(const ServerRequest& req);

    // The oauth_error fault, when armed for `at`: the configured code, else `usual`.
    [[nodiscard]] std::optional<Error> injected_error(Endpoint at, std::string_view usual);
    [[nodiscard]] const Identity* identity(const std::string& idnat) const;
    [[nodiscard]] std::int64_t now_unix() const;
    [[nodiscard]] std::optional<std::string> fresh_token();

    ProviderConfig cfg_;
    std::string base_url_;
    std::string issuer_;

    std::mutex mu_;
    std::condition_variable stall_cv_;
    bool shutting_down_ = false;
    SteadyClock::time_point started_ = SteadyClock::now();

    FaultBoard faults_;
    std::map<std::string, std::string> last_sid_; // idNat → sid of its latest ID token
    std::string last_logout_jti_;
    std::chrono::seconds stall_for_{30};
    std::string oauth_error_code_; // "" → the endpoint's usual code
    Signer signer_;
    std::map<std::string, PendingLogin> logins_;
    std::map<std::string, IssuedCode> codes_;
    std::map<std::string, IssuedToken> tokens_; // access and refresh tokens
    std::map<std::string, DecoupledRequest> decoupled_;
    std::optional<CibaScript> next_ciba_script_;
    std::string last_decoupled_id_;
    std::set<std::string> seen_jti_; // private_key_jwt replay protection
    std::set<std::string> ended_sessions_;
    std::map<std::string, DemoLogin> demo_logins_; // by state
    std::deque<RequestLogEntry> log_;
};

} // namespace psc::mock

// SPDX-License-Identifier: LGPL-2.1-or-later
// The misbehaviours mock-psc can be told to show. A fault is armed for the next
// response it applies to ("next") or for all of them ("all"), optionally only at one endpoint.
// The table in faults.cpp is the single list of names; README.md documents each one.
#pragma once

#include "result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace psc::mock {

enum class Endpoint {
    discovery,
    authorize,
    token,
    userinfo,
    certs,
    logout,
    introspect,
    ciba,
    device,
    control, // never faulted
};

[[nodiscard]] std::string_view endpoint_name(Endpoint e) noexcept;
[[nodiscard]] std::optional<Endpoint> endpoint_from_name(std::string_view name) noexcept;

enum class Fault {
    // ID token (token endpoint answers of every grant)
    id_token_bad_signature,
    id_token_alg_none,
    id_token_hs256_rsa_pubkey,
    id_token_unknown_kid,
    key_rotation,
    id_token_wrong_iss,
    id_token_missing_iss,
    id_token_wrong_aud,
    id_token_missing_aud,
    id_token_extra_aud_with_azp,
    id_token_extra_aud_without_azp,
    id_token_expired,
    id_token_iat_future,
    id_token_iat_week_old,
    id_token_wrong_nonce,
    id_token_missing_nonce,
    id_token_missing_sub,
    id_token_acr_missing,
    id_token_acr_eidas3,
    id_token_acr_unlisted,
    id_token_bad_at_hash, // at_hash of another access token
    id_token_bad_c_hash,  // a c_hash (Keycloak sends none at the token endpoint) of another code
    // Encrypted ID tokens (--encrypt-to): a kid the client did not register, one bit of the
    // authentication tag flipped, the claims encrypted without a signature inside.
    id_token_encryption_wrong_kid,
    id_token_encryption_bad_tag,
    id_token_encrypted_unsigned,
    // UserInfo
    userinfo_other_sub,
    userinfo_signed_jwt,
    // RP-initiated logout: the end_session endpoint refuses the id_token_hint (400)
    logout_bad_hint,
    // Discovery
    discovery_wrong_issuer,
    // Authorization response (redirect to the client)
    authz_wrong_iss,
    authz_missing_iss,
    authz_wrong_state,
    authz_missing_state,
    // Any OAuth endpoint: a well-formed OAuth error answer
    oauth_error,
    // Transport-level, any endpoint but the control one
    http_500,
    http_502,
    http_503,
    stall,
    oversized_body,
    malformed_json,
    // Start-up only: the server presents a certificate from a CA the client does not trust
    tls_untrusted,
};

enum class FaultScope { next, all };

struct FaultInfo {
    Fault fault;
    std::string_view name;
    // Endpoints where the fault fires when none is named; empty = every endpoint but control.
    std::vector<Endpoint> applies_to;
    bool startup_only = false;
};

[[nodiscard]] const std::vector<FaultInfo>& fault_table();
[[nodiscard]] const FaultInfo& fault_info(Fault f);
// Reason: fault_unknown.
[[nodiscard]] Result<Fault> fault_from_name(std::string_view name);
[[nodiscard]] Result<FaultScope> fault_scope_from_name(std::string_view name);

struct ArmedFault {
    Fault fault;
    FaultScope scope = FaultScope::all;
    std::optional<Endpoint> endpoint; // nullopt: the fault's default endpoints
};

// "NAME[:next|all][@ENDPOINT]" (command line). Reasons: fault_unknown, fault_scope, fault_endpoint.
[[nodiscard]] Result<ArmedFault> parse_fault_spec(std::string_view spec);

// The armed faults. Not thread-safe: the server holds its state lock while using it.
class FaultBoard {
public:
    // Reasons: fault_endpoint (the fault cannot fire there), fault_startup_only.
    [[nodiscard]] Status arm(const ArmedFault& f, bool at_startup);
    // True when `f` is armed for `at`; a "next" fault is consumed.
    [[nodiscard]] bool take(Fault f, Endpoint at);
    // The first armed transport fault (http_5xx, stall, oversized_body, malformed_json) for `at`.
    [[nodiscard]] std::optional<Fault> take_transport(Endpoint at);
    [[nodiscard]] bool armed(Fault f) const noexcept;
    void reset() noexcept { armed_.clear(); }
    [[nodiscard]] std::vector<ArmedFault> list() const { return armed_; }

private:
    std::vector<ArmedFault> armed_;
};

} // namespace psc::mock

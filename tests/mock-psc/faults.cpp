// SPDX-License-Identifier: LGPL-2.1-or-later
#include "faults.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace psc::mock {

namespace {

constexpr std::array<std::pair<Endpoint, std::string_view>, 10> kEndpointNames{{
    {Endpoint::discovery, "discovery"},
    {Endpoint::authorize, "authorize"},
    {Endpoint::token, "token"},
    {Endpoint::userinfo, "userinfo"},
    {Endpoint::certs, "certs"},
    {Endpoint::logout, "logout"},
    {Endpoint::introspect, "introspect"},
    {Endpoint::ciba, "ciba"},
    {Endpoint::device, "device"},
    {Endpoint::control, "control"},
}};

std::vector<FaultInfo> build_table() {
    using E = Endpoint;
    const std::vector<E> token{E::token};
    const std::vector<E> userinfo{E::userinfo};
    const std::vector<E> authz{E::authorize};
    const std::vector<E> json_endpoints{E::discovery,  E::token, E::userinfo, E::certs,
                                        E::introspect, E::ciba,  E::device};
    const std::vector<E> oauth{E::authorize, E::token,      E::userinfo,
                               E::ciba,      E::introspect, E::device};
    using F = Fault;
    return {
        {F::id_token_bad_signature, "id_token_bad_signature", token},
        {F::id_token_alg_none, "id_token_alg_none", token},
        {F::id_token_hs256_rsa_pubkey, "id_token_hs256_rsa_pubkey", token},
        {F::id_token_unknown_kid, "id_token_unknown_kid", token},
        {F::key_rotation, "key_rotation", token},
        {F::id_token_wrong_iss, "id_token_wrong_iss", token},
        {F::id_token_missing_iss, "id_token_missing_iss", token},
        {F::id_token_wrong_aud, "id_token_wrong_aud", token},
        {F::id_token_missing_aud, "id_token_missing_aud", token},
        {F::id_token_extra_aud_with_azp, "id_token_extra_aud_with_azp", token},
        {F::id_token_extra_aud_without_azp, "id_token_extra_aud_without_azp", token},
        {F::id_token_expired, "id_token_expired", token},
        {F::id_token_iat_future, "id_token_iat_future", token},
        {F::id_token_iat_week_old, "id_token_iat_week_old", token},
        {F::id_token_wrong_nonce, "id_token_wrong_nonce", token},
        {F::id_token_missing_nonce, "id_token_missing_nonce", token},
        {F::id_token_missing_sub, "id_token_missing_sub", token},
        {F::id_token_acr_missing, "id_token_acr_missing", token},
        {F::id_token_acr_eidas3, "id_token_acr_eidas3", token},
        {F::id_token_acr_unlisted, "id_token_acr_unlisted", token},
        {F::id_token_bad_at_hash, "id_token_bad_at_hash", token},
        {F::id_token_bad_c_hash, "id_token_bad_c_hash", token},
        {F::id_token_encryption_wrong_kid, "id_token_encryption_wrong_kid", token},
        {F::id_token_encryption_bad_tag, "id_token_encryption_bad_tag", token},
        {F::id_token_encrypted_unsigned, "id_token_encrypted_unsigned", token},
        {F::userinfo_other_sub, "userinfo_other_sub", userinfo},
        {F::userinfo_signed_jwt, "userinfo_signed_jwt", userinfo},
        {F::logout_bad_hint, "logout_bad_hint", {E::logout}},
        {F::discovery_wrong_issuer, "discovery_wrong_issuer", {E::discovery}},
        {F::authz_wrong_iss, "authz_wrong_iss", authz},
        {F::authz_missing_iss, "authz_missing_iss", authz},
        {F::authz_wrong_state, "authz_wrong_state", authz},
        {F::authz_missing_state, "authz_missing_state", authz},
        {F::oauth_error, "oauth_error", oauth},
        {F::http_500, "http_500", {}},
        {F::http_502, "http_502", {}},
        {F::http_503, "http_503", {}},
        {F::stall, "stall", {}},
        {F::oversized_body, "oversized_body", {}},
        {F::malformed_json, "malformed_json", json_endpoints},
        {F::tls_untrusted, "tls_untrusted", {}, true},
    };
}

bool is_transport(Fault f) noexcept {
    switch (f) {
    case Fault::http_500:
    case Fault::http_502:
    case Fault::http_503:
    case Fault::stall:
    case Fault::oversized_body:
    case Fault::malformed_json:
        return true;
    default:
        return false;
    }
}

bool can_fire_at(const FaultInfo& info, Endpoint at) noexcept {
    if (at == Endpoint::control)
        return false;
    return info.applies_to.empty() ||
           std::find(info.applies_to.begin(), info.applies_to.end(), at) != info.applies_to.end();
}

bool matches(const ArmedFault& a, Endpoint at) {
    if (a.endpoint)
        return *a.endpoint == at;
    return can_fire_at(fault_info(a.fault), at);
}

} // namespace

std::string_view endpoint_name(Endpoint e) noexcept {
    for (const auto& [ep, name] : kEndpointNames)
        if (ep == e)
            return name;
    return "?";
}

std::optional<Endpoint> endpoint_from_name(std::string_view name) noexcept {
    for (const auto& [ep, n] : kEndpointNames)
        if (n == name && ep != Endpoint::control)
            return ep;
    return std::nullopt;
}

const std::vector<FaultInfo>& fault_table() {
    static const std::vector<FaultInfo> table = build_table();
    return table;
}

const FaultInfo& fault_info(Fault f) {
    for (const auto& info : fault_table())
        if (info.fault == f)
            return info;
    return fault_table().back(); // unreachable: every enumerator is in the table (tested)
}

Result<Fault> fault_from_name(std::string_view name) {
    for (const auto& info : fault_table())
        if (info.name == name)
            return info.fault;
    return make_error(Errc::invalid, "fault_unknown",
                      "unknown fault \"" + std::string(name) + "\"");
}

Result<FaultScope> fault_scope_from_name(std::string_view name) {
    if (name == "next")
        return FaultScope::next;
    if (name == "all")
        return FaultScope::all;
    return make_error(Errc::invalid, "fault_scope",
                      "fault scope must be \"next\" or \"all\", not \"" + std::string(name) + "\"");
}

Result<ArmedFault> parse_fault_spec(std::string_view spec) {
    ArmedFault out{};
    std::optional<std::string_view> endpoint;
    if (const auto at = spec.find('@'); at != std::string_view::npos) {
        endpoint = spec.substr(at + 1);
        spec = spec.substr(0, at);
    }
    if (const auto colon = spec.find(':'); colon != std::string_view::npos) {
        auto scope = fault_scope_from_name(spec.substr(colon + 1));
        if (!scope)
            return std::move(scope).error();
        out.scope = *scope;
        spec = spec.substr(0, colon);
    }
    auto fault = fault_from_name(spec);
    if (!fault)
        return std::move(fault).error();
    out.fault = *fault;
    if (endpoint) {
        out.endpoint = endpoint_from_name(*endpoint);
        if (!out.endpoint)
            return make_error(Errc::invalid, "fault_endpoint",
                              "unknown endpoint \"" + std::string(*endpoint) + "\"");
    }
    return out;
}

Status FaultBoard::arm(const ArmedFault& f, bool at_startup) {
    const FaultInfo& info = fault_info(f.fault);
    if (info.startup_only && !at_startup)
        return make_error(Errc::invalid, "fault_startup_only",
                          std::string(info.name) + " can only be chosen with --fault at start-up");
    if (f.endpoint && !can_fire_at(info, *f.endpoint))
        return make_error(Errc::invalid, "fault_endpoint",
                          std::string(info.name) + " cannot fire at the " +
                              std::string(endpoint_name(*f.endpoint)) + " endpoint");
    armed_.push_back(f);
    return {};
}

bool FaultBoard::take(Fault f, Endpoint at) {
    const auto it = std::find_if(armed_.begin(), armed_.end(), [&](const ArmedFault& a) {
        return a.fault == f && matches(a, at);
    });
    if (it == armed_.end())
        return false;
    if (it->scope == FaultScope::next)
        armed_.erase(it);
    return true;
}

std::optional<Fault> FaultBoard::take_transport(Endpoint at) {
    for (const auto& a : armed_) {
        if (is_transport(a.fault) && matches(a, at)) {
            const Fault f = a.fault;
            (void)take(f, at);
            return f;
        }
    }
    return std::nullopt;
}

bool FaultBoard::armed(Fault f) const noexcept {
    return std::any_of(armed_.begin(), armed_.end(),
                       [&](const ArmedFault& a) { return a.fault == f; });
}

} // namespace psc::mock

#!/bin/bash
# Every fault switch of mock-psc (tests/mock-psc/README.md, "Faults") against the real psc-authd
# over the bus: a full code-flow login (scripted browser through the daemon's listener, or
# paste-back where the listener cannot even find the login) must end in the named D-Bus error
# with the stable reason token, and never in a success. key_rotation and userinfo_signed_jwt are
# the two switches a correct client accepts. The CIBA and device endpoints' oauth_error cases are
# in test_decoupled.sh; the start-up faults restart the daemon and come last.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

# arm FAULT [ENDPOINT [EXTRA_JSON]]: one shot ("next") of FAULT.
arm() {
    local body="{\"fault\":\"$1\",\"scope\":\"next\""
    [ -n "${2:-}" ] && body+=",\"endpoint\":\"$2\""
    [ -n "${3:-}" ] && body+=",$3"
    body+="}"
    local out
    out=$(mock_control "$body") || fail "mock control failed: $out" || return 1
    case $out in *'"error"'*) fail "mock refused $body: $out" || return 1 ;; esac
}

# A whole login as claire (médecin) through the listener; leaves the outcome in REPLY.
listener_login() {
    must_start claire login code || return 1
    browser_login "$URL" "$STACK_MEDECIN" >/dev/null || fail "the browser did not get through" || return 1
    client_cmd "wait 20000"
}

# fault_case FAULT ENDPOINT ERROR REASON [EXTRA_JSON]
fault_case() {
    arm "$1" "$2" "${5:-}" || return 1
    listener_login || return 1
    expect_error "$3" "$4" || return 1
    expect_audit_end "$LOGIN_ID" "$(tr 'A-Z' 'a-z' <<<"$3")" "$4"
}

fault_id_token_bad_signature() { fault_case id_token_bad_signature token Invalid jws_bad_signature; }
fault_id_token_alg_none() { fault_case id_token_alg_none token Invalid jws_format; }
fault_id_token_hs256_rsa_pubkey() { fault_case id_token_hs256_rsa_pubkey token Invalid jws_alg_not_allowed; }
# Refused after exactly one JWKS refetch (the key might have rotated).
fault_id_token_unknown_kid() {
    sleep 1.2 # past [limits] jwks_refetch_interval = 1 s since the last JWKS fetch
    local before after
    before=$(mock_control '{"log":true}' | grep -o '"endpoint":"certs"' | wc -l)
    fault_case id_token_unknown_kid token Invalid jws_unknown_kid || return 1
    after=$(mock_control '{"log":true}' | grep -o '"endpoint":"certs"' | wc -l)
    [ $((after - before)) = 1 ] || fail "$((after - before)) JWKS fetches, expected one refetch"
}
fault_id_token_wrong_iss() { fault_case id_token_wrong_iss token Invalid iss_mismatch; }
fault_id_token_missing_iss() { fault_case id_token_missing_iss token Invalid iss_missing; }
fault_id_token_wrong_aud() { fault_case id_token_wrong_aud token Invalid aud_mismatch; }
fault_id_token_missing_aud() { fault_case id_token_missing_aud token Invalid aud_missing; }
fault_id_token_extra_aud_with_azp() { fault_case id_token_extra_aud_with_azp token Invalid aud_untrusted; }
fault_id_token_extra_aud_without_azp() { fault_case id_token_extra_aud_without_azp token Invalid aud_untrusted; }
fault_id_token_expired() { fault_case id_token_expired token Invalid exp_expired; }
fault_id_token_iat_future() { fault_case id_token_iat_future token Invalid iat_future; }
fault_id_token_iat_week_old() { fault_case id_token_iat_week_old token Invalid iat_too_old; }
fault_id_token_wrong_nonce() { fault_case id_token_wrong_nonce token Invalid nonce_mismatch; }
fault_id_token_missing_nonce() { fault_case id_token_missing_nonce token Invalid nonce_missing; }
fault_id_token_missing_sub() { fault_case id_token_missing_sub token Invalid sub_missing; }
fault_id_token_acr_missing() { fault_case id_token_acr_missing token Invalid acr_missing; }
fault_id_token_acr_eidas3() { fault_case id_token_acr_eidas3 token Invalid acr_not_accepted; }
fault_id_token_acr_unlisted() { fault_case id_token_acr_unlisted token Invalid acr_not_accepted; }
fault_id_token_bad_at_hash() { fault_case id_token_bad_at_hash token Invalid at_hash_mismatch; }
fault_id_token_bad_c_hash() { fault_case id_token_bad_c_hash token Invalid c_hash_mismatch; }
fault_userinfo_other_sub() { fault_case userinfo_other_sub userinfo Invalid userinfo_sub_mismatch; }
fault_authz_wrong_iss() { fault_case authz_wrong_iss authorize Invalid callback_iss_mismatch; }
fault_authz_missing_iss() { fault_case authz_missing_iss authorize Invalid callback_iss_missing; }
fault_oauth_error_authorize() { fault_case oauth_error authorize Denied access_denied; }
fault_oauth_error_authorize_login_required() {
    fault_case oauth_error authorize Denied login_required '"error":"login_required"'
}
fault_oauth_error_token() { fault_case oauth_error token Invalid invalid_grant; }
fault_oauth_error_userinfo() { fault_case oauth_error userinfo Unavailable userinfo_status; }
fault_http_500_token() { fault_case http_500 token Unavailable http_status; }
fault_http_502_userinfo() { fault_case http_502 userinfo Unavailable http_status; }
fault_http_503_token() { fault_case http_503 token Unavailable http_status; }
fault_stall_token() { fault_case stall token Unavailable http_timeout '"seconds":3'; }
fault_oversized_body_token() { fault_case oversized_body token Unavailable http_too_large; }
fault_oversized_body_userinfo() { fault_case oversized_body userinfo Unavailable http_too_large; }
fault_malformed_json_token() { fault_case malformed_json token Invalid response_not_json; }

# The accepted ones: a new signing key (one JWKS refetch) and a signed UserInfo JWT.
fault_key_rotation() {
    sleep 1.2 # past [limits] jwks_refetch_interval = 1 s since the last JWKS fetch (unknown_kid's)
    arm key_rotation token || return 1
    listener_login && expect_done claire "$STACK_MEDECIN" 10 CARD
}

fault_userinfo_signed_jwt() {
    arm userinfo_signed_jwt userinfo || return 1
    listener_login && expect_done claire "$STACK_MEDECIN" 10 CARD
}

# With the extra audience trusted, azp decides (OIDC Core §3.1.3.7 items 3-5): present and equal
# to client_id it is accepted, absent it is refused even so.
fault_id_token_extra_aud_trusted() {
    printf '[provider]\ntrusted_audiences = mock-psc-other-audience\n' \
        >"$STACK_DIR/psc-login.conf.d/60-trusted.conf"
    chmod 0644 "$STACK_DIR/psc-login.conf.d/60-trusted.conf"
    stack_restart_daemon
    local rc=0
    { arm id_token_extra_aud_with_azp token && listener_login &&
        expect_done claire "$STACK_MEDECIN" && client_close &&
        fault_case id_token_extra_aud_without_azp token Invalid azp_missing; } || rc=1
    client_close
    rm -f "$STACK_DIR/psc-login.conf.d/60-trusted.conf"
    stack_restart_daemon
    return $rc
}

# A forged or missing state matches no login: the listener answers "unknown login" and the real
# login is untouched; pasted, the address is refused and the user may paste again.
fault_authz_wrong_state() {
    must_start claire login code || return 1
    arm authz_wrong_state authorize || return 1
    local status
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 410 ] || fail "forged-state callback answered $status" || return 1
    client_cmd "wait 0" && expect_reply "pending remaining=*" || return 1
    arm authz_wrong_state authorize || return 1
    local back
    back=$(browser_approve "$URL" "$STACK_MEDECIN") || return 1
    client_cmd "submit $back" && expect_error Invalid callback_state_mismatch || return 1
    back=$(browser_approve "$URL" "$STACK_MEDECIN") || return 1
    client_cmd "submit $back" && expect_done claire "$STACK_MEDECIN"
}

fault_authz_missing_state() {
    must_start claire login code || return 1
    arm authz_missing_state authorize || return 1
    local status
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 410 ] || fail "state-less callback answered $status" || return 1
    client_cmd "wait 0" && expect_reply "pending remaining=*" || return 1
    arm authz_missing_state authorize || return 1
    local back
    back=$(browser_approve "$URL" "$STACK_MEDECIN") || return 1
    client_cmd "submit $back" && expect_error Invalid callback_state_missing
}

# Start-up faults: the provider never loads, so no login can start (fail closed, Unavailable).
start_with_fault() {
    stack_stop_daemon
    local out
    out=$(mock_control "$1") || fail "mock control failed" || return 1
    case $out in *'"error"'*) fail "mock refused $1: $out" || return 1 ;; esac
    stack_start_daemon
    sleep 1 # the first discovery fetch fails; the retry comes later
    must_start_refused "$2"
}

must_start_refused() {
    client_start claire login code || return 1
    [ -z "$LOGIN_ID" ] || fail "a login started without a provider" || return 1
    expect_error Unavailable provider_not_ready || return 1
    case $REPLY in *"$1"*) ;; *) fail "the message does not say why ($1): $REPLY" || return 1 ;; esac
}

restore_daemon() {
    mock_control '{"reset":true}' >/dev/null
    stack_restart_daemon
}

fault_discovery_wrong_issuer() {
    start_with_fault '{"fault":"discovery_wrong_issuer","scope":"all"}' discovery_issuer_mismatch
    local rc=$?
    restore_daemon
    return $rc
}

fault_http_503_discovery() {
    start_with_fault '{"fault":"http_503","scope":"all","endpoint":"discovery"}' http_status
    local rc=$?
    restore_daemon
    return $rc
}

fault_malformed_json_discovery() {
    start_with_fault '{"fault":"malformed_json","scope":"all","endpoint":"discovery"}' discovery_json
    local rc=$?
    restore_daemon
    return $rc
}

fault_oversized_body_jwks() {
    start_with_fault '{"fault":"oversized_body","scope":"all","endpoint":"certs"}' http_too_large
    local rc=$?
    restore_daemon
    return $rc
}

# tls_untrusted works at start-up only: a mock-psc whose certificate the daemon does not trust.
fault_tls_untrusted() {
    stack_stop
    stack_init
    stack_start --fault tls_untrusted
    sleep 1
    must_start_refused tls_verify
}

stack_init
stack_config_extra <<EOF
[provider]
http_timeout = 2
http_connect_timeout = 1

[limits]
jwks_refetch_interval = 1
EOF
stack_start
stack_wait_ready
run_cases \
    fault_id_token_bad_signature fault_id_token_alg_none fault_id_token_hs256_rsa_pubkey \
    fault_id_token_unknown_kid fault_key_rotation fault_id_token_wrong_iss \
    fault_id_token_missing_iss fault_id_token_wrong_aud fault_id_token_missing_aud \
    fault_id_token_extra_aud_with_azp fault_id_token_extra_aud_without_azp \
    fault_id_token_extra_aud_trusted fault_id_token_expired \
    fault_id_token_iat_future fault_id_token_iat_week_old fault_id_token_wrong_nonce \
    fault_id_token_missing_nonce fault_id_token_missing_sub fault_id_token_acr_missing \
    fault_id_token_acr_eidas3 fault_id_token_acr_unlisted fault_id_token_bad_at_hash \
    fault_id_token_bad_c_hash fault_userinfo_other_sub \
    fault_userinfo_signed_jwt fault_authz_wrong_iss fault_authz_missing_iss \
    fault_authz_wrong_state fault_authz_missing_state fault_oauth_error_authorize \
    fault_oauth_error_authorize_login_required fault_oauth_error_token fault_oauth_error_userinfo \
    fault_http_500_token \
    fault_http_502_userinfo fault_http_503_token fault_stall_token fault_oversized_body_token \
    fault_oversized_body_userinfo fault_malformed_json_token fault_discovery_wrong_issuer \
    fault_http_503_discovery fault_malformed_json_discovery fault_oversized_body_jwks \
    daemon_exit_clean fault_tls_untrusted daemon_exit_clean

#!/bin/bash
# The decoupled flows end to end (design §2.3-2.4): CIBA in poll mode against mock-psc's scripted
# backchannel (approve, deny, slow_down, a transient 5xx while polling, an unknown login_hint,
# the caller leaving mid-poll), then, on a second stack with a generic provider (PSC has no
# device grant), the device grant approved on the wallet's device page, and both flows running
# out of time at the provider's expires_in. The mock's poll record proves the daemon polled at the
# interval in force, never too early. A case reports `skip` only when GetFlows does not offer its
# flow (an engine without it), never otherwise.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

UNKNOWN_AT_PSC=810009999999 # mapped to "psc-10001234567", unknown to the provider

# needs_flow SERVICE FLOW || return 1: the case is skipped only when GetFlows answers without
# FLOW; a GetFlows that fails fails the case.
needs_flow() {
    flow_offered "$1" "$2"
    case $? in
    0) return 0 ;;
    1) skip "engine lacks $2" ;;
    esac
    return 1
}

ciba_script() {
    local out
    out=$(mock_control "{\"ciba\":$1}") || fail "mock control failed" || return 1
    case $out in *'"error"'*) fail "mock refused $1: $out" || return 1 ;; esac
}

# The mock's record of the last decoupled request.
poll_record() {
    mock_control '{"polls":"last"}'
}

poll_answers() {
    poll_record | grep -o '"answer":"[a-z_]*"' | sed 's/"answer":"\(.*\)"/\1/' | tr '\n' ' '
}

poll_times() {
    poll_record | grep -o '"at_ms":[0-9]*' | sed 's/"at_ms"://' | tr '\n' ' '
}

ciba_success() {
    needs_flow psc-ciba ciba || return 1
    must_start claire psc-ciba ciba || return 1
    [ "$(display flow)" = ciba ] || fail "flow: $(display flow)" || return 1
    local code
    code=$(display binding_code)
    [[ $code =~ ^[0-9][0-9]$ ]] || fail "binding_code '$code' is not two digits" || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 MOBILE || return 1
    local rec
    rec=$(poll_record)
    grep -qF "\"binding_message\":\"$code\"" <<<"$rec" ||
        fail "the provider was sent another binding message: $rec" || return 1
    grep -qF "\"idnat\":\"$STACK_MEDECIN\"" <<<"$rec" || fail "login_hint not claire's: $rec" || return 1
    expect_audit_end "$LOGIN_ID" success ""
}

ciba_channel_card() {
    needs_flow psc-ciba-card ciba || return 1
    must_start sophie psc-ciba-card ciba || return 1
    client_cmd "wait 20000" && expect_done sophie "$STACK_PHARMACIEN" 21 CARD
}

ciba_deny() {
    needs_flow psc-ciba ciba || return 1
    ciba_script '{"outcome":"deny","approve_after":1}' || return 1
    must_start claire psc-ciba ciba || return 1
    client_cmd "wait 20000" && expect_error Denied access_denied || return 1
    expect_audit_end "$LOGIN_ID" denied access_denied
}

# The first poll is answered slow_down: the next one must wait the new interval (1 + 5 s), and no
# poll may come early (the mock answers an early poll slow_down too, so one is all we may see).
ciba_slow_down() {
    needs_flow psc-ciba ciba || return 1
    ciba_script '{"outcome":"approve","approve_after":0,"slow_down_on_poll":1}' || return 1
    must_start claire psc-ciba ciba || return 1
    client_cmd "wait 30000" && expect_done claire "$STACK_MEDECIN" || return 1
    local answers times
    answers=$(poll_answers)
    read -ra times <<<"$(poll_times)"
    [ "$answers" = "slow_down approved " ] || fail "poll answers: $answers" || return 1
    local gap=$((times[1] - times[0]))
    [ $gap -ge 5750 ] && [ $gap -le 8000 ] ||
        fail "the poll after slow_down came ${gap} ms later, expected 6 s" || return 1
}

# A 503 from the provider's proxy while polling is retried at the next interval.
ciba_transient_503() {
    needs_flow psc-ciba ciba || return 1
    ciba_script '{"outcome":"approve","approve_after":2}' || return 1
    mock_control '{"fault":"http_503","scope":"next","endpoint":"token"}' >/dev/null || return 1
    must_start claire psc-ciba ciba || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN"
}

ciba_unknown_user_at_provider() {
    needs_flow psc-ciba ciba || return 1
    # The provider refuses the push: StartLogin's own answer (it waits for the provider), and a
    # refusal — never UnknownUser, which the PAM stacks pass on to the local password.
    client_start psc-10001234567 psc-ciba ciba || return 1
    [ -z "$LOGIN_ID" ] || fail "a login started for an idNat the provider does not know" || return 1
    expect_error Denied unknown_user_id
}

# CIBA's login_hint is the managed account's idNat: an account the map does not name is not
# managed, answered at once, and no push is sent.
ciba_unmapped_user() {
    needs_flow psc-ciba ciba || return 1
    local before
    before=$(mock_requests ciba)
    client_start yann psc-ciba ciba || return 1
    [ -z "$LOGIN_ID" ] || fail "a CIBA login without login_hint started" || return 1
    expect_error UnknownUser user_unmapped || return 1
    [ "$(mock_requests ciba)" = "$before" ] ||
        fail "the provider was contacted for an unmanaged account"
}

ciba_oauth_error() {
    needs_flow psc-ciba ciba || return 1
    mock_control '{"fault":"oauth_error","scope":"next","endpoint":"ciba","error":"invalid_request"}' \
        >/dev/null || return 1
    client_start claire psc-ciba ciba || return 1
    if [ -n "$LOGIN_ID" ]; then
        client_cmd "wait 20000" || return 1
    fi
    expect_error Invalid invalid_request
}

# The caller leaves mid-poll: the login is dropped and the polling stops.
ciba_caller_leaves() {
    needs_flow psc-ciba ciba || return 1
    ciba_script '{"outcome":"never"}' || return 1
    must_start claire psc-ciba ciba || return 1
    local id=$LOGIN_ID
    sleep 1.5
    client_kill
    wait_pending 0 || return 1
    expect_audit_end "$id" cancelled caller_left || return 1
    local before after
    before=$(poll_answers | wc -w)
    sleep 2.5
    after=$(poll_answers | wc -w)
    [ "$before" = "$after" ] || fail "polling went on after the caller left ($before → $after)"
}

ciba_cancel() {
    needs_flow psc-ciba ciba || return 1
    ciba_script '{"outcome":"never"}' || return 1
    must_start claire psc-ciba ciba || return 1
    client_cmd cancel && expect_reply cancelled || return 1
    wait_pending 0
}

ciba_not_for_code_service() {
    client_start claire psc-ciba code || return 1
    expect_error Invalid flow_not_allowed
}

# ---- second stack: a generic provider with the device grant, short expiry ---------------------

# The wallet's device page (verification_uri), posted as a user would.
device_approve() {
    local code=$1 idnat=$2 action=${3:-approve} out
    out=$(curl -sS --cacert "$MOCK_CA_FILE" --data-urlencode "user_code=$code" \
        --data-urlencode "idnat=$idnat" --data-urlencode "auth_mode=MOBILE" \
        --data-urlencode "action=$action" "$URL") || return 1
    grep -qF "Done" <<<"$out" || fail "the device page did not accept the code: $out"
}

device_success() {
    needs_flow psc-device device || return 1
    must_start claire psc-device device || return 1
    local code
    code=$(display user_code)
    [ -n "$code" ] || fail "no user_code" || return 1
    case $URL in "$MOCK_BASE_URL/wallet/device"*) ;; *) fail "url $URL" || return 1 ;; esac
    [ -n "$(display qr)" ] || fail "no verification_uri_complete for the QR code" || return 1
    device_approve "$code" "$STACK_MEDECIN" || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 MOBILE
}

device_refused() {
    needs_flow psc-device device || return 1
    must_start claire psc-device device || return 1
    device_approve "$(display user_code)" "$STACK_MEDECIN" cancel || return 1
    client_cmd "wait 20000" && expect_error Denied access_denied
}

device_other_identity() {
    needs_flow psc-device device || return 1
    must_start claire psc-device device || return 1
    device_approve "$(display user_code)" "$STACK_PHARMACIEN" || return 1
    client_cmd "wait 20000" && expect_error Denied mapping_other_user
}

# Keycloak's answer when the client may not use the device grant: an operator's problem (Config).
device_oauth_error() {
    needs_flow psc-device device || return 1
    mock_control '{"fault":"oauth_error","scope":"next","endpoint":"device","error":"unauthorized_client"}' \
        >/dev/null || return 1
    client_start claire psc-device device || return 1
    [ -z "$LOGIN_ID" ] || fail "a device login started on an error answer" || return 1
    expect_error Config unauthorized_client
}

# The provider's expires_in ends the login as Timeout: the provider's own expired_token when the
# last poll lands at the expiry, or the daemon's local expiry (PREFIX_expired) when it does not
# poll past it. Which one depends on a few milliseconds, so both are accepted; nothing else is.
expect_expired() {
    case $REPLY in
    "error org.psclogin.Auth1.Error.Timeout expired_token:"* | \
        "error org.psclogin.Auth1.Error.Timeout ${1}_expired"*) return 0 ;;
    esac
    fail "expected Timeout expired_token or ${1}_expired, got '$REPLY'"
}

# Nobody approves: the provider's expires_in (5 s here) ends the login, well before its timeout.
device_expiry() {
    needs_flow psc-device device || return 1
    must_start claire psc-device device || return 1
    [ "$(display expires_in)" -le 5 ] || fail "expires_in $(display expires_in), expected ≤ 5" || return 1
    local t0=$SECONDS
    client_cmd "wait 30000" && expect_expired device || return 1
    [ $((SECONDS - t0)) -le 9 ] || fail "took $((SECONDS - t0)) s"
}

ciba_expiry() {
    needs_flow psc-ciba ciba || return 1
    ciba_script '{"outcome":"never"}' || return 1
    must_start claire psc-ciba ciba || return 1
    local t0=$SECONDS
    client_cmd "wait 30000" && expect_expired ciba || return 1
    [ $((SECONDS - t0)) -le 9 ] || fail "took $((SECONDS - t0)) s" || return 1
    local answers
    answers=$(poll_answers)
    case $answers in *slow_down*) fail "the daemon polled too early: $answers" || return 1 ;; esac
}

stack_init
stack_map "$STACK_MEDECIN claire" "$STACK_STUDENT lucas" "$STACK_PHARMACIEN sophie" \
    "$UNKNOWN_AT_PSC psc-10001234567"
stack_config_extra <<EOF
[service:psc-ciba]
flows = ciba

[service:psc-ciba-card]
flows = ciba
ciba_channel = CARD

# Many pushes to one person in a row here: the throttle has its own stack below.
[login]
ciba_push_burst = 100
ciba_deny_cooldown = 0
EOF
stack_start --ciba-interval 1
stack_wait_ready
run_some_cases ciba_success ciba_channel_card ciba_deny ciba_slow_down ciba_transient_503 \
    ciba_unknown_user_at_provider ciba_unmapped_user ciba_oauth_error ciba_caller_leaves \
    ciba_cancel ciba_not_for_code_service daemon_exit_clean

stack_stop

# Push fatigue (design §9): a burst of 2 pushes per person and side, then one an hour; a refusal on
# the phone stops that side's pushes for an hour.
ciba_push_storm_cut() {
    local before i started=0 refused=0
    before=$(mock_requests ciba)
    client_spawn || return 1
    for i in 1 2 3 4 5 6; do
        ciba_script '{"outcome":"never"}' || return 1
        client_login claire psc-ciba ciba "198.51.100.$i" || return 1
        if [ -n "$LOGIN_ID" ]; then
            started=$((started + 1))
        else
            expect_error Busy ciba_throttled || return 1
            refused=$((refused + 1))
        fi
    done
    [ "$started" = 2 ] && [ "$refused" = 4 ] ||
        fail "storm: $started pushes started, $refused refused (want 2 and 4)" || return 1
    [ $(($(mock_requests ciba) - before)) = 2 ] || fail "the phone got more than 2 pushes" || return 1
    case $REPLY in *"next push for this account in "*) ;; *) fail "no wait in: $REPLY" ;; esac
}

ciba_local_seat_not_throttled() {
    ciba_script '{"outcome":"approve","approve_after":0}' || return 1
    must_start claire psc-ciba ciba || return 1 # after the remote storm above
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN"
}

ciba_denial_cools_down() {
    ciba_script '{"outcome":"deny","approve_after":0}' || return 1
    must_start lucas psc-ciba ciba 198.51.100.77 || return 1
    client_cmd "wait 20000" && expect_error Denied access_denied || return 1
    client_login lucas psc-ciba ciba 198.51.100.78 || return 1
    [ -z "$LOGIN_ID" ] || fail "a push went out right after a refusal on the phone" || return 1
    expect_error Busy ciba_throttled
}

stack_init
stack_config_extra <<EOF
[service:psc-ciba]
flows = ciba

[login]
ciba_push_burst = 2
ciba_push_interval = 1h
ciba_deny_cooldown = 1h
EOF
stack_start --ciba-interval 1
stack_wait_ready
run_some_cases ciba_push_storm_cut ciba_local_seat_not_throttled ciba_denial_cools_down     daemon_exit_clean
stack_stop

stack_init
stack_config_extra <<EOF
[provider]
profile = generic
scopes = openid scope_all
acr_values = eidas1

[mapping]
identity_claim = preferred_username

[service:psc-device]
flows = device

[service:psc-ciba]
flows = ciba
EOF
stack_start --ciba-interval 1 --ciba-expires-in 5 --device-grant
stack_wait_ready
run_cases device_success device_refused device_other_identity device_oauth_error device_expiry \
    ciba_expiry daemon_exit_clean

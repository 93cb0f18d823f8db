#!/bin/bash
# [mapping] source = sssd through the real psc-authd on a private bus with mock-psc, SSSD's
# InfoPipe played by tests/sssd/fake-infopipe.cpp (why not the real sssd: the README's test
# section). The exchange itself is checked against the interface SSSD publishes
# (tests/sssd/infopipe-users.xml, compared with what the stand-in serves), then: a CIBA login whose
# login_hint is the directory's idNat, a code-flow login, an account the directory does not map
# (UnknownUser: the next PAM module serves it), one without a readable idNat, a name that matches
# only without case, two ambiguous directories (refused, never "the first"), system accounts never
# asked, values that would be wildcards never sent, pscctl map and check-config --online, SSSD's
# "not found" both ways, and the failure modes: InfoPipe not on the bus and InfoPipe stalled
# (Unavailable), InfoPipe refusing psc-authd and an unreadable reply (Config), no stale answers.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../integration/integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"
# shellcheck source=../support/directory-lib.sh
. "$PSC_SOURCE_ROOT/tests/support/directory-lib.sh"

PSCCTL=${PSC_PSCCTL:?PSC_PSCCTL must name the pscctl binary}
PROBE=${PSC_LDAP_PROBE:?PSC_LDAP_PROBE must name ldap-probe}
FAKE_IFP=${PSC_FAKE_INFOPIPE:?PSC_FAKE_INFOPIPE must name fake-infopipe}
IFP_PID=""
ME=/org/freedesktop/sssd/infopipe/Users/hospital


# What SSSD holds (fake-infopipe's format: UID NAME [ATTR=V1,V2]).
people() {
    cat <<EOF
1001 claire pscIdNat=$STACK_MEDECIN mail=claire@hospital.example
1002 lucas pscIdNat=$STACK_STUDENT
2002 lucas-old pscIdNat=$STACK_STUDENT
1004 yann pscIdNat=$STACK_PHARMACIEN,810003456789
1003 sophie mail=sophie@hospital.example
1500 PSC-10001234567 pscIdNat=810001234568
0 root pscIdNat=810000000002
EOF
}

ifp_mode() { printf '%s\n' "$*" >"$IFP_DATA.mode"; }

ifp_start() {
    ifp_mode ""
    : >"$IFP_LOG"
    "$FAKE_IFP" "$IFP_DATA" "$IFP_LOG" >"$STACK_DIR/fake-infopipe.out" 2>&1 &
    IFP_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q ready "$STACK_DIR/fake-infopipe.out" 2>/dev/null && return 0
        kill -0 "$IFP_PID" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

ifp_stop() {
    [ -n "$IFP_PID" ] && kill -TERM "$IFP_PID" 2>/dev/null && wait "$IFP_PID" 2>/dev/null
    IFP_PID=""
    return 0
}

write_dropin() {
    stack_config_extra <<EOF
[mapping]
source = sssd
sssd_idnat_attribute = pscIdNat
sssd_timeout = ${SSSD_TIMEOUT:-2s}

[service:psc-ciba]
flows = ciba

[service:psc-code]
flows = code
EOF
}


logged() { grep -qxF "$1" "$IFP_LOG" || fail "InfoPipe was not asked '$1': $(cat "$IFP_LOG")"; }
not_logged() {
    if grep -q "$1" "$IFP_LOG"; then fail "InfoPipe was asked '$1': $(cat "$IFP_LOG")"; fi
}

# The stand-in serves the methods, signatures and properties SSSD's InfoPipe publishes.
interface_matches_sssd() { infopipe_matches_record "$ME/1001"; }

ciba_login_logged() {
    : >"$IFP_LOG"
    ciba_login_claire || return 1
    logged "FindByName claire" && logged "Get $ME/1001 extraAttributes" &&
        logged "ListByAttr pscIdNat $STACK_MEDECIN 3"
}


unmapped_is_unknown_user() {
    # sophie's entry holds no idNat (or SSSD does not show it: [ifp] user_attributes).
    start_refused UnknownUser user_unmapped sophie psc-code code || return 1
    client_close
    client_spawn && client_cmd "userflows sophie psc-code" &&
        expect_error UnknownUser user_unmapped || return 1
    client_cmd "userflows claire psc-code" && expect_reply "flows code"
}

# SSSD matched the name without case; the entry's own name is not the PAM user's.
name_case_not_enough() {
    start_refused UnknownUser user_unmapped psc-10001234567 psc-code code || return 1
    logged "FindByName psc-10001234567"
}

ambiguous_idnat_refused() { start_refused Denied directory_ambiguous lucas psc-code code; }
ambiguous_values_refused() { start_refused Denied directory_ambiguous yann psc-code code; }

system_account_not_asked() {
    : >"$IFP_LOG"
    start_refused UnknownUser system_user root psc-code code || return 1
    not_logged "FindByName root"
}


# Values psc-login never passes on: a NUL would cut the string, and SSSD may turn the value into
# an LDAP filter on a cache miss.
wildcards_never_sent() {
    probe entries "$(hex "$STACK_MEDECIN")" && expect 0 "1 entries" && expect 0 "$ME/1001" ||
        return 1
    : >"$IFP_LOG"
    local v
    for v in '*' '8*' "$STACK_MEDECIN)(pscIdNat=*" ')(' '\2a'; do
        probe entries "$(hex "$v")" && expect 0 "0 entries" || return 1
    done
    probe entries "$(hex "$STACK_MEDECIN")00" && expect 0 "0 entries" || return 1 # NUL
    not_logged "ListByAttr" || return 1
    probe account "$(hex claire)00" && expect 0 "unmapped" || return 1
    not_logged "FindByName" || return 1
    probe account "$(hex '*')" && expect 0 "unmapped" || return 1 # a name, not a pattern
    probe account "$(hex claire)" && expect 0 "mapped $STACK_MEDECIN $ME/1001"
}

pscctl_map_shows_directory() {
    ctl map "$STACK_MEDECIN" --config "$PSC_CONFIG"
    expect 0 "source: sssd SSSD InfoPipe (org.freedesktop.sssd.infopipe): 1 account(s)" &&
        expect 0 "SSSD searched its cache" && expect 0 "claire (uid 1001): OK" || return 1
    ctl map "$STACK_STUDENT" --config "$PSC_CONFIG"
    expect 1 "2 account(s)" && expect 1 "directory_ambiguous" || return 1
    ctl map 810009999999 --config "$PSC_CONFIG"
    expect 1 "not mapped to any local account"
}

check_config_online() {
    : >"$IFP_LOG"
    ctl check-config --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    expect 0 "sssd: InfoPipe on the system bus, idNat in pscIdNat" || return 1
    not_logged "ListByAttr" || return 1
    ctl check-config --online --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    expect 0 "sssd online: SSSD InfoPipe (org.freedesktop.sssd.infopipe) answered" || return 1
    logged "ListByAttr pscIdNat psc-login-check 3"
}

# SSSD versions answer "no match" with an empty list or with NotFound: both are "no entry".
not_found_both_ways() {
    ifp_mode notfound-list
    ctl map 810009999999 --config "$PSC_CONFIG"
    expect 1 "not mapped to any local account" || return 1
    code_login_claire || return 1
    ifp_mode ""
}

infopipe_gone() {
    ifp_stop
    start_refused Unavailable directory_unavailable claire psc-code code || return 1
    client_close
    client_spawn && client_cmd "userflows claire psc-code" &&
        expect_error Unavailable directory_unavailable || return 1
    # Root and system accounts never wait for the directory.
    client_cmd "userflows root psc-code" && expect_error UnknownUser system_user || return 1
    client_close
    ctl check-config --online --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    ifp_start || fail "fake-infopipe did not restart" || return 1
    expect 1 "cannot be reached on the system bus: org.freedesktop.DBus.Error.ServiceUnknown" ||
        return 1
    code_login_claire # answered again, from the daemon's existing connection
}

infopipe_slow() {
    ifp_mode slow
    local t0=$SECONDS
    start_refused Unavailable directory_timeout claire psc-code code
    local rc=$?
    ifp_mode ""
    [ $rc = 0 ] || return 1
    [ $((SECONDS - t0)) -le 10 ] || fail "the timeout took $((SECONDS - t0)) s (sssd_timeout 2s)"
    sleep 5 # the stand-in finishes the stalled calls
    code_login_claire
}

access_denied_is_config() {
    ifp_mode deny
    start_refused Config directory_search_failed claire psc-code code || return 1
    grep -q "allowed_uids" <<<"$REPLY" || fail "no hint at [ifp] allowed_uids: $REPLY" || return 1
    ctl check-config --online --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    expect 1 "allowed_uids" || return 1
    ifp_mode ""
}

bad_reply_is_config() {
    ifp_mode bad-reply
    start_refused Config directory_search_failed claire psc-code code
    local rc=$?
    ifp_mode ""
    return $rc
}

# psc-authd keeps no answer of its own with SSSD (SSSD's cache rules apply): an idNat removed
# from the directory is seen at the next login.
no_stale_answers() {
    code_login_claire || return 1
    people | sed "s/^1001 claire pscIdNat=$STACK_MEDECIN/1001 claire/" >"$IFP_DATA"
    start_refused UnknownUser user_unmapped claire psc-code code
    local rc=$?
    people >"$IFP_DATA"
    [ $rc = 0 ] || return 1
    code_login_claire
}

cleanup() {
    ifp_stop
    stack_stop
}

stack_init
trap cleanup EXIT
IFP_DATA=$STACK_DIR/infopipe-users
IFP_LOG=$STACK_DIR/infopipe-calls.log
people >"$IFP_DATA"
mkdir -p "$STACK_DIR/pam.d" && touch "$STACK_DIR/pam.d/psc-ciba" "$STACK_DIR/pam.d/psc-code"
export STACK_NO_MAP_FILE=1
write_dropin
stack_start --ciba-interval 1
stack_wait_ready
ifp_start || { echo "cannot start fake-infopipe: $(cat "$STACK_DIR/fake-infopipe.out")" >&2; exit 1; }
run_cases interface_matches_sssd ciba_login_logged code_login_claire unmapped_is_unknown_user \
    name_case_not_enough ambiguous_idnat_refused ambiguous_values_refused \
    system_account_not_asked wildcards_never_sent pscctl_map_shows_directory \
    check_config_online not_found_both_ways infopipe_gone infopipe_slow access_denied_is_config \
    bad_reply_is_config no_stale_answers

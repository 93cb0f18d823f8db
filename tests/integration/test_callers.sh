#!/bin/bash
# Who may ask for what (design §4-5), end to end: bus callers checked from the kernel's credentials
# (non-root callers only for themselves, by effective uid, never from arguments), logins bound to
# their connection (cancelled when it leaves, invisible to any other), the bus policy (only root
# owns org.psclogin.Auth1), argument limits, and the mapping and authorization rules deciding a
# real login: another user's identity, an unmapped one; accounts psc-login does not manage (system,
# missing, unmapped) answered at once; the pending-login limits (the local seat never locked out by
# remote logins, per source, uncollected outcomes); a student refused by a category rule, a
# profession list and a required means of authentication.
# Test accounts (nss_wrapper): claire 1001, lucas 1002, sophie 1003; daemon is uid 1.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

CLAIRE_UID=1001
ANS_TEST=ANS20231122132732     # mapped to the system account "daemon"
KINE=810003456789              # mapped to "ghost", who has no local account
STRUCTURE=500000001815646/CPAT00045 # mapped to no one

# A full login through the listener as IDNAT [MODE]; leaves the outcome in REPLY.
approve_and_wait() {
    browser_login "$URL" "$1" "${2:-}" >/dev/null || fail "the browser did not get through" || return 1
    client_cmd "wait 20000"
}

caller_self_ok() {
    must_start --as "$CLAIRE_UID" claire login code || return 1
    browser_form_login "$URL" "$STACK_MEDECIN" CARD >/dev/null || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 CARD || return 1
    grep -F "PSC_LOGIN_ID=\"$LOGIN_ID\"" "$AUTHD_LOG" | grep -qF "PSC_CALLER_UID=\"$CLAIRE_UID\"" ||
        fail "the audit log does not name caller uid $CLAIRE_UID"
}

caller_other_user_refused() {
    client_start --as "$CLAIRE_UID" sophie login code || return 1
    [ -z "$LOGIN_ID" ] || fail "uid $CLAIRE_UID started a login for sophie" || return 1
    expect_error Denied caller_not_user
}

caller_root_user_refused() {
    client_start --as "$CLAIRE_UID" root login code || return 1
    [ -z "$LOGIN_ID" ] || fail "uid $CLAIRE_UID started a login for root" || return 1
    expect_error Denied caller_not_user
}

# Spoofing the uid: real uid 0 but effective uid 1001 is claire to the bus (SO_PEERCRED carries
# the effective uid), so she still cannot ask for sophie; and nothing in the arguments (user name
# as a number, trailing junk, rhost/tty) changes who the caller is.
caller_uid_spoof() {
    client_start --euid "$CLAIRE_UID" sophie login code || return 1
    [ -z "$LOGIN_ID" ] || fail "ruid 0/euid $CLAIRE_UID started a login for sophie" || return 1
    expect_error Denied caller_not_user || return 1
    client_login 1003 login code || return 1
    [ -z "$LOGIN_ID" ] || fail "a numeric user name started a login" || return 1
    expect_error UnknownUser unknown_user || return 1
    client_login sophie login code localhost || return 1
    expect_error Denied caller_not_user || return 1
    client_login claire login code || return 1
    [ -n "$LOGIN_ID" ] || fail "ruid 0/euid $CLAIRE_UID could not log in as claire: $REPLY" || return 1
    grep -F "PSC_LOGIN_ID=\"$LOGIN_ID\"" "$AUTHD_LOG" | grep -qF "PSC_CALLER_UID=\"$CLAIRE_UID\"" ||
        fail "the audit log does not name caller uid $CLAIRE_UID"
}

caller_unknown_user() {
    client_start --as "$CLAIRE_UID" nosuchuser login code || return 1
    expect_error UnknownUser unknown_user
}

# A login id is useless on any other connection, even the same user's or root's.
caller_login_hijack() {
    must_start claire login code || return 1
    local id=$LOGIN_ID back out
    back=$(browser_approve "$URL" "$STACK_MEDECIN") || return 1
    for who in "setpriv --reuid=$CLAIRE_UID --regid=$CLAIRE_UID --clear-groups --" ""; do
        # shellcheck disable=SC2086
        out=$(printf 'use %s\nwait 0\nsubmit %s\ncancel\nquit\n' "$id" "$back" |
            $who "$BUS_CLIENT" 2>&1)
        [ "$(grep -c '^error org.psclogin.Auth1.Error.Invalid no_such_login' <<<"$out")" = 3 ] ||
            fail "another connection (${who:-root}) reached the login: $out" || return 1
    done
    client_cmd "submit $back" && expect_done claire "$STACK_MEDECIN"
}

caller_cannot_own_name() {
    client_open --as "$CLAIRE_UID" || return 1
    client_cmd "own org.psclogin.Auth1" && expect_reply "error org.freedesktop.DBus.Error.AccessDenied *"
}

# The caller leaves the bus mid-login: the daemon cancels the login, says so in its log, and the
# browser arriving later finds no login.
caller_leaves_bus() {
    must_start claire login code || return 1
    local id=$LOGIN_ID
    wait_pending 1 || return 1
    client_kill
    wait_pending 0 || return 1
    expect_audit_end "$id" cancelled caller_left || return 1
    local status
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 410 ] || fail "the departed caller's callback answered $status"
}

caller_arguments_checked() {
    client_start claire $'login\x01' code || return 1
    expect_error Invalid arg_control_char || return 1
    client_login "$(printf 'c%.0s' {1..1100})" login code || return 1
    expect_error Invalid arg_too_long || return 1
    client_login claire login telepathy || return 1
    expect_error Invalid flow_not_allowed
}

# design §9: 4 pending logins per user; all go when their connection does.
caller_per_user_limit() {
    must_start claire login code || return 1
    local i
    for i in 2 3 4; do
        client_login claire login code && [ -n "$LOGIN_ID" ] ||
            fail "login $i refused: $REPLY" || return 1
    done
    client_login claire login code || return 1
    [ -z "$LOGIN_ID" ] || fail "a 5th pending login for claire started" || return 1
    expect_reply "error org.psclogin.Auth1.Error.Busy too_many_*" || return 1
    client_login sophie login code && [ -n "$LOGIN_ID" ] || fail "sophie refused: $REPLY"
}

map_wrong_user() {
    must_start lucas login code || return 1
    approve_and_wait "$STACK_MEDECIN" && expect_error Denied mapping_other_user || return 1
    expect_audit_end "$LOGIN_ID" denied mapping_other_user
}

# Someone the map does not name completes claire's login: a refusal (never UnknownUser, which the
# stacks pass on to the local password), and the audit names who it was.
map_unmapped_identity() {
    must_start claire login code || return 1
    approve_and_wait "$STRUCTURE" && expect_error Denied mapping_other_user || return 1
    expect_audit_end "$LOGIN_ID" denied mapping_other_user || return 1
    audit_end_line "$LOGIN_ID" | grep -qF "PSC_IDNAT=\"$STRUCTURE\"" ||
        fail "the refusal's audit event does not carry the authenticated idNat"
}

# Accounts psc-login does not manage are answered UnknownUser at once: no login starts, no
# listener work, no provider contact (GetUserFlows says the same without starting anything).
unmanaged_answered_at_once() {
    local user reason
    for user in "daemon system_user" "root system_user" "ghost user_missing" "nobody-here user_missing" \
        "lucas2 user_missing"; do
        reason=${user#* }
        user=${user%% *}
        client_start "$user" login code || return 1
        [ -z "$LOGIN_ID" ] || fail "a login started for $user" || return 1
        expect_error UnknownUser "$reason" || return 1
        client_cmd "userflows $user login" || return 1
        expect_reply "error org.psclogin.Auth1.Error.UnknownUser $reason*" || return 1
    done
    client_cmd "userflows claire login" && expect_reply "flows code*" || return 1
    wait_pending 0
}

map_unmapped_account() {
    stack_map "$STACK_MEDECIN claire" "$ANS_TEST daemon"
    client_start sophie login code || return 1
    [ -z "$LOGIN_ID" ] || fail "a login started for sophie, who has no map line" || return 1
    expect_error UnknownUser user_unmapped
    stack_map "$STACK_MEDECIN claire" "$STACK_STUDENT lucas" "$STACK_PHARMACIEN sophie" \
        "$ANS_TEST daemon" "$KINE ghost"
}

# design §9: four remote logins for claire (from another address) never make the console answer
# Busy; remote logins are limited per user and per source; an uncollected outcome holds no slot.
limits_local_seat_never_locked_out() {
    local i
    client_spawn || return 1
    for i in 1 2 3 4; do
        client_login claire sshd code 198.51.100.$i && [ -n "$LOGIN_ID" ] ||
            fail "remote login $i refused: $REPLY" || return 1
    done
    client_login claire sshd code 198.51.100.9 || return 1
    [ -z "$LOGIN_ID" ] || fail "a 5th remote login for claire started" || return 1
    expect_error Busy too_many_user_logins || return 1
    client_login claire login code && [ -n "$LOGIN_ID" ] ||
        fail "the console login was refused after 4 remote ones: $REPLY" || return 1
    approve_and_wait "$STACK_MEDECIN" && expect_done claire "$STACK_MEDECIN"
}

limits_per_source() {
    client_spawn || return 1
    local u
    for u in claire lucas sophie; do
        client_login "$u" sshd code 203.0.113.7 && [ -n "$LOGIN_ID" ] ||
            fail "login for $u refused: $REPLY" || return 1
    done
    client_login claire sshd code 203.0.113.7 || return 1
    [ -z "$LOGIN_ID" ] || fail "a 4th login from one source started (max_pending_per_source 3)" ||
        return 1
    expect_error Busy too_many_source_logins || return 1
    client_login claire sshd code 203.0.113.8 && [ -n "$LOGIN_ID" ] ||
        fail "another source was refused: $REPLY"
}

# A login that ended (here: refused) but whose outcome nobody collected no longer counts.
limits_uncollected_outcome_frees_slot() {
    client_spawn || return 1
    local i ids=()
    for i in 1 2 3 4; do
        client_login lucas login code && [ -n "$LOGIN_ID" ] || fail "login $i refused: $REPLY" ||
            return 1
        ids+=("$LOGIN_ID")
        browser_login "$URL" "$STACK_MEDECIN" >/dev/null || return 1 # ends: mapping_other_user
    done
    for i in "${ids[@]}"; do expect_audit_end "$i" denied mapping_other_user || return 1; done
    client_login lucas login code && [ -n "$LOGIN_ID" ] ||
        fail "ended-but-uncollected logins still count: $REPLY"
}

map_student_allowed_by_default() {
    must_start lucas login code || return 1
    approve_and_wait "$STACK_STUDENT" && expect_done lucas "$STACK_STUDENT" 60
}

map_student_denied_by_category() {
    must_start lucas psc-students code || return 1
    approve_and_wait "$STACK_STUDENT" && expect_error Denied category_denied || return 1
    expect_audit_end "$LOGIN_ID" denied category_denied
}

map_profession_not_allowed() {
    must_start sophie psc-doctors code || return 1
    approve_and_wait "$STACK_PHARMACIEN" && expect_error Denied profession_not_allowed || return 1
    client_login claire psc-doctors code || return 1
    approve_and_wait "$STACK_MEDECIN" && expect_done claire "$STACK_MEDECIN" 10
}

map_auth_mode_required() {
    must_start claire psc-card code || return 1
    approve_and_wait "$STACK_MEDECIN" MOBILE && expect_error Denied auth_mode_required || return 1
    client_login claire psc-card code || return 1
    approve_and_wait "$STACK_MEDECIN" CARD && expect_done claire "$STACK_MEDECIN" 10 CARD
}

stack_init
stack_map "$STACK_MEDECIN claire" "$STACK_STUDENT lucas" "$STACK_PHARMACIEN sophie" \
    "$ANS_TEST daemon" "$KINE ghost"
stack_config_extra <<EOF
[service:psc-students]
deny_categories = E

[service:psc-doctors]
allow_professions = 10

[service:psc-card]
require_auth_mode = CARD

[login]
max_pending_per_source = 3
EOF
stack_start
stack_wait_ready
run_cases caller_self_ok caller_other_user_refused caller_root_user_refused caller_uid_spoof \
    caller_unknown_user caller_login_hijack caller_cannot_own_name caller_leaves_bus \
    caller_arguments_checked caller_per_user_limit map_wrong_user map_unmapped_identity \
    unmanaged_answered_at_once map_unmapped_account limits_local_seat_never_locked_out \
    limits_per_source limits_uncollected_outcome_frees_slot map_student_allowed_by_default \
    map_student_denied_by_category map_profession_not_allowed map_auth_mode_required \
    daemon_exit_clean

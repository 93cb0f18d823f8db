#!/bin/bash
# [mapping] source = ldap against a real slapd (tests/support/slapd.sh), through the real
# psc-authd on a private bus with mock-psc: a CIBA login whose login_hint is the directory's idNat,
# a code-flow login, an account the directory does not map (UnknownUser: the next PAM module
# serves it), three ambiguous directories (refused, never "the first"), system accounts never
# asked, filter injection (the token's idNat never reaches a filter; values with '*', ')(' and NUL
# are escaped on the real server), pscctl map and check-config --online, and the failure modes:
# wrong bind password, a base the server does not hold and untrusted certificate (Config), server down and server stalled
# (Unavailable), a first server down with the second answering over ldaps://, the cache.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=../integration/integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"
# shellcheck source=../support/slapd.sh
. "$PSC_SOURCE_ROOT/tests/support/slapd.sh"
# shellcheck source=../support/directory-lib.sh
. "$PSC_SOURCE_ROOT/tests/support/directory-lib.sh"

PSCCTL=${PSC_PSCCTL:?PSC_PSCCTL must name the pscctl binary}
PROBE=${PSC_LDAP_PROBE:?PSC_LDAP_PROBE must name ldap-probe}
INJECT_IDNAT='8*)(uid=*'


# The people of the test directory (see the header for what each one tests).
people_ldif() {
    local p=ou=people,$SLAPD_BASE
    cat <<EOF
dn: uid=claire,$p
objectClass: inetOrgPerson
objectClass: pscProfessional
uid: claire
cn: Claire Martin
sn: Martin
pscIdNat: $STACK_MEDECIN

dn: uid=lucas,$p
objectClass: inetOrgPerson
objectClass: pscProfessional
uid: lucas
cn: Lucas Bernard
sn: Bernard
pscIdNat: $STACK_STUDENT

dn: uid=lucas-old,$p
objectClass: inetOrgPerson
objectClass: pscProfessional
uid: lucas-old
cn: Lucas Bernard (old account)
sn: Bernard
pscIdNat: $STACK_STUDENT

dn: uid=yann,$p
objectClass: inetOrgPerson
objectClass: pscProfessional
uid: yann
cn: Yann Le Gall
sn: Le Gall
pscIdNat: $STACK_PHARMACIEN
pscIdNat: 810003456789

dn: cn=fleet one,$p
objectClass: inetOrgPerson
objectClass: pscProfessional
uid: psc-10001234567
cn: fleet one
sn: one
pscIdNat: 810001234568

dn: cn=fleet two,$p
objectClass: inetOrgPerson
objectClass: pscProfessional
uid: psc-10001234567
cn: fleet two
sn: two
pscIdNat: 810001234569

dn: uid=root,$p
objectClass: inetOrgPerson
objectClass: pscProfessional
uid: root
cn: root
sn: root
pscIdNat: 810000000002

EOF
}

# The [mapping] drop-in; extra lines (key = value) override.
write_dropin() {
    {
        cat <<EOF
[mapping]
source = ldap
ldap_uri = ${LDAP_URI_OVERRIDE:-$SLAPD_URI}
ldap_base = ${LDAP_BASE_OVERRIDE:-ou=people,$SLAPD_BASE}
ldap_idnat_attribute = pscIdNat
ldap_filter = (&(objectClass=pscProfessional)(pscIdNat={idnat}))
ldap_ca_file = ${LDAP_CA_OVERRIDE:-$SLAPD_DIR/ca.pem}
ldap_bind_dn = $SLAPD_BIND_DN
ldap_bind_password_file = ${LDAP_PW_OVERRIDE:-$SLAPD_DIR/bind.pw}
ldap_timeout = 2s
ldap_cache_ttl = ${LDAP_TTL:-0}

[service:psc-ciba]
flows = ciba

[service:psc-code]
flows = code
EOF
    } | stack_config_extra
}

restart_with() { # VAR=VALUE...: the daemon restarted with those drop-in overrides
    local LDAP_URI_OVERRIDE="" LDAP_CA_OVERRIDE="" LDAP_PW_OVERRIDE="" LDAP_TTL=""
    local LDAP_BASE_OVERRIDE=""
    local kv
    for kv in "$@"; do local "${kv?}"; done
    stack_stop_daemon
    write_dropin
    stack_start_daemon
    stack_wait_ready
}




unmapped_is_unknown_user() {
    start_refused UnknownUser user_unmapped sophie psc-code code || return 1
    client_close
    client_spawn && client_cmd "userflows sophie psc-code" &&
        expect_error UnknownUser user_unmapped || return 1
    client_cmd "userflows claire psc-code" && expect_reply "flows code"
}

ambiguous_idnat_refused() { start_refused Denied directory_ambiguous lucas psc-code code; }
ambiguous_values_refused() { start_refused Denied directory_ambiguous yann psc-code code; }
ambiguous_entries_refused() {
    start_refused Denied directory_ambiguous psc-10001234567 psc-code code
}
system_account_not_asked() { start_refused UnknownUser system_user root psc-code code; }

# The token's idNat is only compared, never searched: an identity whose idNat is a filter
# fragment is refused as not an idNat before anything else.
injection_token_idnat() {
    must_start claire psc-code code || return 1
    browser_login "$URL" "$INJECT_IDNAT" >/dev/null || fail "the browser did not get through" ||
        return 1
    client_cmd "wait 20000" && expect_error Invalid idnat_invalid
}


# On the real server: every value that would widen the filter unescaped finds nothing.
injection_filters_escaped() {
    probe entries "$(hex "$STACK_MEDECIN")" && expect 0 "1 entries" &&
        expect 0 "uid=claire,ou=people" || return 1
    local v
    for v in '*' '8*' "$INJECT_IDNAT" "$STACK_MEDECIN)(pscIdNat=*" "\\2a" ')(' ; do
        probe entries "$(hex "$v")" && expect 0 "0 entries" || return 1
    done
    probe entries "$(hex "$STACK_MEDECIN")00" && expect 0 "0 entries" || return 1 # NUL
    probe entries "00$(hex '*')" && expect 0 "0 entries" || return 1
    for v in '*' 'cl*' 'claire)(uid=*' '*)(|(uid=*'; do
        probe account "$(hex "$v")" && expect 0 "unmapped" || return 1
    done
    probe account "$(hex claire)00" && expect 0 "unmapped" || return 1
    probe account "$(hex CLAIRE)" && expect 0 "unmapped" || return 1 # uid matches without case
    probe account "$(hex claire)" && expect 0 "mapped $STACK_MEDECIN uid=claire"
}

pscctl_map_shows_directory() {
    ctl map "$STACK_MEDECIN" --config "$PSC_CONFIG"
    expect 0 "source: ldap $SLAPD_URI (ou=people,$SLAPD_BASE): 1 account(s)" &&
        expect 0 "claire (uid 1001): OK" || return 1
    ctl map "$STACK_STUDENT" --config "$PSC_CONFIG"
    expect 1 "2 account(s)" && expect 1 "directory_ambiguous" || return 1
    ctl map 810009999999 --config "$PSC_CONFIG"
    expect 1 "not mapped to any local account"
}

check_config_online() {
    ctl check-config --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    expect 0 "ldap $SLAPD_URI: base ou=people,$SLAPD_BASE" || return 1
    if grep -q "ldap online" <<<"$OUT"; then fail "contacted the directory offline: $OUT"; fi
    ctl check-config --online --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    expect 0 "ldap online: $SLAPD_URI (ou=people,$SLAPD_BASE) answered a search"
}

wrong_password_is_config() {
    printf 'not-the-password' >"$SLAPD_DIR/wrong.pw"
    chmod 0600 "$SLAPD_DIR/wrong.pw"
    restart_with LDAP_PW_OVERRIDE="$SLAPD_DIR/wrong.pw"
    start_refused Config directory_bind_refused claire psc-code code || return 1
    ctl check-config --online --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    expect 1 "refused the bind as $SLAPD_BIND_DN"
}

# A base the directory does not hold: a configuration error, never "unmapped" or Unavailable.
wrong_base_is_config() {
    restart_with LDAP_BASE_OVERRIDE="ou=nobody,$SLAPD_BASE"
    start_refused Config directory_search_failed claire psc-code code || return 1
    client_close
    start_refused Config directory_search_failed sophie psc-code code || return 1
    ctl check-config --online --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    expect 1 "ou=nobody,$SLAPD_BASE"
}

untrusted_certificate_is_config() {
    restart_with LDAP_CA_OVERRIDE="$SLAPD_DIR/other-ca.pem"
    start_refused Config directory_tls claire psc-code code || return 1
    restart_with LDAP_CA_OVERRIDE="$SLAPD_DIR/other-ca.pem" LDAP_URI_OVERRIDE="$SLAPD_LDAPS_URI"
    start_refused Config directory_tls claire psc-code code
}

directory_down() {
    restart_with
    slapd_stop
    start_refused Unavailable directory_unavailable claire psc-code code || return 1
    client_close
    client_spawn && client_cmd "userflows claire psc-code" &&
        expect_error Unavailable directory_unavailable || return 1
    # Root and system accounts never wait for the directory.
    client_cmd "userflows root psc-code" && expect_error UnknownUser system_user || return 1
    slapd_start || fail "slapd did not restart"
}

directory_slow() {
    restart_with
    ciba_login_claire || return 1 # the connection is open: the stall hits a search
    slapd_pause
    local t0=$SECONDS
    start_refused Unavailable directory_timeout claire psc-code code
    local rc=$?
    slapd_resume
    [ $rc = 0 ] || return 1
    [ $((SECONDS - t0)) -le 10 ] || fail "the timeout took $((SECONDS - t0)) s (ldap_timeout 2s)"
    # A fresh connection to a stalled server times out too.
    restart_with
    slapd_pause
    start_refused Unavailable directory_timeout claire psc-code code
    rc=$?
    slapd_resume
    [ $rc = 0 ] || return 1
    ciba_login_claire # and the directory is used again once it answers
}

failover_to_ldaps() {
    local dead
    dead=$(slapd_free_port)
    restart_with LDAP_URI_OVERRIDE="ldap://127.0.0.1:$dead $SLAPD_LDAPS_URI"
    code_login_claire
}

cache_answers_while_down() {
    restart_with LDAP_TTL=60
    ciba_login_claire || return 1
    start_refused UnknownUser user_unmapped sophie psc-code code || return 1
    client_close
    slapd_stop
    ciba_login_claire || { slapd_start; return 1; }
    start_refused UnknownUser user_unmapped sophie psc-code code || { slapd_start; return 1; }
    client_close
    # Never looked up: no answer to reuse.
    start_refused Unavailable directory_unavailable lucas psc-code code
    local rc=$?
    slapd_start || fail "slapd did not restart"
    return $rc
}

stack_init
LDAP_DIR=$STACK_DIR/slapd
IDENT_DIR=$STACK_DIR/identities
trap 'slapd_stop; stack_stop' EXIT
people_ldif >"$STACK_DIR/people.ldif"
slapd_setup "$LDAP_DIR" "$STACK_DIR/people.ldif" || { echo "cannot set up slapd" >&2; exit 1; }
slapd_start || { echo "cannot start slapd" >&2; exit 1; }
# mock-psc's identities plus one whose idNat is a filter fragment.
mkdir -p "$IDENT_DIR"
cp "$PSC_SOURCE_ROOT"/tests/mock-psc/identities/*.json "$IDENT_DIR/"
sed -e "s/$STACK_MEDECIN/$INJECT_IDNAT/g" -e 's/"description": "[^"]*"/"description": "injection"/' \
    "$PSC_SOURCE_ROOT/tests/mock-psc/identities/medecin.json" >"$IDENT_DIR/injection.json"
# check-config looks for a PAM service file per [service:NAME].
mkdir -p "$STACK_DIR/pam.d" && touch "$STACK_DIR/pam.d/psc-ciba" "$STACK_DIR/pam.d/psc-code"
export STACK_NO_MAP_FILE=1
write_dropin
stack_start --ciba-interval 1 --identities "$IDENT_DIR"
stack_wait_ready
run_cases ciba_login_claire code_login_claire unmapped_is_unknown_user ambiguous_idnat_refused \
    ambiguous_values_refused ambiguous_entries_refused system_account_not_asked \
    injection_token_idnat injection_filters_escaped pscctl_map_shows_directory \
    check_config_online wrong_password_is_config wrong_base_is_config \
    untrusted_certificate_is_config directory_down \
    directory_slow failover_to_ldaps cache_answers_while_down

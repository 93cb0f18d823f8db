#!/bin/bash
# [mapping] source = sssd against the real SSSD: Debian's sssd (sssd-ldap, sssd-dbus) with its
# InfoPipe responder on the test bus, its LDAP domain in front of a real slapd
# (tests/support/slapd.sh, StartTLS with the test CA, the bind account), through the real psc-authd
# with mock-psc. SSSD keeps its caches and sockets at fixed paths (/var/lib/sss): it runs in a
# mount namespace of its own where a directory of the test is mounted there, so nothing of the
# host is touched. Needs root (the namespace, and SSSD itself); skipped otherwise.
#
# Cases: the interface sssd_ifp serves is the one recorded in tests/sssd/infopipe-users.xml; a
# CIBA login whose login_hint is the directory's idNat; an account without idNat and one the
# directory does not hold (UnknownUser); two idNats on one entry and one idNat on two cached
# entries (directory_ambiguous); a wildcard never reaches SSSD (which would honour it); pscctl map
# and check-config --online; slapd down (SSSD offline answers from its cache: a cached account
# still logs in, an unknown one is unmapped); SSSD stopped (Unavailable).
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
SSSD=${SSSD:-/usr/sbin/sssd}
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (SSSD and a mount namespace for its state)"
    exit 77
fi
if [ ! -x "$SSSD" ] || [ ! -x /usr/libexec/sssd/sssd_ifp ] || [ ! -d /var/lib/sss ]; then
    echo "FAIL: sssd, sssd-ldap and sssd-dbus are not installed (scripts/bootstrap.sh installs them)"
    exit 1
fi
# shellcheck source=../integration/integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"
# shellcheck source=../support/slapd.sh
. "$PSC_SOURCE_ROOT/tests/support/slapd.sh"
# shellcheck source=../support/directory-lib.sh
. "$PSC_SOURCE_ROOT/tests/support/directory-lib.sh"

PSCCTL=${PSC_PSCCTL:?PSC_PSCCTL must name the pscctl binary}
PROBE=${PSC_LDAP_PROBE:?PSC_LDAP_PROBE must name ldap-probe}
SSSD_PID=""
ME=/org/freedesktop/sssd/infopipe/Users/hospital


person() { # UID NAME [IDNAT...]
    local uid=$1 name=$2
    shift 2
    printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n' \
        "$name" "$SLAPD_BASE"
    printf 'objectClass: pscProfessional\nuid: %s\ncn: %s\nsn: %s\n' "$name" "$name" "$name"
    printf 'uidNumber: %s\ngidNumber: %s\nhomeDirectory: /home/%s\n' "$uid" "$uid" "$name"
    local i
    for i in "$@"; do printf 'pscIdNat: %s\n' "$i"; done
    printf '\n'
}

people_ldif() {
    person 1001 claire "$STACK_MEDECIN"
    person 1002 lucas "$STACK_STUDENT"
    person 2002 lucas-old "$STACK_STUDENT"
    person 1004 yann "$STACK_PHARMACIEN" 810003456789
    person 1003 sophie
}

sssd_conf() {
    cat <<EOF
[sssd]
services = ifp
domains = hospital

[ifp]
allowed_uids = 0
user_attributes = +pscIdNat

[domain/hospital]
id_provider = ldap
auth_provider = none
ldap_uri = $SLAPD_URI
ldap_search_base = ou=people,$SLAPD_BASE
ldap_id_use_start_tls = true
ldap_tls_reqcert = demand
ldap_tls_cacert = $SLAPD_DIR/ca.pem
ldap_default_bind_dn = $SLAPD_BIND_DN
ldap_default_authtok_type = password
ldap_default_authtok = $(cat "$SLAPD_DIR/bind.pw")
ldap_schema = rfc2307
ldap_user_extra_attrs = pscIdNat:pscIdNat
ldap_network_timeout = 2
ldap_opt_timeout = 2
cache_credentials = false
EOF
}

# SSSD in its own mount namespace, its state in $SSSD_DIR.
sssd_start() {
    local state=$SSSD_DIR/var-lib-sss
    mkdir -p "$state"/{db,pipes/private,mc,pubconf,gpo_cache,secrets,deskprofile} \
        "$SSSD_DIR/log"
    chmod 0700 "$state/db" "$state/pipes/private"
    local logs=""
    [ -d /var/log/sssd ] && logs="mount --bind '$SSSD_DIR/log' /var/log/sssd &&"
    unshare -m sh -c "mount --make-rprivate / && mount --bind '$state' /var/lib/sss && $logs
        exec '$SSSD' -i -c '$SSSD_DIR/sssd.conf' --logger=stderr" >>"$SSSD_DIR/sssd.log" 2>&1 &
    SSSD_PID=$!
    local i
    for ((i = 0; i < 200; i++)); do
        stack_busctl status org.freedesktop.sssd.infopipe >/dev/null 2>&1 && return 0
        kill -0 "$SSSD_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$SSSD_DIR/sssd.log" >&2
    return 1
}

sssd_stop() {
    [ -n "$SSSD_PID" ] || return 0
    kill -TERM "$SSSD_PID" 2>/dev/null
    wait "$SSSD_PID" 2>/dev/null
    SSSD_PID=""
}

write_dropin() {
    stack_config_extra <<EOF
[mapping]
source = sssd
sssd_idnat_attribute = pscIdNat
sssd_timeout = 5s

[service:psc-ciba]
flows = ciba

[service:psc-code]
flows = code
EOF
}



interface_is_recorded() { infopipe_matches_record "$ME/1001"; }



unmapped_accounts() {
    start_refused UnknownUser user_unmapped sophie psc-code code || return 1 # no idNat
    client_close
    # A local account SSSD does not hold (sbus.Error.NotFound).
    start_refused UnknownUser user_unmapped psc-10001234567 psc-code code
}

ambiguous_values() { start_refused Denied directory_ambiguous yann psc-code code; }

# ListByAttr searches SSSD's cache: once lucas-old is in it, lucas's idNat names two accounts.
ambiguous_cached_entries() {
    probe account "$(hex lucas-old)" && expect 0 "mapped $STACK_STUDENT $ME/2002" || return 1
    start_refused Denied directory_ambiguous lucas psc-code code
}

# SSSD honours '*' in ListByAttr's value: psc-login never sends one.
wildcard_never_sent() {
    probe entries "$(hex "$STACK_MEDECIN")" && expect 0 "1 entries" || return 1
    local got
    got=$(stack_busctl call org.freedesktop.sssd.infopipe /org/freedesktop/sssd/infopipe/Users \
        org.freedesktop.sssd.infopipe.Users ListByAttr ssu pscIdNat '8*' 3)
    [ "$got" != "ao 0" ] || fail "SSSD no longer expands '*': adjust this test" || return 1
    probe entries "$(hex '8*')" && expect 0 "0 entries" || return 1
    probe entries "$(hex '*')" && expect 0 "0 entries"
}

pscctl_map_and_check() {
    ctl map "$STACK_MEDECIN" --config "$PSC_CONFIG"
    expect 0 "source: sssd SSSD InfoPipe (org.freedesktop.sssd.infopipe): 1 account(s)" &&
        expect 0 "claire (uid 1001): OK" || return 1
    ctl check-config --online --config "$PSC_CONFIG" --pam-dir "$STACK_DIR/pam.d"
    expect 0 "sssd online: SSSD InfoPipe (org.freedesktop.sssd.infopipe) answered"
}

# The directory gone: SSSD goes offline and answers from its cache, by the site's rules.
directory_offline() {
    slapd_stop
    code_login_claire || { slapd_start; return 1; }
    start_refused UnknownUser user_unmapped psc-10001234567 psc-code code
    local rc=$?
    slapd_start || fail "slapd did not restart"
    return $rc
}

sssd_stopped() {
    sssd_stop
    start_refused Unavailable directory_unavailable claire psc-code code
    local rc=$?
    sssd_start || fail "sssd did not restart" || return 1
    [ $rc = 0 ] || return 1
    client_close
    code_login_claire
}

cleanup() {
    sssd_stop
    slapd_stop
    stack_stop
}

stack_init
trap cleanup EXIT
SSSD_DIR=$STACK_DIR/sssd
mkdir -p "$SSSD_DIR"
people_ldif >"$STACK_DIR/people.ldif"
slapd_setup "$STACK_DIR/slapd" "$STACK_DIR/people.ldif" || { echo "cannot set up slapd" >&2; exit 1; }
slapd_start || { echo "cannot start slapd" >&2; exit 1; }
sssd_conf >"$SSSD_DIR/sssd.conf"
chmod 0600 "$SSSD_DIR/sssd.conf"
mkdir -p "$STACK_DIR/pam.d" && touch "$STACK_DIR/pam.d/psc-ciba" "$STACK_DIR/pam.d/psc-code"
export STACK_NO_MAP_FILE=1
write_dropin
stack_start --ciba-interval 1
stack_wait_ready
sssd_start || { echo "cannot start sssd" >&2; exit 1; }
run_cases ciba_login_claire interface_is_recorded code_login_claire unmapped_accounts \
    ambiguous_values ambiguous_cached_entries wildcard_never_sent pscctl_map_and_check \
    directory_offline sssd_stopped

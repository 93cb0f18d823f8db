# shellcheck shell=bash
# Helpers shared by the directory-mapping tests (tests/ldap, tests/sssd), sourced after
# tests/integration/integ-lib.sh. Needs PSCCTL (pscctl) and PROBE (ldap-probe).
OUT=""
RC=0

ctl() { # pscctl ARGS...: output in OUT, status in RC
    RC=0
    OUT=$(env LD_PRELOAD=libnss_wrapper.so "$PSCCTL" "$@" 2>&1 </dev/null) || RC=$?
}

# start USER SERVICE FLOW, then the error REPLY must be Error.$1 with reason $2.
start_refused() {
    client_start "$3" "$4" "$5" || return 1
    [ -z "$LOGIN_ID" ] || fail "StartLogin $3 started: $REPLY" || return 1
    expect_error "$1" "$2"
}

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }

probe() { # entries|account HEX: ldap-probe's output in OUT, status in RC
    RC=0
    OUT=$("$PROBE" "$PSC_CONFIG" "$1" "$2" 2>&1) || RC=$?
}

ciba_login_claire() {
    ctl login claire --service psc-ciba --flow ciba
    expect 0 "OK: user=claire idnat=$STACK_MEDECIN"
}

# (Repeated checks log in with the code flow: CIBA pushes to one account are spaced out.)
code_login_claire() {
    must_start claire psc-code code || return 1
    browser_login "$URL" "$STACK_MEDECIN" >/dev/null || fail "the browser did not get through" ||
        return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN"
}

# What org.freedesktop.sssd.infopipe serves on the test bus (the stand-in or the real sssd_ifp)
# is what tests/sssd/infopipe-users.xml records; USER_PATH: one user object's path.
infopipe_matches_record() {
    local iface path got
    for iface in org.freedesktop.sssd.infopipe.Users org.freedesktop.sssd.infopipe.Users.User; do
        path=/org/freedesktop/sssd/infopipe/Users
        [ "$iface" = org.freedesktop.sssd.infopipe.Users.User ] && path=$1
        got=$(stack_busctl introspect --xml-interface org.freedesktop.sssd.infopipe "$path") ||
            { fail "cannot introspect $path"; return 1; }
        python3 "$PSC_SOURCE_ROOT/tests/sssd/check_interface.py" \
            "$PSC_SOURCE_ROOT/tests/sssd/infopipe-users.xml" "$iface" <<<"$got" ||
            { fail "InfoPipe differs from tests/sssd/infopipe-users.xml ($iface)"; return 1; }
    done
}

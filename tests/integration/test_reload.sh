#!/bin/bash
# Reload (SIGHUP, what `systemctl reload psc-authd` sends): a changed configuration applies to
# new logins once its provider has loaded; a login pending across the reload finishes under the
# settings it started with; a configuration that does not load (a bad value, a client key that
# became readable by others), one whose provider cannot be reached, or one that changes the
# listener is refused, said in the journal with file:line, and the running one stays in force.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

DROPIN="" # set once the stack exists

reload_lines() {
    grep -cE 'psc-authd: (configuration reloaded|reload refused)' "$AUTHD_LOG"
}

# reload_and_wait: SIGHUP, then wait (10 s) for the daemon to say it reloaded or refused; the
# line is left in $RELOAD_LINE.
RELOAD_LINE=""
reload_and_wait() {
    local before i
    before=$(reload_lines)
    kill -HUP "$AUTHD_PID" || { fail "cannot signal psc-authd"; return 1; }
    for ((i = 0; i < 100; i++)); do
        if [ "$(reload_lines)" -gt "$before" ]; then
            RELOAD_LINE=$(grep -E 'psc-authd: (configuration reloaded|reload refused)' "$AUTHD_LOG" | tail -n 1)
            return 0
        fi
        sleep 0.1
    done
    fail "psc-authd said nothing about the reload within 10 s"
}

write_dropin() {
    cat >"$DROPIN"
    chmod 0644 "$DROPIN"
}

expect_reloaded() {
    case $RELOAD_LINE in
    *"configuration reloaded from $PSC_CONFIG"*) ;;
    *) fail "not reloaded: $RELOAD_LINE" ;;
    esac
}

expect_refused() { # WHAT: text the refusal must contain
    case $RELOAD_LINE in
    *"reload refused, the running configuration stays: "*"$1"*) ;;
    *) fail "not refused for '$1': $RELOAD_LINE" ;;
    esac
}

# A login that works under the current settings (the old ones stay in force after a refusal).
login_still_works() {
    must_start claire login code || return 1
    case $URL in *"kc_idp_hint=$1"*) ;; *) fail "not under the expected settings ($1): $URL" || return 1 ;; esac
    local status
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 200 ] || fail "callback answered $status" || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10
}

# The pending login was started under "before" and finishes after the reload to "after" (its
# provider, HTTP client and settings kept alive); a new login gets "after" and the new flows.
reload_pending_keeps_settings() {
    must_start claire login code || return 1
    local old_url=$URL old_client=$CL_PID
    case $old_url in *"kc_idp_hint=before"*) ;; *) fail "first login: $old_url" || return 1 ;; esac
    flow_offered psc-reload ciba && { fail "ciba offered before the reload"; return 1; }
    write_dropin <<EOF
[provider]
extra_auth_params = kc_idp_hint=after

[service:psc-reload]
flows = ciba code
EOF
    reload_and_wait && expect_reloaded || return 1
    flow_offered psc-reload ciba || fail "the new flows are not offered after the reload" || return 1
    local status
    status=$(browser_login "$old_url" "$STACK_MEDECIN") || return 1
    [ "$status" = 200 ] || fail "the pending login's callback answered $status" || return 1
    [ "$CL_PID" = "$old_client" ] || fail "client changed" || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 || return 1
    login_still_works after
}

reload_bad_value_refused() {
    write_dropin <<EOF
[provider]
extra_auth_params = kc_idp_hint=after

[login]
timeout = 5
EOF
    reload_and_wait && expect_refused "$DROPIN:5: timeout = \"5\" is out of range" || return 1
    login_still_works after
}

# The credentials are read again: a client key others may read is refused (and the old client
# keeps working, with the key it read at start).
reload_credentials_checked() {
    write_dropin <<EOF
[provider]
extra_auth_params = kc_idp_hint=after
EOF
    chmod 0644 "$MOCK_CLIENT_KEY"
    reload_and_wait
    chmod 0600 "$MOCK_CLIENT_KEY"
    expect_refused "is accessible by group or others" || return 1
    login_still_works after
}

# A configuration whose provider cannot be loaded (here: a discovery address that answers 404)
# never replaces one that can.
reload_unreachable_provider_refused() {
    write_dropin <<EOF
[provider]
extra_auth_params = kc_idp_hint=unreachable
discovery_url = $MOCK_ISSUER/.well-known/no-such-document
EOF
    reload_and_wait && expect_refused "discovery_not_found" || return 1
    login_still_works after
}

reload_listener_change_refused() {
    write_dropin <<EOF
[provider]
extra_auth_params = kc_idp_hint=after

[callback]
callback_listen = 127.0.0.1:1
EOF
    reload_and_wait && expect_refused "restart psc-authd to apply it" || return 1
    rm -f "$DROPIN"
    login_still_works after
}

stack_init
DROPIN=$STACK_DIR/psc-login.conf.d/60-reload.conf
stack_config_extra <<EOF
[provider]
extra_auth_params = kc_idp_hint=before

[service:psc-reload]
flows = code
EOF
stack_start
stack_wait_ready
run_cases reload_pending_keeps_settings reload_bad_value_refused reload_credentials_checked \
    reload_unreachable_provider_refused reload_listener_change_refused daemon_exit_clean

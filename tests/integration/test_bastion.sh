#!/bin/bash
# A bastion (design §2.1, confirm_code): the redirect_uri is a public https address that a reverse
# proxy forwards to psc-authd's listener, so any browser can deliver a login's callback — a link
# sent to a clinician ("please sign in") would log its sender in as them. With confirm_code = auto
# such a callback's page shows a code, and the login completes only once the person at the prompt
# types it. The reverse proxy is played by rewriting the public address to the listener.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

PUBLIC=https://bastion.example/callback

# The browser approves as IDNAT at the wallet; the "proxy" forwards the callback to the listener.
# The page lands in $STACK_DIR/page.html; its code (if any) in CODE.
browser_via_proxy() {
    local back listener
    back=$(browser_approve "$URL" "$1") || return 1
    case $back in "$PUBLIC?"*) ;; *) fail "the wallet sent the browser to '$back'" || return 1 ;; esac
    listener=$(stack_busctl get-property org.psclogin.Auth1 /org/psclogin/Auth1 \
        org.psclogin.Auth1 ListenerAddress | sed -E 's/^s "(.*)"$/\1/')
    curl -sS -o "$STACK_DIR/page.html" "$listener?${back#*\?}" || return 1
    CODE=$(sed -nE 's#.*<p class="code"><code>([A-Z0-9-]+)</code></p>.*#\1#p' "$STACK_DIR/page.html")
}

bastion_display_asks_for_code() {
    must_start claire sshd code 198.51.100.4 || return 1
    [ "$(display confirm_code)" = true ] || fail "no confirm_code in the display" || return 1
    case $URL in *"redirect_uri=https%3A%2F%2Fbastion.example%2Fcallback"*) ;;
    *) fail "the authorization request does not name the public redirect_uri: $URL" ;; esac
}

bastion_own_browser_confirms() {
    must_start claire sshd code 198.51.100.4 || return 1
    browser_via_proxy "$STACK_MEDECIN" || return 1
    [ -n "$CODE" ] || fail "the page shows no code: $(cat "$STACK_DIR/page.html")" || return 1
    grep -q "Code de confirmation" "$STACK_DIR/page.html" || fail "not the confirmation page" ||
        return 1
    client_cmd "wait 3000" || return 1
    case $REPLY in "pending remaining="*" confirm") ;; *) fail "not awaiting the code: $REPLY" || return 1 ;; esac
    client_cmd "submit $(tr 'A-Z' 'a-z' <<<"$CODE")" && expect_done claire "$STACK_MEDECIN"
}

bastion_wrong_code_then_right() {
    must_start claire sshd code 198.51.100.4 || return 1
    browser_via_proxy "$STACK_MEDECIN" || return 1
    client_cmd "submit ABC-DEF" && expect_error Invalid confirm_code_wrong || return 1
    client_cmd "submit ${CODE//-/}" && expect_done claire "$STACK_MEDECIN"
}

# The attacker started the login and sent the link; the clinician's browser completed it and
# showed her the code. The attacker can wait, press Enter, guess: never success.
bastion_someone_elses_browser_fails() {
    must_start claire sshd code 203.0.113.66 || return 1
    local id=$LOGIN_ID
    browser_via_proxy "$STACK_MEDECIN" || return 1
    client_cmd "wait 3000" || return 1
    case $REPLY in "pending"*) ;; *) fail "the login ended without the code: $REPLY" || return 1 ;; esac
    local guess
    for guess in AAAAAA BBBBBB; do
        client_cmd "submit $guess" && expect_error Invalid confirm_code_wrong || return 1
    done
    client_cmd "submit CCCCCC" && expect_error Denied confirm_code_mismatch || return 1
    expect_audit_end "$id" denied confirm_code_mismatch || return 1
    audit_end_line "$id" | grep -qF "PSC_IDNAT=\"$STACK_MEDECIN\"" ||
        fail "the audit does not name whose browser completed it"
}

# Paste-back proves the person at the prompt had the browser: no code.
bastion_paste_back_needs_no_code() {
    must_start claire sshd code 198.51.100.4 || return 1
    local back
    back=$(browser_approve "$URL" "$STACK_MEDECIN") || return 1
    client_cmd "submit $back" && expect_done claire "$STACK_MEDECIN"
}

stack_init
stack_config_extra <<EOF
[callback]
redirect_uri = $PUBLIC
EOF
stack_start --redirect-uri "$PUBLIC"
stack_wait_ready
run_cases bastion_display_asks_for_code bastion_own_browser_confirms bastion_wrong_code_then_right \
    bastion_someone_elses_browser_fails bastion_paste_back_needs_no_code daemon_exit_clean

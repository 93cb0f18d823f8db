#!/bin/bash
# The authorization code flow end to end (design §2.1-2.2): psc-authd on a private bus, mock-psc,
# the scripted browser (curl) through the wallet's real login form or its approve shortcut,
# headless chromium landing on the daemon's callback page, paste-back, cancel, the login
# timeout, and a flood of bogus-state callbacks while a real login completes.
PSC_SOURCE_ROOT=${PSC_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
# shellcheck source=integ-lib.sh
. "$PSC_SOURCE_ROOT/tests/integration/integ-lib.sh"

# The callback listener's base address, from the redirect_uri inside the authorization URL.
callback_base() {
    local enc
    enc=$(sed -n 's/.*[?&]redirect_uri=\([^&]*\).*/\1/p' <<<"$URL")
    printf '%b' "${enc//%/\\x}"
}

code_display() {
    must_start claire login code || return 1
    [ "$(display flow)" = code ] || fail "flow: $(display flow)" || return 1
    [ "$(display accepts_paste)" = true ] || fail "accepts_paste: $(display accepts_paste)" || return 1
    [ "$(display expires_in)" = 60 ] || fail "expires_in: $(display expires_in)" || return 1
    case $URL in
    "$MOCK_BASE_URL/wallet/auth?"*) ;;
    *) fail "url: $URL" || return 1 ;;
    esac
    for p in response_type=code "client_id=$MOCK_CLIENT_ID" state= nonce= code_challenge= \
        code_challenge_method=S256 acr_values=eidas1; do
        grep -qF -- "$p" <<<"$URL" || fail "url lacks $p" || return 1
    done
    client_cmd "wait 300" && expect_reply "pending remaining=*" || return 1
    local left=${REPLY#pending remaining=}
    [ "$left" -ge 55 ] && [ "$left" -le 60 ] || fail "remaining $left"
}

code_listener_success() {
    must_start claire login code || return 1
    local status
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 200 ] || fail "callback page status $status" || return 1
    # The page waited for the decision: it says who is signed in.
    grep -qF "Connexion acceptée" "$STACK_DIR/callback-page.html" || fail "no FR success text" || return 1
    grep -qF "<code>claire</code>" "$STACK_DIR/callback-page.html" || fail "no account on the page" ||
        return 1
    grep -qF "Signed in" "$STACK_DIR/callback-page.html" || fail "no EN success text" || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 CARD || return 1
    expect_audit_end "$LOGIN_ID" success ""
}

# "curl following the mock's login form": the page is loaded, the form posted as a user would.
code_form_login() {
    must_start sophie login code || return 1
    local status
    status=$(browser_form_login "$URL" "$STACK_PHARMACIEN" MOBILE) || return 1
    [ "$status" = 200 ] || fail "callback page status $status" || return 1
    client_cmd "wait 20000" && expect_done sophie "$STACK_PHARMACIEN" 21 MOBILE
}

# The user presses "Annuler" on the wallet page: the provider answers error=access_denied.
code_form_cancel() {
    must_start claire login code || return 1
    local status
    status=$(browser_form_login "$URL" "$STACK_MEDECIN" CARD cancel) || return 1
    [ "$status" = 400 ] || fail "callback page status $status" || return 1
    grep -qF "Échec de la connexion" "$STACK_DIR/callback-page.html" || fail "no failure page" || return 1
    client_cmd "wait 20000" && expect_error Denied access_denied || return 1
    expect_audit_end "$LOGIN_ID" denied access_denied
}

code_paste_back() {
    must_start claire sshd code 192.0.2.7 || return 1
    local back
    back=$(browser_approve "$URL" "$STACK_MEDECIN" MOBILE) || return 1
    client_cmd "submit $back" && expect_done claire "$STACK_MEDECIN" 10 MOBILE || return 1
    expect_audit_end "$LOGIN_ID" success "" || return 1
    audit_end_line "$LOGIN_ID" | grep -qF 'PAM_SERVICE="sshd" PAM_RHOST="192.0.2.7"' ||
        fail "the audit line lacks the service and rhost: $(audit_end_line "$LOGIN_ID")"
}

# Another login's address does not end this one; the user may paste again (design §2.2).
code_paste_foreign_address() {
    must_start claire login code || return 1
    local old
    old=$(browser_approve "$URL" "$STACK_MEDECIN") || return 1
    client_cmd cancel && expect_reply cancelled || return 1
    client_login claire login code && [ -n "$LOGIN_ID" ] || fail "second StartLogin: $REPLY" || return 1
    client_cmd "submit $old" && expect_error Invalid callback_state_mismatch || return 1
    client_cmd "submit not a url" && expect_error Invalid callback_not_url || return 1
    client_cmd "wait 0" && expect_reply "pending remaining=*" || return 1
    local back
    back=$(browser_approve "$URL" "$STACK_MEDECIN") || return 1
    client_cmd "submit $back" && expect_done claire "$STACK_MEDECIN"
}

code_cancel() {
    must_start claire login code || return 1
    client_cmd cancel && expect_reply cancelled || return 1
    expect_audit_end "$LOGIN_ID" cancelled cancelled || return 1
    client_cmd "wait 0" && expect_error Invalid no_such_login || return 1
    local status
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 410 ] || fail "a cancelled login's callback answered $status"
}

code_timeout() {
    must_start claire psc-short code || return 1
    [ "$(display expires_in)" = 10 ] || fail "expires_in: $(display expires_in)" || return 1
    local t0=$SECONDS
    client_cmd "wait 30000" && expect_error Timeout login_timeout || return 1
    local took=$((SECONDS - t0))
    [ $took -ge 9 ] && [ $took -le 16 ] || fail "timed out after ${took}s, expected 10" || return 1
    expect_audit_end "$LOGIN_ID" timeout login_timeout || return 1
    local status
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 410 ] || fail "an expired login's callback answered $status"
}

# Headless chromium follows the whole redirect chain (mock_approve shortcut) and lands on the
# daemon's callback page, which must say in French and English that the window may be closed.
code_chromium() {
    local browser
    browser=$(command -v chromium || command -v chromium-browser) ||
        fail "chromium is not installed (scripts/bootstrap.sh)" || return 1
    must_start claire login code || return 1
    local dom=$STACK_DIR/chromium-dom.html
    mkdir -p "$STACK_DIR/chromium-home"
    HOME=$STACK_DIR/chromium-home timeout 90 "$browser" --headless=new --no-sandbox --disable-gpu \
        --disable-quic --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --disable-dev-shm-usage --ignore-certificate-errors \
        --user-data-dir="$STACK_DIR/chromium-profile" \
        --dump-dom "$URL&mock_approve=$STACK_MEDECIN" >"$dom" 2>"$STACK_DIR/chromium.err" ||
        fail "chromium failed: $(tail -n 3 "$STACK_DIR/chromium.err")" || return 1
    for text in "Connexion acceptée" "Signed in" "Vous pouvez fermer cette fenêtre" \
        "You can close this window"; do
        grep -qF "$text" "$dom" || fail "the page chromium shows lacks: $text" || return 1
    done
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 CARD
}

# The page shows the real outcome: a refusal in plain words (here another person's account).
code_page_shows_refusal() {
    must_start lucas login code || return 1
    local status
    status=$(browser_login "$URL" "$STACK_MEDECIN") || return 1
    [ "$status" = 403 ] || fail "refusal page status $status" || return 1
    grep -qF "Connexion refusée" "$STACK_DIR/callback-page.html" || fail "no refusal title" || return 1
    grep -qF "Your identity is not associated with this account. (mapping_other_user)" \
        "$STACK_DIR/callback-page.html" || fail "no reason in plain words" || return 1
    client_cmd "wait 20000" && expect_error Denied mapping_other_user
}

# 200 callbacks with forged states, 16 at a time, while a real login goes through the listener:
# each bogus one gets the "unknown login" page and none disturbs the real one.
code_callback_flood() {
    must_start claire login code || return 1
    local cb cfg=$STACK_DIR/flood.curl i
    cb=$(callback_base)
    [ -n "$cb" ] || fail "no redirect_uri in $URL" || return 1
    : >"$cfg"
    for ((i = 0; i < 200; i++)); do
        printf 'url = "%s?code=bogus%d&state=forged-state-%d&iss=x"\noutput = "/dev/null"\n' \
            "$cb" "$i" "$i" >>"$cfg"
    done
    curl -s -Z --parallel-max 16 -K "$cfg" -w '%{http_code}\n' >"$STACK_DIR/flood.codes" 2>"$STACK_DIR/flood.err" &
    local flood=$!
    local status
    status=$(browser_form_login "$URL" "$STACK_MEDECIN") || return 1
    wait "$flood"
    [ "$status" = 200 ] || fail "real callback answered $status" || return 1
    client_cmd "wait 20000" && expect_done claire "$STACK_MEDECIN" 10 || return 1
    local n410 total
    n410=$(grep -c '^410$' "$STACK_DIR/flood.codes")
    total=$(wc -l <"$STACK_DIR/flood.codes")
    [ "$n410" = 200 ] && [ "$total" = 200 ] ||
        fail "bogus callbacks: $n410 of $total answered 410: $(sort "$STACK_DIR/flood.codes" | uniq -c | tr '\n' ' ')"
}

stack_init
stack_config_extra <<EOF
[service:psc-short]
timeout = 10
EOF
stack_start
stack_wait_ready
run_cases code_display code_listener_success code_page_shows_refusal code_form_login \
    code_form_cancel code_paste_back \
    code_paste_foreign_address code_cancel code_callback_flood code_chromium code_timeout \
    daemon_exit_clean

#!/bin/sh
# callback_page_test.sh SERVER_BINARY
# Headless Chromium against the real callback listener (tests/browser/callback_page_server.cpp):
# the success and failure pages render in French and English, a hostile reason is text and not
# markup, and the browser stays on the callback URL (the DOM is the page that was asked for, and
# the listener saw exactly the navigations made: no redirect anywhere).
# Chromium is required: scripts/bootstrap.sh installs it. A missing browser fails the test.
set -eu

server_bin=$1
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "FAIL: chromium is not installed; run scripts/bootstrap.sh (Debian package chromium)" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/psc-browser.XXXXXX")
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        # Never hang on a server slow to die (it may still be starting, under ASan on a busy box).
        n=0
        while kill -0 "$server_pid" 2>/dev/null && [ $n -lt 50 ]; do
            sleep 0.1
            n=$((n + 1))
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*" >&2
    for f in "$work"/*.log "$work"/*.err; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

marker="psc-marker-$$"
# The log exists before the server starts: the loop below may read it before the child's
# redirection has created it.
: >"$work/server.log"
"$server_bin" "$marker" >>"$work/server.log" 2>&1 &
server_pid=$!

url=""
i=0
while [ $i -lt 100 ]; do
    url=$(sed -n 's/^URL //p' "$work/server.log")
    [ -n "$url" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "the callback server exited"
    sleep 0.1
    i=$((i + 1))
done
[ -n "$url" ] || fail "the callback server did not print its URL"

runs=0
# chromium_run NAME ARGS... : a fresh profile and HOME per run, nothing outside $work.
chromium_run() {
    name=$1
    shift
    runs=$((runs + 1))
    mkdir -p "$work/home-$name"
    HOME="$work/home-$name" timeout 90 "$browser" --headless --no-sandbox --disable-gpu \
        --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --disable-dev-shm-usage \
        --user-data-dir="$work/profile-$name" "$@" 2>"$work/chromium-$name.err"
}

has() { grep -qF -- "$2" "$1" || fail "$1 lacks: $2"; }
hasnt() { ! grep -qiF -- "$2" "$1" || fail "$1 contains: $2"; }

# 1. Success page.
ok_target="/callback?code=abc%2Fdef&state=ok"
chromium_run ok --dump-dom "${url}?code=abc%2Fdef&state=ok" >"$work/ok.html" ||
    fail "chromium could not load the success page"
has "$work/ok.html" "Réponse reçue"
has "$work/ok.html" "Response received"
has "$work/ok.html" "Vous pouvez fermer cette fenêtre"
has "$work/ok.html" "You can close this window"
hasnt "$work/ok.html" "<script"
hasnt "$work/ok.html" "http-equiv"

# 2. Failure page with a hostile reason: rendered as text (escaped in the serialised DOM).
bad_target="/callback?error=access_denied&state=bad"
chromium_run bad --dump-dom "${url}?error=access_denied&state=bad" >"$work/bad.html" ||
    fail "chromium could not load the failure page"
has "$work/bad.html" "Échec de la connexion"
has "$work/bad.html" "Login failed"
has "$work/bad.html" "$marker"
has "$work/bad.html" "&lt;script&gt;document.title='pwned'&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"
hasnt "$work/bad.html" "<script"
hasnt "$work/bad.html" "<b>"
hasnt "$work/bad.html" "pwned</title>"
printf '\033' >"$work/esc"
! grep -qF -f "$work/esc" "$work/bad.html" || fail "a control character reached the page"

# 3. It renders (a screenshot is produced).
chromium_run shot --window-size=900,700 --screenshot="$work/shot.png" \
    "${url}?code=abc%2Fdef&state=ok" >/dev/null || fail "chromium could not take a screenshot"
[ "$(head -c 8 "$work/shot.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
    fail "no PNG screenshot"

# 4. No redirect: the handler saw exactly our navigations, each on the callback URL as sent.
grep '^REQ ' "$work/server.log" >"$work/requests.log" || true
printf 'REQ %s\nREQ %s\nREQ %s\n' "$ok_target" "$bad_target" "$ok_target" >"$work/expected.log"
cmp -s "$work/requests.log" "$work/expected.log" ||
    fail "the listener saw other requests than the three navigations: $(cat "$work/requests.log")"

echo "callback page: $runs chromium runs, success and failure pages rendered, no redirect"

#!/bin/bash
# The Debian packages, built and installed as an administrator would, into a scratch Debian 12
# root (debootstrap from the package archive, cached in the build directory) — never onto this
# machine. Checks: the files and their modes, the conffiles, the unit (enabled, not started;
# systemd-analyze verify), `pscctl check-config` on the shipped example, and with the PAM profile
# enabled through pam-auth-update and psc-authd running inside the root: a local account with a
# password still logs in through the resulting common-auth (an account psc-login does not manage,
# and a managed one while the provider is unreachable), a wrong password does not; remove and
# purge leave no PAM line behind.
# Needs root and the package archive; run by scripts/test.sh (meson suite "package").
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${PSC_PACKAGE_CACHE:?PSC_PACKAGE_CACHE must name a cache directory}
mirror=${PSC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (debootstrap, chroot)"; exit 77; }
for tool in dpkg-buildpackage debootstrap lintian; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (scripts/bootstrap.sh)"; exit 1; }
done

scratch=$(mktemp -d /var/tmp/psc-package-test.XXXXXX)
root=$scratch/root
daemon_pids=()
cleanup() {
    for p in "${daemon_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    sleep 0.2
    umount "$root/proc" 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
# Commands inside the root, with nothing of this test's environment (no nss_wrapper preload).
in_root() {
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
        chroot "$root" "$@"
}

# --- 1. Build the packages from a copy of the tracked tree (nothing written into the source).
echo "=== dpkg-buildpackage"
mkdir -p "$scratch/src"
(cd "$src" && git ls-files -z 2>/dev/null || find . -type f -not -path './build*' -print0) |
    (cd "$src" && tar --null -T - -cf -) | tar -xf - -C "$scratch/src"
(cd "$scratch/src" && dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$scratch/build.log" 2>&1) || {
    tail -40 "$scratch/build.log"; fail "dpkg-buildpackage"; exit 1; }
debs=("$scratch"/psc-login_*_amd64.deb "$scratch"/libpam-psc_*_amd64.deb)
for d in "${debs[@]}" "$scratch"/psc-login-dbgsym_*.deb "$scratch"/libpam-psc-dbgsym_*.deb; do
    [ -f "$d" ] || fail "missing package $(basename "$d")"
done
# Stripped: no debug sections left in the shipped binaries (they are in -dbgsym).
dpkg-deb -x "$scratch"/psc-login_*_amd64.deb "$scratch/x"
if readelf -S "$scratch/x/usr/libexec/psc-authd" | grep -q '\.debug_info'; then
    fail "psc-authd is not stripped"
fi

echo "=== lintian"
# Errors and warnings fail; overrides, if ever needed, live in debian/*.lintian-overrides with
# their reason.
lint=$(lintian --fail-on error,warning "$scratch"/psc-login_*_amd64.changes 2>&1) || {
    printf '%s\n' "$lint"; fail "lintian"; }
printf '%s\n' "$lint" | grep -v '^running with root' || true

# --- 2. A minimal Debian 12 root, cached by the list of packages it holds.
include=pamtester,procps,dbus,ca-certificates,openssl,systemd,libmicrohttpd12,libcurl4,libjson-c5,libqrencode4,libssl3,libldap-2.5-0
key=$(printf '%s %s' "$include" "$mirror" | sha256sum | cut -c1-16)
tarball=$cache/bookworm-minbase-$key.tar
mkdir -p "$cache" "$root"
if [ ! -f "$tarball" ]; then
    echo "=== debootstrap (cached afterwards in $tarball)"
    debootstrap --variant=minbase --include="$include" bookworm "$root" "$mirror" \
        >"$scratch/debootstrap.log" 2>&1 || { tail -30 "$scratch/debootstrap.log"; exit 1; }
    in_root apt-get clean
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
else
    echo "=== debian root from $tarball"
    tar -C "$root" -xf "$tarball"
fi
mount -t proc proc "$root/proc"

# --- 3. Install.
echo "=== dpkg -i"
cp "${debs[@]}" "$root/tmp/"
in_root dpkg -i /tmp/"$(basename "${debs[0]}")" /tmp/"$(basename "${debs[1]}")" ||
    fail "dpkg -i"
for f in /usr/libexec/psc-authd /usr/bin/pscctl /lib/x86_64-linux-gnu/security/pam_psc.so \
    /lib/systemd/system/psc-authd.service /usr/share/dbus-1/system.d/org.psclogin.Auth1.conf \
    /usr/share/dbus-1/system-services/org.psclogin.Auth1.service /usr/share/pam-configs/psc \
    /usr/share/man/man5/users.map.5.gz /usr/share/man/man8/pam_psc.8.gz \
    /usr/share/doc/psc-login/admin-guide.md.gz /usr/share/bash-completion/completions/pscctl; do
    [ -e "$root$f" ] || fail "not installed: $f"
done
[ "$(stat -c '%a %U:%G' "$root/etc/psc-login")" = "755 root:root" ] ||
    fail "/etc/psc-login is $(stat -c '%a %U:%G' "$root/etc/psc-login")"
conffiles=$(in_root dpkg-query -W -f='${Conffiles}' psc-login)
for c in /etc/psc-login/psc-login.conf /etc/psc-login/users.map; do
    grep -q " $c " <<<"$conffiles" || fail "$c is not a conffile"
done
[ -L "$root/etc/systemd/system/multi-user.target.wants/psc-authd.service" ] ||
    fail "psc-authd.service is not enabled"
grep -q pam_psc "$root/etc/pam.d/common-auth" && fail "installing changed common-auth"
[ "$(in_root pscctl --version)" = "pscctl $(dpkg-deb -f "${debs[0]}" Version)" ] ||
    fail "pscctl --version"
ok "files, modes, conffiles, unit enabled, PAM stacks untouched"

echo "=== systemd-analyze verify"
# --man=no: the minimal root has no man-db; the pages the unit names are checked as files above.
out=$(in_root systemd-analyze verify --man=no /lib/systemd/system/psc-authd.service 2>&1) || {
    printf '%s\n' "$out"; fail "systemd-analyze verify"; }
[ -z "$out" ] || { printf '%s\n' "$out"; fail "systemd-analyze verify printed warnings"; }

# --- 4. The shipped example, with the site's certificate in place (as the guide says).
echo "=== pscctl check-config on the shipped example"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -subj /CN=psc-login-package-test -keyout "$root/etc/psc-login/psc-client.key" \
    -out "$root/etc/psc-login/psc-client.crt" 2>/dev/null
chmod 0600 "$root/etc/psc-login/psc-client.key"
mkdir -p "$root/tmp/pam.d"
for svc in sshd sudo login; do printf 'auth required pam_deny.so\n' >"$root/tmp/pam.d/$svc"; done
out=$(in_root pscctl check-config --pam-dir /tmp/pam.d 2>&1) || {
    printf '%s\n' "$out"; fail "check-config on the shipped example"; }

# --- 5. Enable the profile, run psc-authd inside the root, log in with local passwords.
echo "=== pam-auth-update --enable psc"
in_root pam-auth-update --enable psc
grep -q 'pam_psc.so' "$root/etc/pam.d/common-auth" || fail "common-auth lacks pam_psc"
grep -q 'pam_psc.so' "$root/etc/pam.d/common-account" || fail "common-account lacks pam_psc"
grep -E 'pam_psc|pam_unix' "$root/etc/pam.d/common-auth"

# Two accounts with passwords: alice is not in users.map (psc-login does not manage her);
# claire is (her login goes to the provider, which is unreachable here: the break-glass line).
in_root useradd -m -u 1001 alice
in_root useradd -m -u 1002 claire
printf 'alice:alice-pw\nclaire:claire-pw\n' | in_root chpasswd
printf '810001234567 claire\n' >>"$root/etc/psc-login/users.map"
# The provider: nothing listens on loopback port 9, so every request of the daemon fails to
# connect (an outage). The real PSC is never contacted.
mkdir -p "$root/etc/psc-login/psc-login.conf.d"
cat >"$root/etc/psc-login/psc-login.conf.d/test.conf" <<'EOF'
[provider]
issuer = https://127.0.0.1:9/auth/realms/esante-wallet
discovery_url = https://127.0.0.1:9/auth/realms/esante-wallet/.well-known/wallet-openid-configuration
[callback]
callback_listen = 127.0.0.1:0
[login]
flows = code
EOF
in_root pscctl check-config --pam-dir /tmp/pam.d >/dev/null || fail "check-config with the drop-in"

mkdir -p "$root/run/dbus"
in_root dbus-uuidgen --ensure
in_root dbus-daemon --system --fork --print-pid >"$scratch/dbus.pid"
daemon_pids+=("$(cat "$scratch/dbus.pid")")
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin chroot "$root" /usr/libexec/psc-authd \
    --log-target=stderr >"$scratch/authd.log" 2>&1 &
daemon_pids+=("$!")
on_bus() {
    in_root dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.NameHasOwner string:org.psclogin.Auth1 2>/dev/null | grep -q true
}
for _ in $(seq 100); do
    on_bus && break
    sleep 0.1
done
on_bus || {
    cat "$scratch/authd.log"; fail "psc-authd did not come up in the root"; }

pam_login() { # USER PASSWORD -> pamtester's exit code
    printf '%s\n' "$2" | in_root pamtester login "$1" authenticate >/dev/null 2>&1
}
pam_login alice alice-pw && ok "alice (unmanaged) logs in with her password" ||
    fail "alice cannot log in with her password through common-auth"
pam_login alice wrong && fail "alice logs in with a wrong password" || ok "wrong password refused"
pam_login claire claire-pw && ok "claire (managed) logs in with her password during the outage" ||
    fail "claire cannot use the break-glass line during an outage"
pam_login claire wrong && fail "claire logs in with a wrong password" ||
    ok "claire's wrong password refused"
# pam_psc really took part: claire's login reached psc-authd and met the outage; alice's never
# started one (an unmanaged account is answered before any login or provider work).
grep -q 'PAM_USER="alice"' "$scratch/authd.log" &&
    { cat "$scratch/authd.log"; fail "psc-authd started a login for the unmanaged alice"; }
grep -q 'PAM_USER="claire".*PSC_RESULT="unavailable"' "$scratch/authd.log" ||
    { cat "$scratch/authd.log"; fail "psc-authd did not report the outage for claire"; }
for p in "${daemon_pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
daemon_pids=()

# --- 6. Remove and purge.
echo "=== dpkg -r libpam-psc, then --purge"
in_root dpkg -r libpam-psc >/dev/null
grep -rq pam_psc "$root/etc/pam.d" && fail "a pam_psc line is left after remove"
pam_login alice alice-pw || fail "alice cannot log in after remove"
in_root dpkg --purge libpam-psc psc-login >/dev/null
grep -rq pam_psc "$root/etc/pam.d" && fail "a pam_psc line is left after purge"
for c in psc-login.conf users.map; do
    [ -e "$root/etc/psc-login/$c" ] && fail "/etc/psc-login/$c is left after purge"
done
[ -e "$root/etc/systemd/system/multi-user.target.wants/psc-authd.service" ] &&
    fail "the unit is still enabled after purge"
[ -e "$root/lib/x86_64-linux-gnu/security/pam_psc.so" ] && fail "pam_psc.so left after purge"
ok "remove and purge leave no PAM line and no conffile"

[ "$failures" = 0 ] || exit 1
echo "package: all checks passed"

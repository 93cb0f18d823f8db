#!/bin/sh
# Installs every Debian 12 package needed to build, test, fuzz and benchmark psc-login.
# Idempotent and non-interactive; run as root (CI does). Safe to re-run.
# sssd-ldap and sssd-dbus (for the tests against the real SSSD) bring libnss-sss and libpam-sss,
# which add "sss" to nsswitch.conf and pam_sss to the common-* PAM files: without an sssd.conf
# SSSD never starts, and both answer "unknown" at once. The tests run their own sssd in a mount
# namespace and leave /var/lib/sss as they found it.
set -eu

PKGS="
  build-essential g++ meson ninja-build pkg-config git
  libpam0g-dev libmicrohttpd-dev libcurl4-openssl-dev libssl-dev openssl
  libjson-c-dev libsystemd-dev libcmocka-dev libqrencode-dev
  libgnutls28-dev
  clang-14 libclang-rt-14-dev
  libjwt-dev
  pamtester libpam-wrapper libnss-wrapper
  dbus-daemon dbus-bin
  openssh-server openssh-client
  curl ca-certificates
  tinyproxy-bin python3
  slapd ldap-utils libldap-dev
  sssd-ldap sssd-dbus
  man-db groff-base
  debhelper dpkg-dev fakeroot lintian debootstrap
  chromium
"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -z "$missing" ]; then
    echo "bootstrap: all packages present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing packages:$missing" >&2
    echo "bootstrap: run as root (or: sudo $0)" >&2
    exit 1
fi

echo "bootstrap: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing

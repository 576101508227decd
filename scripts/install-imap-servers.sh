#!/usr/bin/env bash
# Installs Cyrus IMAP 3.6 and Courier IMAP 5.0 for the test suite, beside Dovecot
# (scripts/install-dovecot.sh), on Debian 12, as root.
#
#   bash scripts/install-imap-servers.sh [--if-missing]
#
# Debian's cyrus-imapd and courier-imap both declare `Conflicts: imap-server`, which
# dovecot-imapd provides, so apt refuses them while Dovecot is installed (and the suite needs
# Dovecot). So this script
#   1. installs with apt only the packages that do not conflict and that the servers need at
#      run time: shared libraries, sasl2-bin (saslpasswd2, Cyrus's user database) and
#      courier-authlib(-userdb) (Courier's authentication library, its modules and makeuserdb);
#   2. downloads the server packages themselves (cyrus-common, cyrus-imapd, courier-base,
#      courier-imap) and unpacks them with `dpkg-deb -x` into a private root,
#      $MAILKEEP_TEST_SERVERS_ROOT (default /opt/mailkeep-test-servers). Their maintainer
#      scripts never run, so no service is configured, enabled or started, and nothing of
#      theirs lands in /usr or /etc. The tests run the binaries from there with
#      LD_LIBRARY_PATH pointing into it (test/support/cyrus.ts, test/support/courier.ts);
#   3. creates the system user `cyrus` (group mail) that Cyrus's master drops privileges to,
#      and the empty directory /etc/courier, as the packages' own maintainer scripts would.
# courier-base is unpacked rather than installed: its maintainer script generates DH
# parameters (minutes of CPU) for an SMTP server the tests never run; only couriertcpd is used.
#
# With --if-missing it does nothing when everything is in place (the private root records what
# it holds in .installed). Setting MAILKEEP_TEST_SERVERS to a list without cyrus and courier
# (e.g. "dovecot") makes --if-missing skip the install: those runs do not need them.
set -euo pipefail

ROOT=${MAILKEEP_TEST_SERVERS_ROOT:-/opt/mailkeep-test-servers}
# Unpacked into $ROOT, never installed.
UNPACKED=(cyrus-common cyrus-imapd courier-base courier-imap)
# Installed with apt: what the unpacked binaries link against or run (ldd of master, imapd,
# couriertcpd, imaplogin and Courier's imapd), and the two user-database tools.
DEPENDENCIES=(
  sasl2-bin libsasl2-modules libsasl2-modules-db
  courier-authlib courier-authlib-userdb
  libical3 libxapian30 libpcre3 libjansson4 libicu72 libpq5 libwrap0 libsqlite3-0 libxml2
  libldap-2.5-0 libkrb5-3 libssl3 zlib1g libcom-err2
  libcourier-unicode4 libgdbm6 libidn12 libgnutls30 libgamin0 libltdl7
)
# What the harness runs, relative to $ROOT or absolute (installed by apt).
NEEDED=(
  "$ROOT/usr/lib/cyrus/bin/master" "$ROOT/usr/lib/cyrus/bin/imapd" "$ROOT/usr/sbin/couriertcpd"
  "$ROOT/usr/lib/courier/courier/imaplogin" "$ROOT/usr/bin/imapd"
  /usr/sbin/saslpasswd2 /usr/sbin/makeuserdb /usr/lib/courier/courier-authlib/authdaemond
  /usr/lib/courier-authlib/libauthuserdb.so
)

wanted() {
  # MAILKEEP_TEST_SERVERS (see test/support/servers.ts): unset means all three servers.
  local list=",${MAILKEEP_TEST_SERVERS:-dovecot,cyrus,courier},"
  [[ $list == *,cyrus,* || $list == *,courier,* ]]
}

complete() {
  [[ -f $ROOT/.installed ]] || return 1
  local path
  for path in "${NEEDED[@]}"; do [[ -e $path ]] || return 1; done
  getent passwd cyrus >/dev/null || return 1
  [[ -d /etc/courier ]] || return 1
  # Every shared library the binaries need must resolve.
  if LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib" ldd "${NEEDED[@]:0:5}" 2>/dev/null | grep -q 'not found'; then return 1; fi
  return 0
}

if [[ "${1:-}" == "--if-missing" ]]; then
  if ! wanted || complete; then exit 0; fi
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "Cyrus IMAP and Courier IMAP for the tests are missing. Install them as root with:" >&2
  echo "  bash scripts/install-imap-servers.sh" >&2
  echo "(or run only Dovecot's tests: MAILKEEP_TEST_SERVERS=dovecot)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps the installed packages from starting any service (sasl2-bin has saslauthd).
cleanup=()
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  cleanup+=(/usr/sbin/policy-rc.d)
fi
download=$(mktemp -d)
cleanup+=("$download")
trap 'rm -rf "${cleanup[@]}"' EXIT

apt-get update -qq
# --no-upgrade: a library that is already installed stays as it is (no upgrade of unrelated
# packages that happen to depend on it).
apt-get install -y -qq --no-install-recommends --no-upgrade "${DEPENDENCIES[@]}" >/dev/null

# apt's download sandbox user must be able to write there.
chmod 0755 "$download"
chown _apt "$download" 2>/dev/null || true
(cd "$download" && apt-get download -qq "${UNPACKED[@]}")

staging="$ROOT.new.$$"
rm -rf "$staging"
mkdir -p "$staging"
cleanup+=("$staging")
for deb in "$download"/*.deb; do dpkg-deb -x "$deb" "$staging"; done
for deb in "$download"/*.deb; do dpkg-deb --showformat='${Package} ${Version}\n' -W "$deb"; done | sort > "$staging/.installed"
chmod 0755 "$staging"
# Replace the old root as a whole, so a run never sees half of two versions.
rm -rf "$ROOT.old"
if [[ -e $ROOT ]]; then mv "$ROOT" "$ROOT.old"; fi
mv "$staging" "$ROOT"
rm -rf "$ROOT.old"

# The Courier harness mounts each instance's own configuration over /etc/courier (in a private
# mount namespace): the mount point must exist. Debian's courier packages would create it.
mkdir -p /etc/courier

# Cyrus's master refuses to serve as root and switches to `cyrus_user`, which must exist in
# passwd. The same user and group the Debian package would create.
if ! getent passwd cyrus >/dev/null; then
  adduser --quiet --system --ingroup mail --home /var/spool/cyrus --no-create-home --shell /usr/sbin/nologin cyrus
fi

if ! complete; then
  echo "install-imap-servers: the install in $ROOT is incomplete:" >&2
  LD_LIBRARY_PATH="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib" ldd "${NEEDED[@]:0:5}" 2>&1 | grep 'not found' >&2 || true
  exit 1
fi
echo "Cyrus IMAP and Courier IMAP for the tests are in $ROOT:"
sed 's/^/  /' "$ROOT/.installed"

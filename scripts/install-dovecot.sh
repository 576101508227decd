#!/usr/bin/env bash
# Installs Dovecot (IMAP server used by the test suite, the demo and the benchmarks) from
# Debian's packages (and openssl, which the TLS tests use to make a throw-away certificate).
# With --if-missing it does nothing when dovecot, doveadm and openssl are present.
# It only installs the packages: the tests start their own private instances on 127.0.0.1 and
# never use the system service.
set -euo pipefail
if [[ "${1:-}" == "--if-missing" ]] && command -v dovecot >/dev/null 2>&1 && command -v doveadm >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
  exit 0
fi
if [[ "$(id -u)" != "0" ]]; then
  echo "Dovecot is missing. Install it as root with:" >&2
  echo "  apt-get install -y dovecot-core dovecot-imapd openssl" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# policy-rc.d keeps the package from starting the system-wide dovecot service.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends dovecot-core dovecot-imapd openssl >/dev/null
dovecot --version

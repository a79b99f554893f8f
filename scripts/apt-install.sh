#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are not installed yet (run as root).
# Waits for another apt/dpkg run to finish instead of failing. Idempotent: nothing to do, no network.
set -euo pipefail
missing=""
for p in "$@"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "apt-install: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing

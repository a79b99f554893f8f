#!/usr/bin/env bash
# Installs everything fedow-node needs on a fresh Debian machine (run as root):
# the Debian packages (C toolchain for libp2p's fastecdsa and pyscard, pcscd and
# the vpcd virtual reader for the card tests, tzdata for the venues' time zones,
# Chromium for the dashboard's browser test, driven by Playwright with this system
# browser: never `playwright install`, systemd-analyze for the service unit's checks) and a
# virtual environment in .venv.
# Idempotent: a second run only checks. Docker and what builds its image are installed by
# scripts/docker-host.sh, which the Docker test runs.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES="gcc libgmp-dev libpcsclite-dev pcscd vsmartcard-vpcd tzdata chromium systemd"
bash scripts/apt-install.sh $DEB_PACKAGES

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
stamp=.venv/.installed-$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "bootstrap: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[reader,test]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi

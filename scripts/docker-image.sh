#!/usr/bin/env bash
# Builds fedow-node's Docker image:  scripts/docker-image.sh [TAG]   (default fedow-node:latest)
#
# The wheels of the project and of its dependencies are built on this host, with its Python 3.11
# and its pip settings, into docker/wheels/ (deps/ and project/, so that a code change keeps the
# image's dependency layer); the Dockerfile installs only those, without a package index (a build
# container cannot use the host's package proxy). The dependencies' wheels are cached in
# /var/cache/fedow-node (WHEEL_CACHE) until setup.cfg or pyproject.toml change.
# Needs Docker and the base image: scripts/docker-host.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

TAG="${1:-fedow-node:latest}"
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || { echo "docker-image: $PYTHON is not Python 3.11 (the image's); set PYTHON=" >&2; exit 1; }

# Dependencies: built once per setup.cfg + pyproject.toml, kept machine-wide for every checkout.
cache="${WHEEL_CACHE:-/var/cache/fedow-node}/wheels-$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)"
if [ ! -f "$cache/.complete" ]; then
  echo "docker-image: building the dependencies' wheels into $cache"
  rm -rf "$cache"
  mkdir -p "$cache"
  "$PYTHON" -m pip wheel -q --disable-pip-version-check -w "$cache" ".[reader]"
  rm -f "$cache"/fedow_node-*.whl
  touch "$cache/.complete"
fi
rm -rf docker/wheels
mkdir -p docker/wheels/project
cp -r "$cache" docker/wheels/deps
"$PYTHON" -m pip wheel -q --disable-pip-version-check --no-deps -w docker/wheels/project .

docker build -q --force-rm -t "$TAG" . >/dev/null
echo "docker-image: built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | numfmt --to=si)B)"

#!/usr/bin/env bash
# Makes this Debian machine able to build and run fedow-node's image (run as root):
#   1. Debian's docker.io, docker-compose (1.29) and debootstrap packages;
#   2. a Docker daemon: systemd's docker service where systemd runs, otherwise dockerd started
#      by hand in the background (left running: there is one per machine; log in
#      /var/log/fedow-dockerd.log). Started by hand, it gives each container a cgroup of its own
#      at the top (--cgroup-parent=/), weighing on the CPU like any process beside it: under its
#      default /docker parent, all the containers together weigh as much as one process, and a
#      devnet in containers starves on a machine loaded by anything else (such as a test suite);
#   3. the base image debian:bookworm-slim: pulled from Docker Hub, or, where no container registry
#      is reachable, built locally: debootstrap --variant=minbase from this machine's configured
#      Debian mirror, trimmed like the official slim image, and `docker import`ed under that name.
# Idempotent: each step is skipped when already done (the base image is the cache of step 3).
# Not safe to run twice at the same time: the Docker test runs it under a machine-wide lock.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE="${BASE_IMAGE:-debian:bookworm-slim}"
SUITE=bookworm

bash scripts/apt-install.sh docker.io docker-compose debootstrap

docker_answers() { docker info >/dev/null 2>&1; }

start_dockerd() {
  if [ -d /run/systemd/system ]; then
    systemctl start docker
  else
    echo "docker-host: starting dockerd (log: /var/log/fedow-dockerd.log)"
    setsid /usr/sbin/dockerd --cgroup-parent=/ >>/var/log/fedow-dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 120); do
    docker_answers && return 0
    sleep 0.5
  done
  echo "docker-host: dockerd does not answer after 60 s; see /var/log/fedow-dockerd.log" >&2
  exit 1
}

# The URL of this machine's Debian mirror for a suite, as apt uses it (any sources format).
mirror_of() {
  apt-cache policy | awk -v suite="$1/main" '$3 == suite && $2 ~ /^https?:/ { print $2; exit }'
}

build_base_image() {
  local mirror security root
  mirror="$(mirror_of "$SUITE")"
  mirror="${mirror:-http://deb.debian.org/debian}"
  security="$(mirror_of "$SUITE-security")"
  root="$(mktemp -d /var/tmp/fedow-base.XXXXXX)"
  trap 'rm -rf "$root"' RETURN
  echo "docker-host: building $BASE_IMAGE with debootstrap from $mirror (about a minute)"
  debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
  rm -f "$root.log"
  # The trimming of the official slim image: no documentation, manuals or translations, no
  # package lists or downloaded packages, and dpkg told to keep it so.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'DPKG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
DPKG
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
APT
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' "$mirror" "$SUITE" "$SUITE"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    if [ -n "$security" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' "$security" "$SUITE"
      printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  rm -rf "$root"/usr/share/{man,info,locale,lintian}/* "$root"/var/lib/apt/lists/* \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin "$root"/var/log/* "$root"/tmp/*
  tar --numeric-owner -C "$root" -c . \
    | docker import --change 'CMD ["bash"]' --message "debootstrap $SUITE from $mirror" - "$BASE_IMAGE" >/dev/null
  echo "docker-host: $BASE_IMAGE imported ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" | numfmt --to=si)B)"
}

docker_answers || start_dockerd
docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 \
  || docker pull -q "$BASE_IMAGE" >/dev/null 2>&1 \
  || build_base_image

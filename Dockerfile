# fedow-node: one validator / venue node per container, on Debian bookworm with Debian's Python 3.11.
#
#   scripts/docker-image.sh fedow-node       # builds the wheels on the host, then this image
#   docker run --rm -v fedow-data:/data fedow-node init --home /data --validator --place-key
#   (copy the federation's genesis.json into the volume and set peers, see docs/install.md)
#   docker run -d --name fedow-node --network host -v fedow-data:/data fedow-node
#
# The image installs only wheels found in docker/wheels/ (the project's and its dependencies',
# built on the host by scripts/docker-image.sh): no compiler and no package index are needed
# inside the build, and the host's pip settings (index, proxy, certificates) stay on the host.
# A card reader is served by the host's pcscd: add -v /run/pcscd:/run/pcscd and
# FEDOW_READER_ENABLED=true. See docs/install.md.

# --- what both stages share: Debian's Python and the C libraries the compiled wheels link to
FROM debian:bookworm-slim AS python
ENV DEBIAN_FRONTEND=noninteractive \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# libgmp10: libp2p's fastecdsa; libpcsclite1: pyscard (the reader's pcscd is the host's)
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 libgmp10 libpcsclite1 \
    && rm -rf /var/lib/apt/lists/*

# --- build: the virtual environment from the wheels. Dependencies and project are installed apart
# (the project under /opt/project) so that a code change rebuilds and copies only the project's
# small layer. pip runs from Debian's pip wheel: the image's environment gets no pip of its own.
FROM python AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv --without-pip /opt/fedow-node \
    && printf '#!/bin/sh\nexec /opt/fedow-node/bin/python %s/pip "$@"\n' /usr/share/python-wheels/pip-*.whl \
        > /usr/local/bin/venv-pip \
    && chmod +x /usr/local/bin/venv-pip
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INDEX=1
COPY docker/wheels/deps/ /wheels/deps/
RUN venv-pip install -q /wheels/deps/*.whl
COPY docker/wheels/project/ /wheels/project/
RUN test -n "$(ls /wheels/project/fedow_node-*.whl 2>/dev/null)" \
        || { echo "no wheels in docker/wheels/: build the image with scripts/docker-image.sh" >&2; exit 1; } \
    && venv-pip install -q --no-deps --prefix /opt/project \
        /wheels/project/fedow_node-*.whl

# --- the image: Python, the libraries and the virtual environment, nothing else
FROM python
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin fedow \
    && mkdir -p /data \
    && chown fedow:fedow /data
COPY --from=build /opt/fedow-node /opt/fedow-node
COPY --from=build /opt/project/ /opt/fedow-node/
ENV PATH=/opt/fedow-node/bin:$PATH
USER fedow
WORKDIR /data
VOLUME ["/data"]
# p2p (libp2p TCP), POS HTTP API, Prometheus metrics
EXPOSE 26656 8442 9442
# healthy = the node's own API answers /v1/status (the [api] bind of the home's config.toml)
HEALTHCHECK --interval=10s --timeout=8s --start-period=60s --retries=3 \
    CMD ["fedow-node", "status", "--home", "/data"]
ENTRYPOINT ["fedow-node"]
CMD ["run", "--home", "/data"]

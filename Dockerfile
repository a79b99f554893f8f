# fedow-node: one validator / venue node per container.
#   docker build -t fedow-node .
#   docker run --rm -v fedow-data:/data fedow-node init --home /data --validator \
#       --listen /ip4/0.0.0.0/tcp/26656 --api 0.0.0.0:8442
#   (copy the chain's genesis.json into the volume, then)
#   docker run -d -v fedow-data:/data -p 26656:26656 -p 127.0.0.1:8442:8442 fedow-node
# A card reader is served by the host's pcscd: add -v /run/pcscd:/run/pcscd and
# FEDOW_READER_ENABLED=true. See docs/configuration.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gcc + libgmp-dev build libp2p's fastecdsa; libpcsclite-dev builds pyscard; pcscd serves readers.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libgmp-dev libpcsclite-dev pcscd \
    && rm -rf /var/lib/apt/lists/*

COPY . /src
RUN pip install "/src[reader]" && rm -rf /src

RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin fedow \
    && mkdir -p /data \
    && chown fedow:fedow /data

USER fedow
WORKDIR /data
VOLUME ["/data"]
# p2p (libp2p TCP), POS HTTP API, Prometheus metrics
EXPOSE 26656 8442 9442

ENTRYPOINT ["fedow-node"]
CMD ["run", "--home", "/data"]

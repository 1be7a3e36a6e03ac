# One image for every wapipe service; the command picks the service:
#   docker run wapipe:latest run guardrails        (ENTRYPOINT is the `wapipe` CLI)
# Stage 1 builds wheels for wapipe and every dependency (compilers stay here);
# stage 2 installs only those wheels on a slim base and runs as an unprivileged user.

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Some dependencies (cassandra-driver on a few platforms) only ship sources.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libev-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY services ./services
COPY wapipe ./wapipe
COPY wapipe_tools ./wapipe_tools
RUN pip wheel --wheel-dir /wheels .

FROM python:${PYTHON_VERSION}-slim AS runtime
ARG UID=10001
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WAPIPE_LOG_FORMAT=json \
    WAPIPE_TENANTS_DIR=/app/config/tenants \
    HOME=/tmp
RUN apt-get update \
 && apt-get install -y --no-install-recommends libev4 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid ${UID} wapipe \
 && useradd --system --uid ${UID} --gid wapipe --home-dir /app --no-create-home --shell /usr/sbin/nologin wapipe
COPY --from=builder /wheels /wheels
RUN pip install --no-index --find-links /wheels wapipe && rm -rf /wheels
WORKDIR /app
# Tenant knowledge baked in as a default; Kubernetes mounts the ConfigMap over it.
COPY config ./config
# Files stay owned by root (read-only for the service); only /tmp is writable, which
# matches the read-only root filesystem the Kubernetes manifests enforce.
USER ${UID}:${UID}
EXPOSE 8080 8081 9101 9102 9103 9104 9105
ENTRYPOINT ["wapipe"]
CMD ["run", "ingress"]

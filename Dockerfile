# One image for every wapipe service; the command picks the service:
#   docker run wapipe:latest run guardrails        (ENTRYPOINT is the `wapipe` CLI)
# Stage 1 installs the runtime dependencies from requirements.lock into a virtualenv, every file checked against
# its sha256 (pip --require-hashes), then wapipe itself without resolving anything (compilers stay here);
# stage 2 copies that virtualenv onto a slim base and runs as an unprivileged user.
# The lock holds the production set only: the local stack's broker and redis-server (extra `local`) stay out.
# Regenerate both lock files with `make lock` after changing pyproject's dependencies or build-system.
# The base image is named by tag; pin it by digest with
#   docker build --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<digest> .
# (docs/security.md, "Known limits", shows how to read the digest). Keep the Python version of the lock.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Some dependencies (cassandra-driver on a few platforms) only ship sources.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential libev-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies before the code, so a code change reuses this layer.
COPY requirements.lock requirements-build.lock ./
RUN pip install --require-hashes -r requirements-build.lock \
 && python -m venv /opt/wapipe \
 && /opt/wapipe/bin/pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY services ./services
COPY wapipe ./wapipe
COPY wapipe_tools ./wapipe_tools
# wapipe itself: built with the locked setuptools (no build isolation, so nothing unlocked is fetched) and
# installed without dependencies (the lock is the whole set); pip check proves the set is complete.
RUN pip wheel --no-deps --no-build-isolation --wheel-dir /dist . \
 && /opt/wapipe/bin/pip install --no-deps --no-index /dist/*.whl \
 && /opt/wapipe/bin/pip check

FROM ${PYTHON_IMAGE} AS runtime
ARG UID=10001
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/wapipe/bin:$PATH \
    WAPIPE_LOG_FORMAT=json \
    WAPIPE_TENANTS_DIR=/app/config/tenants \
    HOME=/tmp
# Tesseract reads the text in customers' photos (the media stage); the Whisper model is not in the image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libev4 tesseract-ocr tesseract-ocr-spa tesseract-ocr-eng \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid ${UID} wapipe \
 && useradd --system --uid ${UID} --gid wapipe --home-dir /app --no-create-home --shell /usr/sbin/nologin wapipe
# Nothing is downloaded or compiled here: the virtualenv comes whole from the builder.
COPY --from=builder /opt/wapipe /opt/wapipe
WORKDIR /app
# Tenant knowledge baked in as a default; Kubernetes mounts the ConfigMap over it.
COPY config ./config
# Files stay owned by root (read-only for the service); only /tmp is writable, which
# matches the read-only root filesystem the Kubernetes manifests enforce.
USER ${UID}:${UID}
EXPOSE 8080 8081 9101 9102 9103 9104 9105 9106
ENTRYPOINT ["wapipe"]
CMD ["run", "ingress"]

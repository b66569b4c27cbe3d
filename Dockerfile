# syntax=docker/dockerfile:1
#
# One image for every eduhub service. The service is chosen by the command:
#   docker run eduhub python -m services.records
# docker-compose.yml and deploy/k8s/ set the command per service; the default below is identity.
#
# Build from the repository root:  docker build -t eduhub:local .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HTTP_PORT=8000

# Fixed numeric ids so Kubernetes can check runAsNonRoot and file ownership is predictable.
RUN groupadd --system --gid 10001 eduhub \
    && useradd --system --uid 10001 --gid eduhub --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin eduhub

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# Then the project itself. The sources stay in /app (the working directory, so
# `python -m services.<name>` imports them, data files such as migrations included);
# installing the package as well provides the `eduhub` console script.
COPY shared/ shared/
COPY services/ services/
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir --no-deps . \
    && rm -rf build ./*.egg-info

USER 10001:10001

EXPOSE 8000

# Liveness only (/healthz): readiness (/readyz: database and broker) is for orchestrators.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('HTTP_PORT', '8000') + '/healthz', timeout=4)"]

STOPSIGNAL SIGTERM

CMD ["python", "-m", "services.identity"]

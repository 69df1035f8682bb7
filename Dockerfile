# CompyMac RX: one image for the app (`reflex run`) and the Celery workers.
#
# BASE is the official Python image for users. The compose tests (compose.test.yml) build the
# same file FROM a Debian made locally with debootstrap, because no image registry is reachable
# there: the steps below therefore install Python from Debian when the base has none.
ARG BASE=python:3.11-slim-bookworm
FROM ${BASE}

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    DEBIAN_FRONTEND=noninteractive \
    # The system bundle, which update-ca-certificates below extends with docker/ca/*.crt (a
    # build host behind a TLS-inspecting proxy puts its CA there; empty for everyone else).
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    PATH=/opt/venv/bin:$PATH \
    DATA_DIR=/data

COPY docker/ca/ /usr/local/share/ca-certificates/extra/
# bubblewrap sandboxes agent commands; bun (through npm) builds the Reflex frontend.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates bubblewrap nodejs npm unzip \
    && update-ca-certificates >/dev/null \
    && if ! python3 -c 'import ensurepip' 2>/dev/null; then \
        apt-get install -y --no-install-recommends python3 python3-venv; fi \
    && python3 -m venv /opt/venv \
    && npm install -g --no-audit --no-fund bun@1 \
    && rm -rf /var/lib/apt/lists/* /root/.npm

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown app:app /app /data
COPY --chown=app:app . .
USER app
# The frontend is built here, once, never at a container's start: every replica serves this one
# build (SERVE_FRONTEND_BUILD below). The pages open their WebSocket at PUBLIC_URL, which the
# build bakes in: docker-compose.yml passes it as a build argument, and the app refuses to
# start under another PUBLIC_URL (rebuild then).
ARG PUBLIC_URL=http://localhost:3000
RUN PUBLIC_URL="$PUBLIC_URL" REFLEX_API_URL="$PUBLIC_URL" \
    reflex export --frontend-only --no-zip --env prod --loglevel warning \
    && rm -rf .web/node_modules/.cache

# `reflex run --env prod` serves the backend only (REFLEX_BACKEND_ONLY, the same as
# --backend-only) and the app mounts the build above (compymac_rx/http/frontend.py).
ENV REFLEX_BACKEND_ONLY=true \
    SERVE_FRONTEND_BUILD=true \
    PUBLIC_URL=$PUBLIC_URL \
    REFLEX_API_URL=$PUBLIC_URL
EXPOSE 3000
# The app: migrate, then serve the frontend, /_event and the HTTP routes on one port.
CMD ["sh", "-c", "alembic upgrade head && python -m compymac_rx.accounts.bootstrap && exec reflex run --env prod --backend-port ${PORT:-3000}"]

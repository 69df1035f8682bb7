# CompyMac RX: one image for the app (`reflex run`) and the Celery workers (`make worker`).
# Not built in this repository's CI (no Docker engine there); tests/ops/test_compose.py checks
# docker-compose.yml against the app's settings, and the same topology runs natively in
# tests/integration/test_topology.py.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    REFLEX_USE_SYSTEM_BUN=1 \
    REFLEX_TELEMETRY_ENABLED=false \
    DATA_DIR=/data

# bubblewrap sandboxes agent commands; bun (through npm) builds the Reflex frontend.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap nodejs npm make \
    && npm install -g bun@1 \
    && rm -rf /var/lib/apt/lists/* /root/.npm

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
RUN useradd --create-home --uid 1000 app && mkdir -p /data && chown -R app:app /app /data
USER app

EXPOSE 3000
# The app: migrate, then serve frontend, /_event and the HTTP routes on one port.
CMD ["sh", "-c", "alembic upgrade head && python -m compymac_rx.accounts.bootstrap && exec reflex run --env prod --single-port --frontend-port ${PORT:-3000} --backend-port ${PORT:-3000}"]

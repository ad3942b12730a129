# syntax=docker/dockerfile:1
# Handoff's image: one image for every process (web, worker, beat, migrate); compose.yaml
# says which command each runs. README, "Deploying".

# --- build: the locked dependencies in a virtualenv ---------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# Every package pinned and checked against its hash: the image holds what the lock says.
RUN /opt/venv/bin/pip install --require-hashes -r /tmp/requirements.lock

# --- runtime: the app, as a user without privileges -------------------------------
FROM python:3.11-slim
# Production settings by default. The broker and cache folders are used only without
# REDIS_URL (a one-off `docker run … manage.py check --deploy`): /tmp, where the user may write.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=handoff.settings \
    DEBUG=0 \
    MEDIA_ROOT=/data/media \
    STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    HANDOFF_BROKER_DIR=/tmp/handoff-broker \
    HANDOFF_CACHE_DIR=/tmp/handoff-cache
RUN groupadd --system --gid 10001 handoff \
    && useradd --system --uid 10001 --gid handoff --home-dir /app --shell /usr/sbin/nologin handoff \
    && mkdir -p /data/media \
    && chown handoff:handoff /data/media
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . /app
# Static files are collected into the image with production settings. The secret key
# below exists only for this step (the settings refuse DEBUG=0 without one); it is not
# an ENV, so it is not in the image: the container gets its own from the environment.
RUN SECRET_KEY=collectstatic-only-never-used-at-runtime HANDOFF_BROKER_DIR=/tmp/build-broker \
        python manage.py collectstatic --noinput -v 0 \
    && rm -rf /tmp/build-broker \
    && python -m compileall -q /app/handoff /app/accounts
USER handoff
EXPOSE 8000
# Alive while the web process answers /health/ at all (503 means a dependency is down,
# which restarting this container would not mend).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "deploy/healthcheck.py"]
CMD ["gunicorn", "handoff.wsgi", "-c", "gunicorn.conf.py"]

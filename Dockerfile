# syntax=docker/dockerfile:1
# One image for every Recrue process: the API, the migrations, the Celery workers and beat.
# docker-compose.yml picks the process with its `command` (`recrue api`, `recrue worker notifier`, ...).

# --- build: install the project and its dependencies into a virtualenv -------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# .dockerignore keeps .venv, var/, .git and the caches out of the context.
COPY . .
RUN pip install . && recrue --help >/dev/null

# --- runtime ------------------------------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    VAR_DIR=/app/var

RUN groupadd --system --gid 10001 recrue \
    && useradd --system --uid 10001 --gid recrue --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin recrue

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
RUN mkdir -p /app/var && chown -R recrue:recrue /app

USER recrue

EXPOSE 8000

# `recrue api` binds 127.0.0.1 by default: listen on all interfaces so the published port works.
CMD ["recrue", "api", "--host", "0.0.0.0"]

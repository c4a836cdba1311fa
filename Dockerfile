# syntax=docker/dockerfile:1
# soakctl + mmbot in one image. Build stage: a virtualenv with the project installed; runtime
# stage: that virtualenv on a slim Python, run as an unprivileged user. No secret is ever
# copied or built in: credentials arrive at run time as Docker secrets in /run/secrets.
# The entry point is soakctl; `docker run IMAGE run --profile bot-sim` soaks the bundled bot,
# and compose.yaml runs the bot and the simulator from this image with `entrypoint: [mmbot]`.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY soakctl ./soakctl
COPY checks ./checks
COPY bot ./bot
COPY workflows ./workflows
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-compile .

FROM python:3.11-slim
LABEL org.opencontainers.image.title="soakctl" \
      org.opencontainers.image.description="Soak a long-running process and judge its leaks"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN groupadd --system --gid 10001 soak \
    && useradd --system --uid 10001 --gid soak --home-dir /home/soak --create-home soak \
    && mkdir -p /data \
    && chown soak:soak /data
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /home/soak
# 9464: mmbot metrics and /healthz; 8900: mmbot sim; 9108: soakctl run --metrics-listen.
EXPOSE 9464 8900 9108
# Healthy while the bot is connected and quoting (mmbot's /healthz answers 200, else 503).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4)"]
ENTRYPOINT ["soakctl"]
CMD ["--help"]

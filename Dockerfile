# The connector as a container image; docs/deployment.md shows how to run it.
#
#   docker build -t github-chatgpt-connector --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# With no GitHub credentials `connector serve` starts the sandbox (an embedded GitHub double), so a
# production container must be given them, as files rather than variables where possible:
#
#   docker run -d -p 127.0.0.1:8080:8080 -v "$PWD/secrets:/run/secrets:ro" \
#     -e GITHUB_TOKEN_FILE=/run/secrets/github_token -e CONNECTOR_API_KEY_FILE=/run/secrets/connector_api_key \
#     -e CONNECTOR_ALLOWED_REPOS=octo-org/webapp -e PUBLIC_BASE_URL=https://connector.example.com \
#     github-chatgpt-connector
#
# and `docker run ... github-chatgpt-connector connector check` fails while they are missing.

FROM python:3.11-slim AS builder

# Only what the wheel is built from, so that editing tests or docs does not invalidate the
# dependency layer. connector/openapi.yaml links to ../openapi.yaml: the link is copied as a link
# and needs its target next to connector/.
WORKDIR /src
COPY pyproject.toml README.md openapi.yaml ./
COPY connector/ connector/

# Byte-code is compiled here (pip's default) because the final stage's user cannot write to the
# venv and PYTHONDONTWRITEBYTECODE would otherwise make every start compile the package again.
# pip and setuptools leave the venv afterwards: nothing imports them at run time.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && /opt/venv/bin/python -m pip uninstall --yes pip setuptools


# The same image as the builder: the venv's interpreter is a link to /usr/local/bin/python3.11.
FROM python:3.11-slim

ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="github-chatgpt-connector" \
      org.opencontainers.image.description="A spec-first HTTP connector that lets ChatGPT (or any assistant) act on GitHub safely." \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# A fixed uid/gid so that secret files and volumes can be owned by it on the host, and numeric in
# USER so that Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 connector \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin connector

COPY --from=builder /opt/venv /opt/venv

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

USER 10001:10001
EXPOSE 8080

# uvicorn stops accepting on SIGTERM and lets in-flight requests finish (up to ~30 s), which is
# more than `docker stop` waits by default: stop with `-t 35` (compose: stop_grace_period: 35s;
# Kubernetes: terminationGracePeriodSeconds: 35).
STOPSIGNAL SIGTERM

# Liveness only (/health, not /health/ready), so that a Redis or GitHub outage does not get every
# container restarted. slim has no curl; the empty ProxyHandler keeps an HTTP_PROXY meant for
# GitHub from intercepting the loopback call. A CMD override with another --port needs its own
# --health-cmd (or --no-healthcheck): this one always probes 8080.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:8080/health', timeout=4)"]

# Workers are a CMD argument: `docker run ... github-chatgpt-connector connector serve --host 0.0.0.0
# --port 8080 --workers 4` (with CONNECTOR_REDIS_URL, see docs/deployment.md).
CMD ["connector", "serve", "--host", "0.0.0.0", "--port", "8080"]

# SmartSupport portal / worker image: the wheel and its runtime dependencies only (no test or
# dev extras), run as a non-root user. Build the wheel first:
#   python -m pip wheel --no-deps -w dist .  &&  docker build -t smartsupport .
# The same image runs every role (compose.yaml): `smartsupport db upgrade`, `smartsupport run
# --no-migrate --address 0.0.0.0`, `smartsupport worker`, `smartsupport backup FILE`.
FROM python:3.11-slim-bookworm

# pg_dump/pg_restore for `smartsupport backup` / `restore`: they must be at least the server's
# major version (PostgreSQL 16 in compose.yaml), so they come from the PostgreSQL project's
# Debian repository (bookworm's own client is 15).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl gnupg \
    && curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc \
       | gpg --dearmor -o /usr/share/keyrings/postgresql.gpg \
    && echo "deb [signed-by=/usr/share/keyrings/postgresql.gpg] http://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
       > /etc/apt/sources.list.d/pgdg.list \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-16 \
    && apt-get purge -y curl gnupg && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*

COPY dist/smartsupport-*.whl /tmp/
RUN pip install --no-cache-dir /tmp/smartsupport-*.whl && rm /tmp/smartsupport-*.whl

RUN useradd --create-home --uid 10001 smartsupport
USER smartsupport
WORKDIR /home/smartsupport
ENV SMARTSUPPORT_DATA_DIR=/home/smartsupport/data \
    PYTHONUNBUFFERED=1

EXPOSE 8501
HEALTHCHECK --interval=10s --timeout=5s CMD ["smartsupport", "health"]
CMD ["smartsupport", "run", "--no-migrate", "--address", "0.0.0.0", "--port", "8501"]

# Build the release binary, then run it on a slim image with the config folder.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p uketsuke

FROM debian:bookworm-slim
# pg_dump / pg_restore for `uketsuke backup` and `restore` on PostgreSQL (version 15,
# as in docker-compose.yml; a newer server needs a newer client).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --home /app uketsuke && mkdir -p /app/data && chown uketsuke /app/data
WORKDIR /app
COPY --from=build /src/target/release/uketsuke /usr/local/bin/uketsuke
COPY config /app/config
USER uketsuke
EXPOSE 8080
ENTRYPOINT ["uketsuke"]
CMD ["serve"]

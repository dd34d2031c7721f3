# syntax=docker/dockerfile:1
# Build stage: dependencies are built in their own layer, cached apart from the source.
FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY benches/ benches/
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked --bin wirefeed \
    && rm -rf src
COPY src/ src/
COPY templates/ templates/
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin wirefeed

# Runtime stage: a slim Debian with only the binary, the seed and a non-root user.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates=* curl=* \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin wirefeed \
    && mkdir -p /data /app \
    && chown wirefeed /data
COPY --from=build /src/target/release/wirefeed /usr/local/bin/wirefeed
COPY seed/ /app/seed/
WORKDIR /app
ENV WIREFEED_BIND=0.0.0.0:8080 \
    WIREFEED_DATA_DIR=/data \
    WIREFEED_SEED_DIR=/app/seed
USER 10001
VOLUME /data
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["wirefeed"]
CMD ["serve"]

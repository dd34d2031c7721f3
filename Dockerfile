# wirefeed in a container: `docker build -t wirefeed .`, then
# `docker run -p 8080:8080 -v wirefeed-data:/data wirefeed` (README: "Run in a container").

# Build stage. Dependencies are compiled first against a stub crate, in a
# layer that only Cargo.toml, Cargo.lock, benches/ (declared in Cargo.toml) and
# vendor/ invalidate; a source change rebuilds only wirefeed itself.
FROM rust:1-slim-bookworm AS build
# jemalloc (the server's allocator, src/memory.rs) is built from C by
# tikv-jemalloc-sys with configure and make; the slim image has gcc, not make.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
# Cargo.toml keeps line tables in release builds for profiling; the image does not need them.
ENV CARGO_PROFILE_RELEASE_DEBUG=0
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY benches/ benches/
# sled, patched (vendor/sled/PATCHES.md), is built from here.
COPY vendor/ vendor/
RUN mkdir src && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && cargo build --release --locked --bin wirefeed \
    && rm -rf src
# askama reads templates/ and its escaper settings (askama.toml) at compile time.
COPY askama.toml ./
COPY templates/ templates/
COPY src/ src/
# The stub's artifacts may be newer than the copied sources: make cargo rebuild.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin wirefeed \
    && cp target/release/wirefeed /usr/local/bin/wirefeed

# Runtime stage: the same Debian the binary was linked on, the binary, the
# seed stories and a non-root user. No curl: `wirefeed healthcheck` probes.
FROM debian:bookworm-slim
RUN groupadd --system --gid 10001 wirefeed \
    && useradd --system --uid 10001 --gid wirefeed --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin wirefeed \
    && mkdir -p /data /app \
    && chown wirefeed:wirefeed /data
COPY --from=build /usr/local/bin/wirefeed /usr/local/bin/wirefeed
COPY seed/ /app/seed/
WORKDIR /app
ENV WIREFEED_BIND=0.0.0.0:8080 \
    WIREFEED_DATA_DIR=/data \
    WIREFEED_SEED_DIR=/app/seed \
    RUST_LOG=info
USER 10001:10001
VOLUME /data
EXPOSE 8080
# wirefeed stops accepting, finishes requests in flight (at most 8 s, under
# docker stop's 10 s) and flushes the store on SIGTERM.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["wirefeed", "healthcheck"]
ENTRYPOINT ["wirefeed"]
CMD ["serve"]

# loadgen, verify and check, for the compose profile `verify` (load until
# the split is decided, and its verdict). Build from the repository root.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p loadgen -p verify -p rollout \
    && cp target/release/loadgen target/release/verify target/release/check /usr/local/bin/

FROM debian:bookworm-slim
COPY --from=build /usr/local/bin/loadgen /usr/local/bin/verify /usr/local/bin/check /usr/local/bin/
RUN useradd --uid 10001 --create-home weighbridge
USER 10001
WORKDIR /home/weighbridge
# A one-shot job, not a server.
HEALTHCHECK NONE
ENTRYPOINT ["/bin/sh", "-c"]

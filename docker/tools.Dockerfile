# loadgen, verify and check, for the compose profile `verify` (load until
# the split is decided, and its verdict). Build from the repository root.
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
# The same build as backend/Dockerfile's (see there): compiled once for all.
RUN --mount=type=cache,id=weighbridge-cargo-home,target=/cargo-home \
    --mount=type=cache,id=weighbridge-target,target=/src/target \
    CARGO_HOME=/cargo-home cargo build --release --locked -p backend -p lambda -p loadgen -p verify -p rollout \
    && cp target/release/loadgen target/release/verify target/release/check /usr/local/bin/

# The build stage's Debian release: the same glibc.
FROM ${DEBIAN_IMAGE}
COPY --from=build /usr/local/bin/loadgen /usr/local/bin/verify /usr/local/bin/check /usr/local/bin/
RUN useradd --uid 10001 --create-home weighbridge
USER 10001
WORKDIR /home/weighbridge
# A one-shot job, not a server.
HEALTHCHECK NONE
ENTRYPOINT ["/bin/sh", "-c"]

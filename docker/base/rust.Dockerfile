# Local stand-in for rust:1.95-slim-bookworm: Debian bookworm, a C toolchain
# (aws-lc-sys and ring compile C), and this machine's Rust toolchain, which
# docker/base/build-images copies into the build context (rust/). Same
# layout as the official image: CARGO_HOME=/usr/local/cargo on PATH.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY rust/ /usr/local/rust/
ENV CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:/usr/local/rust/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /usr/local/cargo/bin && rustc --version && cargo --version

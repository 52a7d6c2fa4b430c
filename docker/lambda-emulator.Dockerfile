# A real Lambda runtime emulator for docker compose: cargo-lambda's
# `watch --only-lambda-apis` serves the Runtime API to the `lambda` service
# and function URLs over HTTP at /lambda-url/<function>/ to the router.
# It builds nothing, but reads `cargo metadata` of a stand-in project: the
# image carries cargo alone, not the Rust toolchain, and cargo-lambda
# without its zig dependency (zig only cross-links Lambda zips).
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${RUST_IMAGE} AS cargo
RUN cp "$(rustc --print sysroot)/bin/cargo" /cargo

# The build stage's Debian release: the same glibc for cargo.
FROM ${DEBIAN_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv=3.11.2-1+b1 \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/cargo-lambda \
    && /opt/cargo-lambda/bin/pip install --no-cache-dir --disable-pip-version-check -q --no-deps cargo-lambda==1.9.2
COPY --from=cargo /cargo /usr/local/bin/cargo
ENV PATH=/opt/cargo-lambda/bin:$PATH
# cargo-lambda wants a Cargo project to stand in; an empty one will do.
WORKDIR /emulator
RUN mkdir src && printf 'fn main() {}\n' > src/main.rs \
    && printf '[package]\nname = "emulator"\nversion = "0.0.0"\nedition = "2021"\n' > Cargo.toml \
    && useradd --uid 10001 --no-create-home emulator && chown -R emulator /emulator
USER 10001
ENV CARGO_HOME=/tmp/cargo
EXPOSE 9000
HEALTHCHECK --interval=10s --timeout=3s CMD ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 9000), 2)"]
CMD ["cargo", "lambda", "watch", "--only-lambda-apis", "-A", "0.0.0.0", "-P", "9000"]

# A real Lambda runtime emulator for docker compose: cargo-lambda's
# `watch --only-lambda-apis` serves the Runtime API to the `lambda` service
# and function URLs over HTTP at /lambda-url/<function>/ to the router.
FROM rust:1.95-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-pip=23.0.1+dfsg-1 \
    && rm -rf /var/lib/apt/lists/* \
    && pip3 install --no-cache-dir --break-system-packages cargo-lambda==1.9.2
# cargo-lambda wants a Cargo project to stand in; an empty one will do.
WORKDIR /emulator
RUN mkdir src && printf 'fn main() {}\n' > src/main.rs \
    && printf '[package]\nname = "emulator"\nversion = "0.0.0"\nedition = "2021"\n' > Cargo.toml \
    && useradd --uid 10001 --no-create-home emulator && chown -R emulator /emulator
USER 10001
EXPOSE 9000
HEALTHCHECK --interval=10s --timeout=3s CMD ["python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 9000), 2)"]
CMD ["cargo", "lambda", "watch", "--only-lambda-apis", "-A", "0.0.0.0", "-P", "9000"]

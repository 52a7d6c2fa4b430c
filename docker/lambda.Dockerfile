# The Lambda function as a local process for docker compose: the same
# binary that goes into bootstrap.zip, talking to the runtime emulator.
# Build from the repository root: docker build -f docker/lambda.Dockerfile .
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG DISTROLESS_IMAGE=gcr.io/distroless/cc-debian12:nonroot

FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
# The same build as backend/Dockerfile's (see there): compiled once for all.
RUN --mount=type=cache,id=weighbridge-cargo-home,target=/cargo-home \
    --mount=type=cache,id=weighbridge-target,target=/src/target \
    CARGO_HOME=/cargo-home cargo build --release --locked -p backend -p lambda -p loadgen -p verify -p rollout \
    && cp target/release/lambda /lambda

FROM ${DISTROLESS_IMAGE}
COPY --from=build /lambda /usr/local/bin/lambda
ENV AWS_LAMBDA_FUNCTION_NAME=_ \
    AWS_LAMBDA_FUNCTION_VERSION=1 \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 \
    AWS_LAMBDA_LOG_STREAM_NAME=local/lambda-1 \
    AWS_LAMBDA_RUNTIME_API=http://lambda-emulator:9000/.rt
USER 65532:65532
# A Lambda function serves no port of its own: it polls the Runtime API.
# The router's health check reaches it through the emulator.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/lambda"]

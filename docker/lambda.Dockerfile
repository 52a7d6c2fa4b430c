# The Lambda function as a local process for docker compose: the same
# binary that goes into bootstrap.zip, talking to the runtime emulator.
# Build from the repository root: docker build -f docker/lambda.Dockerfile .
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p lambda \
    && cp target/release/lambda /lambda

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /lambda /usr/local/bin/lambda
ENV AWS_LAMBDA_FUNCTION_NAME=_ \
    AWS_LAMBDA_FUNCTION_VERSION=1 \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512 \
    AWS_LAMBDA_LOG_STREAM_NAME=local/lambda-1 \
    AWS_LAMBDA_RUNTIME_API=http://lambda-emulator:9000/.rt
USER 65532:65532
# A Lambda function serves no port of its own: it polls the Runtime API.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/lambda"]

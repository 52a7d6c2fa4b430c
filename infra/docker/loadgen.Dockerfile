# The loadgen image for the ECS loadgen task (infra/modules/loadgen): the
# loadgen binary plus the AWS CLI to upload its report.
# Build from the repository root:
#   docker build -f infra/docker/loadgen.Dockerfile -t weighbridge-loadgen .

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p loadgen \
    && cp target/release/loadgen /loadgen

# A batch task, not a server: it runs loadgen once and exits, so there is
# nothing for a health check to probe.
#checkov:skip=CKV_DOCKER_2:Batch job that exits when the run ends; ECS tracks it by exit code, a HEALTHCHECK has nothing to probe.
FROM public.ecr.aws/aws-cli/aws-cli:2.27.50
COPY --from=build /loadgen /usr/local/bin/loadgen
COPY infra/docker/loadgen-task.sh /usr/local/bin/loadgen-task
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/loadgen-task"]

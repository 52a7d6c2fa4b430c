# The loadgen image for the ECS loadgen task (infra/modules/loadgen): the
# loadgen binary plus the AWS CLI to upload its report.
# Build from the repository root:
#   docker build -f infra/docker/loadgen.Dockerfile -t weighbridge-loadgen .
# Base images are build arguments (official images by default).
ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG DEBIAN_IMAGE=debian:bookworm-slim

# checkov:skip=CKV_DOCKER_7: the base is a build argument whose default above carries a version tag
FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
# The same build as backend/Dockerfile's (see there): compiled once for all.
RUN --mount=type=cache,id=weighbridge-cargo-home,target=/cargo-home \
    --mount=type=cache,id=weighbridge-target,target=/src/target \
    CARGO_HOME=/cargo-home cargo build --release --locked -p backend -p lambda -p loadgen -p verify -p rollout \
    && cp target/release/loadgen /loadgen

# The runtime is the build stage's Debian release, so loadgen finds the
# glibc it was linked against (2.36; Amazon Linux 2's aws-cli image has
# 2.26, where it cannot start). The AWS CLI comes from Debian.
# A batch task, not a server: it runs loadgen once and exits, so there is
# nothing for a health check to probe.
#checkov:skip=CKV_DOCKER_2:Batch job that exits when the run ends; ECS tracks it by exit code, a HEALTHCHECK has nothing to probe.
FROM ${DEBIAN_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends awscli ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 nonroot \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /work --shell /usr/sbin/nologin nonroot \
    && mkdir /work && chown 65532:65532 /work
COPY --from=build /loadgen /usr/local/bin/loadgen
COPY infra/docker/loadgen-task.sh /usr/local/bin/loadgen-task
USER 65532:65532
# The task's scratch volume. Fargate creates a bind mount root-owned unless
# the image has the directory: then it copies it, owner included, so user
# 65532 can write its report there (with a read-only root file system).
VOLUME ["/work"]
ENTRYPOINT ["/usr/local/bin/loadgen-task"]

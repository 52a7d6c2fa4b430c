# Local stand-in for gcr.io/distroless/cc-debian12:nonroot: no shell, no
# package manager; glibc, libgcc, libstdc++, OpenSSL, CA certificates, time
# zones, and the `nonroot` user (65532). Files are taken from bookworm's own
# packages, as distroless does.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE} AS files
WORKDIR /pkgs
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get download base-files netbase tzdata ca-certificates libc6 libgcc-s1 libstdc++6 libgomp1 libssl3 \
    && mkdir /rootfs \
    && for deb in ./*.deb; do dpkg-deb -x "$deb" /rootfs; done \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ca-certificates.crt \
    && rm -rf /rootfs/usr/share/doc /rootfs/usr/share/man /rootfs/usr/share/lintian /rootfs/usr/share/locale \
    && printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >/rootfs/etc/passwd \
    && printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >/rootfs/etc/group \
    && mkdir -p /rootfs/tmp /rootfs/home/nonroot /rootfs/root \
    && chmod 1777 /rootfs/tmp && chown 65532:65532 /rootfs/home/nonroot && chmod 700 /rootfs/root \
    && rm -rf /var/lib/apt/lists/*

FROM scratch
COPY --from=files /rootfs/ /
USER 65532:65532
WORKDIR /home/nonroot

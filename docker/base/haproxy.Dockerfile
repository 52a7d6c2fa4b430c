# Local stand-in for haproxy:2.6: Debian bookworm's HAProxy package (the
# same 2.6 LTS series), laid out as the official image: configuration in
# /usr/local/etc/haproxy, user `haproxy` with uid and gid 99, haproxy on PATH.
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends 'haproxy=2.6.*' \
    && rm -rf /var/lib/apt/lists/* \
    && groupmod --gid 99 haproxy && usermod --uid 99 --gid 99 haproxy \
    && mkdir -p /usr/local/etc/haproxy /var/lib/haproxy /var/run/haproxy \
    && chown haproxy:haproxy /var/lib/haproxy /var/run/haproxy \
    && haproxy -v
USER 99:99
WORKDIR /var/lib/haproxy
STOPSIGNAL SIGUSR1
EXPOSE 8080
CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]

#!/bin/bash
# One loadgen ECS task: run loadgen, then upload the report (even a partial
# one, so verify sees the failure) to s3://$REPORT_BUCKET/$REPORT_PREFIX/$RUN_ID/.
set -uo pipefail
: "${URL:?URL is required}" "${RPS:?RPS is required}" "${DURATION:?DURATION is required}"
: "${REPORT_BUCKET:?REPORT_BUCKET is required}" "${RUN_ID:?RUN_ID is required}"
out=/work/report.json
worker="${HOSTNAME:-task}-$(cat /proc/sys/kernel/random/uuid)"
# AWS_ENDPOINT_URL: an S3 stand-in (moto in docker-compose.yml's `task`
# profile); the Debian AWS CLI predates its native support of the variable.
endpoint=()
[ -n "${AWS_ENDPOINT_URL:-}" ] && endpoint=(--endpoint-url "$AWS_ENDPOINT_URL")
if ! [ -w "${out%/*}" ]; then
  echo "${out%/*} is not writable by uid $(id -u): mount a volume there (the image's /work, owned by 65532, is copied to it)" >&2
  exit 1
fi

# LOADGEN_ARGS: extra flags, split on spaces (e.g. --path /host:8,/x:1).
# shellcheck disable=SC2086
loadgen --url "$URL" --rps "$RPS" --duration "$DURATION" --out "$out" ${LOADGEN_ARGS:-}
status=$?

if [ -s "$out" ]; then
  if ! aws "${endpoint[@]}" s3 cp --only-show-errors "$out" "s3://$REPORT_BUCKET/${REPORT_PREFIX:-reports}/$RUN_ID/$worker.json"; then
    echo "uploading the report failed" >&2
    status=1
  fi
else
  echo "loadgen wrote no report (exit $status)" >&2
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"

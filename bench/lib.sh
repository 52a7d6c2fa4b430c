# Helpers for the benchmark scripts. Source it.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

BENCH_PIDS=()
BENCH_TMP="$(mktemp -d)"
chmod 755 "$BENCH_TMP"  # nginx workers run unprivileged and must read it
bench_cleanup() {
  local pid
  for pid in "${BENCH_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${BENCH_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$BENCH_TMP"
}
trap bench_cleanup EXIT

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wait_http URL: waits up to 20 s for URL to answer.
wait_http() {
  local i
  for i in $(seq 1 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  wb_die "nothing answered at $1"
}

# The release backend binary, built if needed.
backend_bin() {
  (cd "$WB_ROOT" && cargo build --release -q -p backend) >&2
  echo "${CARGO_TARGET_DIR:-$WB_ROOT/target}/release/backend"
}

# start_backend PORT [ENV=VALUE...]: starts the release backend, records its PID.
start_backend() {
  local port="$1"; shift
  env PORT="$port" BIND=127.0.0.1 BASE_PATH=dev RUST_LOG=warn "$@" "$BACKEND_BIN" >"$BENCH_TMP/backend-$port.log" 2>&1 &
  BENCH_PIDS+=("$!")
  BACKEND_PID="$!"
  wait_http "http://127.0.0.1:$port/health"
}

# CPU seconds (user + system) used so far by PID.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); split($0, f, " "); printf "%.3f\n", (f[12] + f[13]) / hz }' "/proc/$1/stat"
}

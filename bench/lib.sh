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
backend_bin() { release_bin backend; }

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

# start_nginx PORT: nginx serving a small JSON file at /dev/host on 127.0.0.1:PORT,
# with as many workers as cores; its PID is recorded and stopped on exit.
start_nginx() {
  local port="$1" dir="$BENCH_TMP/nginx-$1"
  mkdir -p "$dir/www"
  # A static JSON body about the size of a /host answer.
  printf '{"message":"Request handled by backend at 2026-11-23T19:00:00.000000000Z","hostname":"bench","imageUri":"local","backend":"nginx","instance":"bench-1","version":"0.1.0"}' > "$dir/www/host"
  cat > "$dir/nginx.conf" <<CONF
worker_processes $(nproc);
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location = /dev/host { default_type application/json; add_header x-served-by nginx; add_header x-backend-host nginx-1; alias $dir/www/host; }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" &
  BENCH_PIDS+=("$!")
  wait_http "http://127.0.0.1:$port/dev/host"
}

# oha, installed once into the cache (cargo install is slow: never per run).
oha_bin() {
  local root="$WB_CACHE/tools"
  if [ ! -x "$root/bin/oha" ]; then
    wb_step "installing oha into $root (once; it takes a few minutes)" >&2
    cargo install oha --locked --quiet --root "$root" >&2
  fi
  echo "$root/bin/oha"
}

# The release binary NAME of this workspace, built if needed.
release_bin() {
  (cd "$WB_ROOT" && cargo build --release -q -p "$1") >&2
  echo "${CARGO_TARGET_DIR:-$WB_ROOT/target}/release/$1"
}

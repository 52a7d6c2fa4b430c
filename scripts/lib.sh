# Shared helpers for weighbridge's scripts. Source it; do not run it.
# Everything a script needs is installed here, or it says exactly what is missing.

WB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WB_CACHE="${WEIGHBRIDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/weighbridge}"
mkdir -p "$WB_CACHE"

wb_step() { printf '\n== %s\n' "$*"; }
wb_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly, through sudo, or says what to run.
wb_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else wb_die "needs root to run: $* (run it yourself, then retry)"
  fi
}

# wb_apt CMD:PACKAGE ... installs PACKAGE from Debian when CMD is missing.
wb_apt() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || wb_die "missing: ${missing[*]} (install them with your package manager)"
  wb_step "installing from apt: ${missing[*]} (a minute or so, once)"
  wb_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive wb_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# wb_venv NAME REQUIREMENTS [PIP FLAGS]: a virtualenv with the pinned
# REQUIREMENTS, cached under $WB_CACHE and keyed by the file's hash; its bin/
# goes first on PATH. A venv whose install did not finish is made again.
wb_venv() {
  local name="$1" req="$WB_ROOT/$2" key venv
  shift 2
  command -v python3 >/dev/null 2>&1 || wb_apt python3:python3
  key="$(sha256sum "$req" | cut -c1-12)"
  venv="$WB_CACHE/venv-$name-$key"
  if [ ! -f "$venv/.installed" ]; then
    wb_step "creating the $name Python virtualenv from ${req#"$WB_ROOT"/} (slow the first time, cached after): $venv"
    rm -rf "$venv"
    python3 -m venv "$venv" 2>/dev/null || { wb_apt dpkg:python3-venv; wb_root apt-get install -y -qq python3-venv >/dev/null; python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q --disable-pip-version-check "$@" -r "$req"
    touch "$venv/.installed"
  fi
  export PATH="$venv/bin:$PATH"
  WB_VENV="$venv"
}

# What the main job needs: cargo-lambda, for its Lambda runtime emulator
# (`cargo lambda watch`). Without its zig dependency: zig only cross-links
# the Lambda zip, which the demo does not build.
wb_python_demo() {
  wb_venv demo .ci/requirements-demo.txt --no-deps
  export CARGO_LAMBDA="${CARGO_LAMBDA:-$(command -v cargo-lambda)}"
}

# What the tests and checks need: moto_server, the infra and container
# checkers, zig for the Lambda zip. Needs wb_python_demo's cargo-lambda too.
wb_python_test() {
  wb_venv test .ci/requirements.txt
  export MOTO_SERVER="${MOTO_SERVER:-$(command -v moto_server)}"
  # cargo-lambda (from the demo venv) runs zig as `python -m ziglang`.
  export CARGO_ZIGBUILD_PYTHON_PATH="$WB_VENV/bin/python3"
}

wb_rust() {
  command -v cargo >/dev/null 2>&1 || wb_die "cargo not found: install Rust 1.95 or newer (https://rustup.rs), then retry"
  local v
  v="$(rustc --version | awk '{print $2}')"
  case "$v" in
    1.9[5-9]*|1.[1-9][0-9][0-9]*|[2-9].*) ;;
    *) wb_die "rustc $v is too old: weighbridge needs 1.95 or newer (rustup update)";;
  esac
}

# clippy and rustfmt, which only the tests use.
wb_rust_lints() {
  cargo clippy --version >/dev/null 2>&1 && cargo fmt --version >/dev/null 2>&1 && return 0
  command -v rustup >/dev/null 2>&1 || wb_die "clippy or rustfmt is missing: install them with your Rust toolchain"
  wb_step "adding the clippy and rustfmt components (once)"
  rustup component add clippy rustfmt
}

# wb_lambda_zip ARCH (x86_64 or arm64): builds the Lambda's bootstrap.zip with
# the size profile, as deployed (build output on stderr); prints its path.
wb_lambda_zip() {
  local arch="$1" flag="" dir="${CARGO_TARGET_DIR:-$WB_ROOT/target}/lambda-$1"
  [ "$arch" = arm64 ] && flag="--arm64"
  cargo lambda build --locked --profile lambda --config "$WB_ROOT/lambda/profile.toml" --features small \
    --output-format zip -p lambda $flag --lambda-dir "$dir" >&2
  echo "$dir/lambda/bootstrap.zip"
}

# Sourced by the scripts that drive a live server (conformance/api/run-sdk.sh and
# conformance/signin/run-clients.sh with pinned Python clients, tests/e2e/run.sh with
# chromium): the binary to run, a venv made from pins (rebuilt when they change), and a server
# on a fresh data folder and a free port, stopped (and its folder removed) when the script
# exits.

# The binary: CLOUDSSO_BIN, else the release build of the checkout at $1 (built if missing).
cloudsso_bin() {
  local root="$1" target="${CARGO_TARGET_DIR:-target}"
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  local bin="${CLOUDSSO_BIN:-$target/release/cloudsso}"
  if [ ! -x "$bin" ]; then
    (cd "$root" && cargo build --release --quiet)
  fi
  echo "$bin"
}

# pinned_venv DIR PIN...: a venv at DIR holding exactly these pins.
pinned_venv() {
  local venv="$1"
  shift
  if [ ! -f "$venv/.pins" ] || [ "$(cat "$venv/.pins")" != "$*" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
    echo "$*" > "$venv/.pins"
  fi
}

# start_server BIN: serves on 127.0.0.1 from a new folder; sets `work` (the folder, whose
# data/ holds bootstrap.json), `log`, `addr` and `server_pid`; exits 1 if it does not start.
start_server() {
  local bin="$1"
  work="$(mktemp -d)"
  server_pid=""
  trap stop_server EXIT
  log="$work/server.log"
  "$bin" serve --listen 127.0.0.1:0 --data "$work/data" > "$log" 2>&1 &
  server_pid=$!
  addr=""
  for _ in $(seq 1 200); do
    addr=$(sed -n 's/.*listen=\([^ ]*\).*/\1/p' "$log" | head -n1)
    if [ -n "$addr" ] && [ -f "$work/data/bootstrap.json" ]; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
    sleep 0.05
  done
  if [ -z "$addr" ] || [ ! -f "$work/data/bootstrap.json" ]; then
    echo "cloudsso did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  echo "cloudsso serving on $addr ($bin)"
}

stop_server() {
  if [ -n "${server_pid:-}" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
  rm -rf "${work:-}"
}

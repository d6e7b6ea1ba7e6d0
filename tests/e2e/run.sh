#!/usr/bin/env bash
# Browser end-to-end test of the user portal. Starts the release binary on a free port over a
# fresh data folder, sets up over the real APIs what an administrator and an IdP would (SCIM:
# the user `alice` with a password; management API through the `cloudsso` client subcommands:
# an account, an access configuration with a policy, alice's assignment, its provisioning),
# then drives Debian's chromium through `tests/e2e/portal.mjs` (playwright-core, no browser
# download) and stops the server. Screenshots go to target/e2e/.
#
#   tests/e2e/run.sh                 # the whole test
#   E2E_SETUP_ONLY=1 tests/e2e/run.sh  # start and set up, print what portal.mjs would get, stop
#
# Needs what tests/e2e/install.sh installs: chromium (/usr/lib/chromium/chromium or /usr/bin/chromium),
# curl, jq and playwright-core in e2e/node_modules; and node. CLOUDSSO_BIN: the binary (default
# ${CARGO_TARGET_DIR:-target}/release/cloudsso, built if missing). Exit status: non-zero when
# the server does not start, a setup call fails or the browser test fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
bin="${CLOUDSSO_BIN:-$target/release/cloudsso}"
shots="$root/target/e2e"

fail() {
  echo "e2e: $*" >&2
  exit 1
}

if [ ! -x "$bin" ]; then
  (cd "$root" && cargo build --release --quiet)
fi
for tool in node curl jq; do
  command -v "$tool" > /dev/null || fail "\`$tool\` is missing (tests/e2e/install.sh installs it)"
done
[ -d "$here/node_modules/playwright-core" ] || fail "playwright-core is missing (run tests/e2e/install.sh)"

work="$(mktemp -d)"
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2> /dev/null || true
    wait "$server_pid" 2> /dev/null || true
  fi
  server_pid=""
  rm -rf "$work"
}
trap stop_server EXIT

log="$work/server.log"
"$bin" serve --listen 127.0.0.1:0 --data "$work/data" > "$log" 2>&1 &
server_pid=$!
addr=""
for _ in $(seq 1 200); do
  addr=$(sed -n 's/.*listen=\([^ ]*\).*/\1/p' "$log" | head -n1)
  if [ -n "$addr" ] && [ -f "$work/data/bootstrap.json" ]; then break; fi
  if ! kill -0 "$server_pid" 2> /dev/null; then break; fi
  sleep 0.05
done
if [ -z "$addr" ] || [ ! -f "$work/data/bootstrap.json" ]; then
  cat "$log" >&2
  fail "cloudsso did not start"
fi
base="http://$addr"
echo "cloudsso serving on $base ($bin)"

# The management API through the client subcommands, with the bootstrap administrator.
export CLOUDSSO_CONFIG="$work/cli/config.json"
env -u CLOUDSSO_PROFILE "$bin" configure --from-bootstrap "$work/data/bootstrap.json" > /dev/null
api() {
  local out
  if ! out=$("$bin" "$@" --output json 2>&1); then
    fail "\`cloudsso $*\` failed: $out"
  fi
  printf '%s' "$out"
}
# An operation of the sign-in settings, when this build's catalog has it (they are defaults
# otherwise: the service on, MFA required).
api_if_offered() {
  local commands
  commands=$("$bin" "$1" --help)
  if grep -Eq "^  $2( |$)" <<< "$commands"; then
    api "$@" > /dev/null
    echo "set up: cloudsso $*"
  fi
}
boot="$work/data/bootstrap.json"
dir_id=$(jq -r .directory_id "$boot")
dir_name=$(api sso get-directory --directory-id "$dir_id" | jq -r .Directory.DirectoryName)
api_if_offered sso enable-service
api_if_offered sso set-mfa-authentication-status --directory-id "$dir_id" \
  --mfa-authentication-status Enabled

# The IdP provisions alice over SCIM with a password that meets the default policy.
password="Pw-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')-E2e"
scim_user=$(jq -n --arg p "$password" '{
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  userName: "alice", displayName: "Alice E2E", active: true, password: $p,
  emails: [{value: "alice@example.com", primary: true}]}')
status=$(curl -sS -o "$work/alice.json" -w '%{http_code}' -X POST "$(jq -r .scim_base_url "$boot")/Users" \
  -H "authorization: Bearer $(jq -r .scim_token "$boot")" \
  -H 'content-type: application/scim+json' --data "$scim_user")
[ "$status" = 201 ] || fail "SCIM POST /Users answered $status: $(cat "$work/alice.json")"
alice_id=$(jq -r .id "$work/alice.json")

account_name="e2e-prod"
config_name="E2EAdmin"
account_id=$(api rm create-resource-account --display-name "$account_name" | jq -r .Account.AccountId)
config_id=$(api sso create-access-configuration --directory-id "$dir_id" \
  --access-configuration-name "$config_name" | jq -r .AccessConfiguration.AccessConfigurationId)
api sso add-permission-policy-to-access-configuration --directory-id "$dir_id" \
  --access-configuration-id "$config_id" --permission-policy-type System \
  --permission-policy-name ReadOnlyAccess > /dev/null
api sso create-access-assignment --directory-id "$dir_id" --access-configuration-id "$config_id" \
  --target-type RD-Account --target-id "$account_id" --principal-type User \
  --principal-id "$alice_id" > /dev/null
# The assignment provisions the configuration on the account; wait for it.
provisioned=""
for _ in $(seq 1 100); do
  provisioned=$(api sso list-access-configuration-provisionings --directory-id "$dir_id" \
    --access-configuration-id "$config_id" | jq -r '.AccessConfigurationProvisionings[0].Status // ""')
  [ "$provisioned" = Provisioned ] && break
  sleep 0.1
done
[ "$provisioned" = Provisioned ] || fail "configuration not provisioned: status \`$provisioned\`"
echo "set up: user alice ($alice_id), account $account_name ($account_id), configuration $config_name ($config_id), provisioned"

export CLOUDSSO_BIN="$bin"
export E2E_BASE="$base" E2E_DIRECTORY_NAME="$dir_name" E2E_DIRECTORY_ID="$dir_id"
export E2E_USER_NAME=alice E2E_USER_ID="$alice_id" E2E_PASSWORD="$password"
export E2E_ACCOUNT_ID="$account_id" E2E_ACCOUNT_NAME="$account_name"
export E2E_CONFIGURATION_NAME="$config_name" E2E_SHOTS="$shots"
if [ -n "${E2E_SETUP_ONLY:-}" ]; then
  echo "E2E_SETUP_ONLY: portal.mjs would start at $base/$dir_name/login"
  exit 0
fi
mkdir -p "$shots"
status=0
node "$here/portal.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log (last 40 lines)"
  tail -n 40 "$log"
fi
exit "$status"

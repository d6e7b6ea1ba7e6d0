#!/usr/bin/env bash
# Browser end-to-end test of the user portal. Starts the release binary on a free port over a
# fresh data folder, sets up over the real APIs what an administrator and an IdP would (SCIM:
# the user `alice` with a password; management API through the `cloudsso` client subcommands:
# an account, an access configuration with a policy, alice's assignment, its provisioning),
# then drives Debian's chromium through `tests/e2e/portal.mjs` (playwright-core, no browser
# download) and stops the server. Screenshots go to target/e2e/.
#
# `saml` runs the SAML sign-in test on the same setup instead: SimpleSAMLphp from Debian
# (`tests/e2e/saml-idp.sh`, php -S on loopback) is made the directory's external IdP through the
# management API (`get-directory-saml-service-provider-info`, then
# `set-external-saml-identity-provider` with the IdP's metadata), and `tests/e2e/saml.mjs`
# signs alice in SP-initiated and IdP-initiated, disables her over SCIM and sees her refused.
#
#   tests/e2e/run.sh                 # the whole test
#   tests/e2e/run.sh saml            # the SAML sign-in test
#   E2E_SETUP_ONLY=1 tests/e2e/run.sh [saml]  # start and set up, print what the .mjs would get, stop
#
# Needs what tests/e2e/install.sh installs: chromium (/usr/lib/chromium/chromium or /usr/bin/chromium),
# curl, jq and playwright-core in e2e/node_modules; and node; for `saml`, simplesamlphp, php-cli,
# php-xml and php-mbstring. CLOUDSSO_BIN: the binary (default
# ${CARGO_TARGET_DIR:-target}/release/cloudsso, built if missing). Exit status: non-zero when
# the server (or SimpleSAMLphp) does not start, a setup call fails, the browser test fails or,
# for `saml`, the SP metadata is not served at the SP's EntityId.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$root/conformance/serve.sh"
shots="$root/target/e2e"
suite="${1:-portal}"
case "$suite" in portal | saml) ;; *) echo "usage: $0 [portal|saml]" >&2 && exit 2 ;; esac

fail() {
  echo "e2e: $*" >&2
  exit 1
}

bin="$(cloudsso_bin "$root")"
for tool in node curl jq; do
  command -v "$tool" > /dev/null || fail "\`$tool\` is missing (tests/e2e/install.sh installs it)"
done
[ -d "$here/node_modules/playwright-core" ] || fail "playwright-core is missing (run tests/e2e/install.sh)"

start_server "$bin"
idp_pid=""
stop_all() {
  if [ -n "$idp_pid" ]; then
    kill -TERM "$idp_pid" 2> /dev/null || true
    wait "$idp_pid" 2> /dev/null || true
  fi
  idp_pid=""
  stop_server
}
trap stop_all EXIT
base="http://$addr"

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
# RAM user-based logon too: alice gets a RAM user in the account (the portal's RAM user tab).
api sso create-user-provisioning --directory-id "$dir_id" --principal-type User \
  --principal-id "$alice_id" --target-type RD-Account --target-id "$account_id" \
  --duplication-strategy KeepBoth --deletion-strategy Delete > /dev/null
echo "set up: user alice ($alice_id), account $account_name ($account_id), configuration $config_name ($config_id), provisioned, RAM user provisioning"

export CLOUDSSO_BIN="$bin"
export E2E_BASE="$base" E2E_DIRECTORY_NAME="$dir_name" E2E_DIRECTORY_ID="$dir_id"
export E2E_USER_NAME=alice E2E_USER_ID="$alice_id" E2E_PASSWORD="$password"
export E2E_ACCOUNT_ID="$account_id" E2E_ACCOUNT_NAME="$account_name"
export E2E_CONFIGURATION_NAME="$config_name" E2E_SHOTS="$shots"
if [ "$suite" = portal ]; then
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
fi

# saml: the directory's service provider, as an administrator reads it to configure the IdP.
sp=$(api sso get-directory-saml-service-provider-info --directory-id "$dir_id")
sp_entity_id=$(jq -r '.SAMLServiceProvider.EntityId // ""' <<< "$sp")
acs_url=$(jq -r '.SAMLServiceProvider.AcsUrl // ""' <<< "$sp")
[ -n "$sp_entity_id" ] && [ -n "$acs_url" ] || fail "no SAMLServiceProvider.EntityId and .AcsUrl in: $sp"
# The portal's segment of this directory: the EntityId is <base>/<segment>/saml/metadata.
segment="${sp_entity_id#"$base"/}"
segment="${segment%%/*}"
[ "$sp_entity_id" = "$base/$segment/saml/metadata" ] ||
  fail "SP EntityId \`$sp_entity_id\` is not $base/<directory>/saml/metadata"
# The SP metadata an administrator hands the IdP is served at the EntityId (checked here, but
# a failure is reported after the browser test, which does not need it).
sp_metadata_problem=""
if ! status=$(curl -sS -o "$work/sp-metadata.xml" -w '%{http_code}' "$sp_entity_id"); then
  sp_metadata_problem="GET $sp_entity_id failed"
elif [ "$status" != 200 ]; then
  sp_metadata_problem="GET $sp_entity_id answered $status: $(head -c 300 "$work/sp-metadata.xml")"
elif ! grep -qF "entityID=\"$sp_entity_id\"" "$work/sp-metadata.xml" ||
  ! grep -qF "Location=\"$acs_url\"" "$work/sp-metadata.xml"; then
  sp_metadata_problem="the SP metadata at $sp_entity_id does not name its EntityId and ACS:
$(head -c 600 "$work/sp-metadata.xml")"
fi
[ -z "$sp_metadata_problem" ] || echo "e2e: $sp_metadata_problem (failing after the browser test)" >&2

idp_password="Idp-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
# On 127.0.0.2, another site than cloudsso on 127.0.0.1, as a customer's IdP is: its POST to the
# ACS is cross-site (Sec-Fetch-Site, SameSite cookies), as in production.
SAML_IDP_HOST=127.0.0.2 SAML_IDP_USER=alice SAML_IDP_PASSWORD="$idp_password" \
  "$here/saml-idp.sh" "$sp_entity_id" "$acs_url" > "$work/idp.out" 2> "$work/idp.log" &
idp_pid=$!
for _ in $(seq 1 300); do
  grep -qx ready "$work/idp.out" && break
  kill -0 "$idp_pid" 2> /dev/null || break
  sleep 0.05
done
if ! grep -qx ready "$work/idp.out"; then
  tail -n 40 "$work/idp.log" >&2
  fail "SimpleSAMLphp did not start"
fi
metadata_url=$(sed -n 's/^metadata_url=//p' "$work/idp.out")
idp_initiated_url=$(sed -n 's/^idp_initiated_url=//p' "$work/idp.out")
curl -fsS -o "$work/idp-metadata.xml" "$metadata_url" || fail "GET $metadata_url failed"
api sso set-external-saml-identity-provider --directory-id "$dir_id" \
  --encoded-metadata-document "$(base64 -w0 "$work/idp-metadata.xml")" \
  --sso-status Enabled --binding-type Redirect > /dev/null
echo "set up: SimpleSAMLphp at $metadata_url is the external IdP of $sp_entity_id (ACS $acs_url)"

export E2E_PORTAL_SEGMENT="$segment" E2E_ACS_URL="$acs_url"
export E2E_IDP_INITIATED_URL="$idp_initiated_url" E2E_IDP_PASSWORD="$idp_password"
E2E_SCIM_BASE="$(jq -r .scim_base_url "$boot")" E2E_SCIM_TOKEN="$(jq -r .scim_token "$boot")"
export E2E_SCIM_BASE E2E_SCIM_TOKEN
if [ -n "${E2E_SETUP_ONLY:-}" ]; then
  echo "E2E_SETUP_ONLY: saml.mjs would start at $base/$segment/login and $idp_initiated_url"
  exit 0
fi
mkdir -p "$shots"
status=0
node "$here/saml.mjs" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log (last 40 lines)"
  tail -n 40 "$log"
  echo "== SimpleSAMLphp log (last 40 lines)"
  tail -n 40 "$work/idp.log"
fi
[ -z "$sp_metadata_problem" ] || fail "$sp_metadata_problem"
exit "$status"

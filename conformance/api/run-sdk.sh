#!/usr/bin/env bash
# Drives the management API of a live `cloudsso serve` through the unmodified official Python
# SDKs (alibabacloud-cloudsso20210515, alibabacloud-ram20150501 and
# alibabacloud-resourcemanager20200331, pinned below, from PyPI into conformance/.venv-sdk,
# ignored by git). Starts a server on a fresh data folder and a free port, runs sdk_check.py
# (CloudSSO directories, users, groups, SCIM credentials; RAM), sdk_rm_check.py (Resource
# Manager), sdk_access_check.py (access configurations, assignments, provisioning, tasks)
# sdk_signin_check.py (sign-in settings: service, passwords, MFA, login preference) and
# sdk_saml_check.py (the external SAML IdP, its certificates, SSO logon, the SP info) and
# sdk_user_provisioning_check.py (RAM user provisioning, its events and statistics) and
# sdk_delegate_check.py (the delegated administrator account) with the bootstrap
# administrator's AccessKey, stops the server. The venv also holds
# alibabacloud-sts20150401, which `tests/it/sts.rs` drives through sdk_sts_check.py with
# temporary credentials it mints, and boto3 and the AWS CLI v1, which `tests/it/aws_sts.rs`
# drives through aws_sts_check.py (AWS STS GetCallerIdentity with `ASIA` credentials); both
# are skipped when the venv is missing, unless CLOUDSSO_REQUIRE_SDK=1.
#
#   conformance/api/run-sdk.sh
#
# CLOUDSSO_BIN: the binary (default ${CARGO_TARGET_DIR:-target}/release/cloudsso, built if
# missing). Exit status: non-zero when a check fails or the server does not start.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/conformance/.venv-sdk"
. "$root/conformance/serve.sh"
bin="$(cloudsso_bin "$root")"

pins=(alibabacloud-cloudsso20210515==1.7.0 alibabacloud-ram20150501==1.3.0
  alibabacloud-resourcemanager20200331==2.6.2 alibabacloud-sts20150401==1.2.0
  boto3==1.44.8 awscli==1.46.3)
pinned_venv "$venv" "${pins[@]}"

start_server "$bin"

status=0
"$venv/bin/python" "$here/sdk_check.py" "$work/data/bootstrap.json" || status=$?
"$venv/bin/python" "$here/sdk_rm_check.py" "$work/data" || status=$?
"$venv/bin/python" "$here/sdk_access_check.py" "$work/data" || status=$?
"$venv/bin/python" "$here/sdk_signin_check.py" "$work/data" || status=$?
"$venv/bin/python" "$here/sdk_saml_check.py" "$work/data" || status=$?
"$venv/bin/python" "$here/sdk_user_provisioning_check.py" "$work/data" || status=$?
"$venv/bin/python" "$here/sdk_delegate_check.py" "$work/data" || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log (last 40 lines)"
  tail -n 40 "$log"
fi
exit "$status"

#!/usr/bin/env bash
# Signs in to a live `cloudsso serve` from the terminal with unmodified clients from PyPI
# (pinned below, installed into conformance/.venv-clients, ignored by git, rebuilt when the
# pins change), the browser approval played over HTTP by approver.py: (A)
# alibabacloud-credentials' CloudSSO provider and alibabacloud-sts20150401; (B) boto3, (C) AWS
# CLI v1 and (D) aws-sso-util against the AWS sso-oidc / sso protocols and their credentials
# at cloudsso's AWS STS. Then removes the user from a group and disables it over SCIM and
# checks the credentials the clients got are refused within a second.
# Starts a server on a fresh data folder and a free port, with a scratch HOME for the
# clients' ~/.aliyun and ~/.aws files, and stops it.
#
#   conformance/signin/run-clients.sh
#
# CLOUDSSO_BIN: the binary (default ${CARGO_TARGET_DIR:-target}/release/cloudsso, built if
# missing). Exit status: non-zero when a check fails or the server does not start.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/conformance/.venv-clients"
. "$root/conformance/serve.sh"
bin="$(cloudsso_bin "$root")"

# awscli 1.x vendors its own botocore; boto3/botocore are the SDK's. aws-sso-util brings
# aws-sso-lib. The Alibaba SDKs set up the directory (management API) and call STS.
pins=(awscli==1.46.3 boto3==1.44.8 botocore==1.44.8 aws-sso-util==4.33.0 aws-sso-lib==1.14.0
  alibabacloud-credentials==1.0.12 alibabacloud-sts20150401==1.2.0
  alibabacloud-cloudsso20210515==1.7.0 alibabacloud-resourcemanager20200331==2.6.2)
pinned_venv "$venv" "${pins[@]}"

start_server "$bin"

mkdir -p "$work/home"
status=0
(cd "$here" && env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_CONFIG_FILE \
  -u AWS_SHARED_CREDENTIALS_FILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
  -u ALIBABA_CLOUD_PROFILE -u ALIBABA_CLOUD_ACCESS_KEY_ID -u ALIBABA_CLOUD_ACCESS_KEY_SECRET \
  HOME="$work/home" PATH="$venv/bin:$PATH" "$venv/bin/python" clients_check.py "$work/data") || status=$?
if [ "$status" -ne 0 ]; then
  echo "== server log (last 40 lines)"
  tail -n 40 "$log"
fi
exit "$status"

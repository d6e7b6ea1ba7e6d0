#!/usr/bin/env python3
"""Drives cloudsso's AWS STS GetCallerIdentity (2011-06-15) through unmodified AWS clients with
temporary credentials a test minted (AccessKeyId `ASIA...`, secret, SessionToken): boto3 with
`endpoint_url`, boto3 with `AWS_ENDPOINT_URL_STS`, a presigned GET URL from boto3, and the AWS
CLI v1 (`aws sts get-caller-identity --endpoint-url`, credentials in the environment); then a
tampered token, a wrong secret and a revoked credential, which must raise the expected codes.
Reports every failed check, exits 1 if any.

Run by `tests/it/aws_sts.rs` (`boto3_and_aws_cli_get_caller_identity_with_minted_credentials`),
which starts the server, mints the credentials, revokes the second one and passes everything:

  aws_sts_check.py <endpoint URL> <AccessKeyId> <secret> <SessionToken> <expected Arn>
                   <revoked AccessKeyId> <revoked secret> <revoked SessionToken>

Needs the venv of conformance/api/run-sdk.sh (boto3 and awscli pinned there).
"""

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import boto3
from botocore.exceptions import ClientError

failures = []
REGION = "us-east-1"


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(what)


def sts(endpoint, key_id, secret, token):
    kwargs = {} if endpoint is None else {"endpoint_url": endpoint}
    return boto3.client(
        "sts",
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        **kwargs,
    )


def error_of(call):
    """The error code and HTTP status `call` raises (None, None when it succeeds)."""
    try:
        call()
    except ClientError as e:
        return e.response["Error"].get("Code"), e.response["ResponseMetadata"].get("HTTPStatusCode")
    return None, None


def identity_checks(name, got, arn):
    check(f"{name}: Arn", got.get("Arn") == arn, (got, arn))
    check(f"{name}: Account", arn.split(":")[4] == got.get("Account"), got)
    user_id = got.get("UserId", "")
    check(
        f"{name}: UserId is <role id>:<session>",
        user_id.startswith("AROA") and user_id.endswith(":" + arn.rsplit("/", 1)[-1]),
        got,
    )


def main():
    if len(sys.argv) != 9:
        print(__doc__)
        return 2
    endpoint, key_id, secret, token, arn, r_id, r_secret, r_token = sys.argv[1:]
    # Nothing from the machine's own AWS configuration.
    scratch = tempfile.mkdtemp()
    os.environ.update({
        "AWS_CONFIG_FILE": os.path.join(scratch, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(scratch, "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "HOME": scratch,
    })
    for k in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
              "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS"]:
        os.environ.pop(k, None)

    got = sts(endpoint, key_id, secret, token).get_caller_identity()
    identity_checks("boto3 endpoint_url", got, arn)
    check("boto3: RequestId", bool(got["ResponseMetadata"].get("RequestId")), got)

    os.environ["AWS_ENDPOINT_URL_STS"] = endpoint
    got = sts(None, key_id, secret, token).get_caller_identity()
    identity_checks("boto3 AWS_ENDPOINT_URL_STS", got, arn)
    del os.environ["AWS_ENDPOINT_URL_STS"]

    url = sts(endpoint, key_id, secret, token).generate_presigned_url(
        "get_caller_identity", ExpiresIn=60, HttpMethod="GET"
    )
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = resp.read().decode()
            check("presigned GET: 200 and the Arn", resp.status == 200 and f"<Arn>{arn}</Arn>" in body, body)
    except urllib.error.HTTPError as e:
        check("presigned GET: 200 and the Arn", False, (e.code, e.read()))

    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    cases = [
        ("tampered token", (key_id, secret, tampered), ("InvalidClientTokenId", 403)),
        ("wrong secret", (key_id, r_secret, token), ("SignatureDoesNotMatch", 403)),
        ("swapped token", (key_id, secret, r_token), ("InvalidClientTokenId", 403)),
        ("revoked credential", (r_id, r_secret, r_token), ("ExpiredToken", 400)),
    ]
    for name, creds, want in cases:
        got = error_of(lambda: sts(endpoint, *creds).get_caller_identity())
        check(f"boto3 {name}: {want[0]} {want[1]}", got == want, got)

    aws = os.path.join(os.path.dirname(sys.executable), "aws")

    def cli(key, sec, tok):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=sec,
                   AWS_SESSION_TOKEN=tok, AWS_DEFAULT_REGION=REGION)
        return subprocess.run(
            [aws, "sts", "get-caller-identity", "--endpoint-url", endpoint, "--output", "json"],
            env=env, capture_output=True, text=True, timeout=60,
        )

    done = cli(key_id, secret, token)
    try:
        got = json.loads(done.stdout)
    except ValueError:
        got = {}
    check("aws cli v1: exit 0", done.returncode == 0, (done.returncode, done.stderr))
    identity_checks("aws cli v1", got, arn)
    done = cli(r_id, r_secret, r_token)
    check(
        "aws cli v1 revoked credential: ExpiredToken",
        done.returncode != 0 and "(ExpiredToken)" in done.stderr,
        (done.returncode, done.stderr),
    )

    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

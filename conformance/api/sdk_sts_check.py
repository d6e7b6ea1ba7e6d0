#!/usr/bin/env python3
"""Drives cloudsso's STS GetCallerIdentity (2015-04-01) through the unmodified official SDK
`alibabacloud_sts20150401` with temporary credentials a test minted (AccessKeyId `STS.`,
secret, SecurityToken), signed both ways the SDK signs (ACS3-HMAC-SHA256 by default, RPC
HMAC-SHA1 with `signature_algorithm="v2"`), then with the administrator's AccessKey, then with
a tampered token. Reports every failed check, exits 1 if any.

Run by `tests/it/sts.rs` (`sdk_get_caller_identity_with_minted_credentials`), which starts
the server, mints the credentials and passes everything as arguments:

  sdk_sts_check.py <endpoint host:port> <AccessKeyId> <secret> <SecurityToken> <expected Arn>
                   <admin AccessKeyId> <admin secret>
"""

import sys

from alibabacloud_sts20150401.client import Client
from alibabacloud_tea_openapi import models as open_api_models

failures = []


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(what)


def client(endpoint, key_id, secret, token=None, algorithm=None):
    config = open_api_models.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        endpoint=endpoint,
        protocol="http",
        region_id="cn-hangzhou",
    )
    if algorithm:
        config.signature_algorithm = algorithm
    return Client(config)


def error_code(call):
    """The Code and status of the error `call` raises (None when it succeeds)."""
    try:
        call()
    except Exception as e:  # the SDK's exception classes vary between releases
        return getattr(e, "code", repr(e)), getattr(e, "status_code", None) or getattr(
            e, "statusCode", None
        )
    return None, None


def main():
    if len(sys.argv) != 8:
        print(__doc__)
        return 2
    endpoint, key_id, secret, token, arn, admin_id, admin_secret = sys.argv[1:]
    for name, algorithm in [("ACS3", None), ("RPC", "v2")]:
        b = client(endpoint, key_id, secret, token, algorithm).get_caller_identity().body
        check(f"{name}: IdentityType AssumedRoleUser", b.identity_type == "AssumedRoleUser", b.to_map())
        check(f"{name}: Arn", b.arn == arn, (b.arn, arn))
        check(f"{name}: AccountId", arn.startswith(f"acs:ram::{b.account_id}:"), b.account_id)
        check(
            f"{name}: RoleId and PrincipalId",
            bool(b.role_id) and b.principal_id == f"{b.role_id}:{arn.rsplit('/', 1)[-1]}",
            b.to_map(),
        )
        check(f"{name}: RequestId", bool(b.request_id), b.to_map())
    a = client(endpoint, admin_id, admin_secret).get_caller_identity().body
    check("administrator: RAMUser", a.identity_type == "RAMUser" and a.arn.startswith("acs:ram::"), a.to_map())
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    code, status = error_code(lambda: client(endpoint, key_id, secret, tampered).get_caller_identity())
    check("tampered token: InvalidSecurityToken.Malformed", code == "InvalidSecurityToken.Malformed" and status == 400, (code, status))
    code, status = error_code(lambda: client(endpoint, key_id, secret).get_caller_identity())
    check("no token: MissingSecurityToken", code == "MissingSecurityToken" and status == 400, (code, status))
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

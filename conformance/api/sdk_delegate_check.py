#!/usr/bin/env python3
"""Drives cloudsso's delegated administrator account through the unmodified official SDK
`alibabacloud_cloudsso20210515` (1.7.0): EnableDelegateAccount and DisableDelegateAccount with
the SDK's own methods; GetDelegateAccount, newer than 1.7.0, through the same client's generic
`call_api` with the operation's RPC parameters (as the SDK's generated methods build them).
Checks the round trip (Disabled -> Enabled -> Disabled), a second account refused while one is
delegated (`OperationConflict.DelegateAccount.Exists`), an unknown account
(`EntityNotExists.Account`), a disable of a non-delegate (`EntityNotExists.DelegateAccount`)
and a delegate's account refused deletion over Resource Manager's SDK. Leaves no delegate.
Reports every failed check, exits 1 if any.

Usage: sdk_delegate_check.py <data dir of a running `cloudsso serve`>
"""

import json
import sys
import uuid
from pathlib import Path

from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_cloudsso20210515.client import Client as SsoClient
from alibabacloud_resourcemanager20200331 import models as rm
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi import utils_models as open_api_util_models
from darabonba.runtime import RuntimeOptions

failures = []


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(what)


def config(boot, region):
    return open_api_models.Config(
        access_key_id=boot["admin_access_key_id"],
        access_key_secret=boot["admin_access_key_secret"],
        endpoint=boot["api_endpoint"].split("://", 1)[-1].rstrip("/"),
        protocol="http",
        region_id=region,
    )


def error_code(call):
    try:
        call()
    except Exception as e:
        return getattr(e, "code", repr(e))
    return None


def get_delegate_account(c, account_id):
    """GetDelegateAccount, built as the SDK builds its RPC operations (1.7.0 has no method)."""
    req = open_api_util_models.OpenApiRequest(query={"AccountId": account_id})
    params = open_api_util_models.Params(
        action="GetDelegateAccount", version="2021-05-15", protocol="HTTPS", pathname="/",
        method="POST", auth_type="AK", style="RPC", req_body_type="formData", body_type="json",
    )
    return c.call_api(params, req, RuntimeOptions())["body"]["DelegateAccount"]


def enable(c, account_id):
    return c.enable_delegate_account(sso.EnableDelegateAccountRequest(account_id=account_id))


def disable(c, account_id):
    return c.disable_delegate_account(sso.DisableDelegateAccountRequest(account_id=account_id))


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    boot = json.loads((Path(sys.argv[1]) / "bootstrap.json").read_text())
    c = SsoClient(config(boot, "cn-shanghai"))
    r = RmClient(config(boot, "cn-hangzhou"))
    tag = uuid.uuid4().hex[:6]

    def account(name):
        return r.create_resource_account(
            rm.CreateResourceAccountRequest(display_name=name)
        ).body.account.account_id

    prod, dev = account(f"dl-prod-{tag}"), account(f"dl-dev-{tag}")

    got = get_delegate_account(c, prod)
    check(
        "GetDelegateAccount: a member account, not delegated",
        got.get("AccountId") == prod and got.get("DisplayName") == f"dl-prod-{tag}"
        and got.get("DelegateStatus") == "Disabled",
        got,
    )
    res = enable(c, prod)
    check("EnableDelegateAccount: RequestId", bool(res.body.request_id), res.body.to_map())
    got = get_delegate_account(c, prod)
    check("GetDelegateAccount: Enabled", got.get("DelegateStatus") == "Enabled", got)
    check("EnableDelegateAccount: again", error_code(lambda: enable(c, prod)) is None)
    check(
        "EnableDelegateAccount: a second account refused",
        error_code(lambda: enable(c, dev)) == "OperationConflict.DelegateAccount.Exists",
    )
    check(
        "GetDelegateAccount: the refused account stays Disabled",
        get_delegate_account(c, dev).get("DelegateStatus") == "Disabled",
    )
    check(
        "DeleteAccount: refused while delegated",
        error_code(lambda: r.delete_account(rm.DeleteAccountRequest(account_id=prod)))
        == "DeleteConflict.Account.DelegateAccount",
    )
    res = disable(c, prod)
    check("DisableDelegateAccount: RequestId", bool(res.body.request_id), res.body.to_map())
    got = get_delegate_account(c, prod)
    check("GetDelegateAccount: Disabled again", got.get("DelegateStatus") == "Disabled", got)
    check(
        "DisableDelegateAccount: not a delegate",
        error_code(lambda: disable(c, prod)) == "EntityNotExists.DelegateAccount",
    )
    check(
        "EnableDelegateAccount: unknown account",
        error_code(lambda: enable(c, "1000000000000009")) == "EntityNotExists.Account",
    )
    check(
        "GetDelegateAccount: unknown account",
        error_code(lambda: get_delegate_account(c, "1000000000000009")) == "EntityNotExists.Account",
    )
    for a in (prod, dev):
        r.delete_account(rm.DeleteAccountRequest(account_id=a))
    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

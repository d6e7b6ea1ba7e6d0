#!/usr/bin/env python3
"""Drives cloudsso's Resource Manager operations (2020-03-31) through the unmodified official
SDK `alibabacloud_resourcemanager20200331`: CreateFolder, ListFoldersForParent,
CreateResourceAccount, GetAccount, ListAccounts, DeleteAccount, and the SDK's view of an
error. Reports every failed check, exits 1 if any.

Usage: sdk_rm_check.py <data dir of a running `cloudsso serve`>
(reads api_endpoint, admin_access_key_id and admin_access_key_secret from bootstrap.json).
"""

import json
import sys
import uuid
from pathlib import Path

from alibabacloud_resourcemanager20200331 import models as rm
from alibabacloud_resourcemanager20200331.client import Client
from alibabacloud_tea_openapi import models as open_api_models

failures = []


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"))
    if not cond:
        failures.append(what)


def client(data_dir):
    boot = json.loads((Path(data_dir) / "bootstrap.json").read_text())
    endpoint = boot["api_endpoint"].split("://", 1)[-1].rstrip("/")
    return Client(
        open_api_models.Config(
            access_key_id=boot["admin_access_key_id"],
            access_key_secret=boot["admin_access_key_secret"],
            endpoint=endpoint,
            protocol="http",
            region_id="cn-hangzhou",
        )
    )


def error_code(call):
    """The Code of the error `call` raises (None when it succeeds)."""
    try:
        call()
    except Exception as e:  # the SDK's exception classes vary between releases
        return getattr(e, "code", repr(e)), getattr(e, "status_code", None) or getattr(
            e, "statusCode", None
        )
    return None, None


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    c = client(sys.argv[1])
    tag = uuid.uuid4().hex[:8]

    f = c.create_folder(rm.CreateFolderRequest(folder_name=f"dev-{tag}")).body.folder
    check("CreateFolder: fd- id", f.folder_id.startswith("fd-") and len(f.folder_id) == 13, f.folder_id)
    check("CreateFolder: parent is the root", (f.parent_folder_id or "").startswith("r-"), f.parent_folder_id)
    check("CreateFolder: name", f.folder_name == f"dev-{tag}", f.folder_name)
    root = f.parent_folder_id
    sub = c.create_folder(
        rm.CreateFolderRequest(folder_name=f"web-{tag}", parent_folder_id=f.folder_id)
    ).body.folder
    check("CreateFolder: under a folder", sub.parent_folder_id == f.folder_id, sub.parent_folder_id)

    lf = c.list_folders_for_parent(rm.ListFoldersForParentRequest()).body
    names = [x.folder_name for x in lf.folders.folder]
    check("ListFoldersForParent: root's children", f"dev-{tag}" in names, names)
    lf = c.list_folders_for_parent(
        rm.ListFoldersForParentRequest(parent_folder_id=f.folder_id, query_keyword="WEB", page_size=5)
    ).body
    check(
        "ListFoldersForParent: keyword and page",
        [x.folder_id for x in lf.folders.folder] == [sub.folder_id]
        and lf.total_count == 1 and lf.page_number == 1 and lf.page_size == 5,
        lf.to_map(),
    )

    a = c.create_resource_account(
        rm.CreateResourceAccountRequest(
            display_name=f"Dev {tag}", parent_folder_id=sub.folder_id, account_name_prefix=f"dev-{tag}"
        )
    ).body.account
    check("CreateResourceAccount: 16-digit id", a.account_id.isdigit() and len(a.account_id) == 16, a.account_id)
    check(
        "CreateResourceAccount: fields",
        a.display_name == f"Dev {tag}" and a.folder_id == sub.folder_id
        and a.account_name == f"dev-{tag}@{a.resource_directory_id}.aliyunid.com"
        and a.type == "ResourceAccount" and a.status == "CreateSuccess" and a.join_method == "created",
        a.to_map(),
    )
    b = c.create_resource_account(rm.CreateResourceAccountRequest(display_name=f"Ops {tag}")).body.account
    check("CreateResourceAccount: default folder is the root", b.folder_id == root, b.folder_id)

    g = c.get_account(rm.GetAccountRequest(account_id=a.account_id, include_tags=True)).body.account
    want_path = f"{a.resource_directory_id}/{root}/{f.folder_id}/{sub.folder_id}/{a.account_id}"
    check("GetAccount: path", g.resource_directory_path == want_path, g.resource_directory_path)
    check("GetAccount: location", g.location == f"root/dev-{tag}/web-{tag}", g.location)
    check("GetAccount: tags", g.tags == [], g.tags)

    seen, page = [], 1
    while True:
        body = c.list_accounts(rm.ListAccountsRequest(page_number=page, page_size=1)).body
        items = body.accounts.account
        seen += [x.account_id for x in items]
        if not items or page * body.page_size >= body.total_count:
            break
        page += 1
    check("ListAccounts: pages reach both", {a.account_id, b.account_id} <= set(seen), seen)
    check("ListAccounts: total", body.total_count == len(seen), (body.total_count, seen))

    d = c.delete_account(rm.DeleteAccountRequest(account_id=b.account_id)).body
    check("DeleteAccount: DeletionType", d.deletion_type == "0", d.to_map())
    code, status = error_code(lambda: c.get_account(rm.GetAccountRequest(account_id=b.account_id)))
    check("GetAccount after delete: EntityNotExists.Account", code == "EntityNotExists.Account" and status == 404, (code, status))
    code, _ = error_code(lambda: c.create_folder(rm.CreateFolderRequest(folder_name=f"dev-{tag}")))
    check("CreateFolder twice: InvalidParameter.Folder.Name.AlreadyUsed", code == "InvalidParameter.Folder.Name.AlreadyUsed", code)
    code, _ = error_code(lambda: c.delete_account(rm.DeleteAccountRequest(account_id=b.account_id)))
    check("DeleteAccount twice: EntityNotExists.Account", code == "EntityNotExists.Account", code)
    c.delete_account(rm.DeleteAccountRequest(account_id=a.account_id))

    print(f"{len(failures)} failed" if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

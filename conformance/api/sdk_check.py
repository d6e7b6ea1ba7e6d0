#!/usr/bin/env python3
"""Drives cloudsso's management API through the unmodified official Alibaba Cloud Python SDKs.

    sdk_check.py <data>/bootstrap.json

Every CloudSSO (2021-05-15) and RAM (2015-05-01) operation cloudsso answers is called through
`alibabacloud_cloudsso20210515` / `alibabacloud_ram20150501`, signed with the bootstrap
administrator's AccessKey; SCIM requests use the bootstrap SCIM token and plain urllib. Prints
one line per check and a summary; exits 1 when a check fails. Run by `run-sdk.sh`, which starts
a fresh server; the checks assume the fresh state `cloudsso serve` bootstraps (one directory, one
SCIM credential, one administrator, no users or groups).
"""

import json
import sys
import traceback
import urllib.error
import urllib.request

from alibabacloud_cloudsso20210515 import models as sso
from alibabacloud_cloudsso20210515.client import Client as SsoClient
from alibabacloud_ram20150501 import models as ram
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi import models as openapi

# Checks that fail because of a known server bug: name -> what is wrong. Such a failure is
# reported as KNOWN and does not fail the run; a listed check that passes is reported as FIXED
# and does fail it, so the entry gets removed.
KNOWN_BUGS: dict[str, str] = {}


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = []
        self.known = []
        self.fixed = []
        self.section = ""

    def begin(self, section):
        self.section = section
        print(f"-- {section}")

    def check(self, name, ok, detail=""):
        full = f"{self.section}: {name}"
        bug = KNOWN_BUGS.get(full)
        if ok and bug is None:
            self.passed += 1
            print(f"PASS  {full}")
        elif ok:
            self.fixed.append(full)
            print(f"FIXED {full} (listed as a known bug: {bug}; remove it from KNOWN_BUGS)")
        elif bug is not None:
            self.known.append(full)
            print(f"KNOWN {full}: {detail} (known server bug: {bug})")
        else:
            self.failed.append(full)
            print(f"FAIL  {full}: {detail}")
        return ok

    def equal(self, name, got, want):
        return self.check(name, got == want, f"got {got!r}, want {want!r}")

    def error(self, name, call, code, status):
        """`call` must raise the SDK's exception with this `code` and HTTP `status`."""
        try:
            got = call()
        except Exception as e:  # noqa: BLE001 - any SDK or transport error is a result here
            got_code = getattr(e, "code", None)
            got_status = http_status(e)
            return self.check(
                name,
                got_code == code and got_status == status,
                f"got {got_status} {got_code} ({getattr(e, 'message', e)}), want {status} {code}",
            )
        return self.check(name, False, f"succeeded ({body_of(got)}), want {status} {code}")

    def succeeds(self, name, call):
        """`call` must not raise; returns its result, or None after reporting the failure."""
        try:
            got = call()
        except Exception as e:  # noqa: BLE001
            self.check(name, False, describe(e))
            return None
        self.check(name, True)
        return got

    def summary(self):
        total = self.passed + len(self.failed) + len(self.known) + len(self.fixed)
        print()
        print(
            f"SDK conformance: {total} checks, {self.passed} passed, {len(self.failed)} failed, "
            f"{len(self.known)} known server bugs, {len(self.fixed)} fixed known bugs"
        )
        for f in self.failed:
            print(f"  failed: {f}")
        for f in self.known:
            print(f"  known bug: {f}: {KNOWN_BUGS[f]}")
        for f in self.fixed:
            print(f"  fixed (remove from KNOWN_BUGS): {f}")
        return not self.failed and not self.fixed


def http_status(e):
    s = getattr(e, "statusCode", None) or getattr(e, "status_code", None)
    data = getattr(e, "data", None)
    if s is None and isinstance(data, dict):
        s = data.get("statusCode")
    return s


def describe(e):
    code = getattr(e, "code", None)
    if code is not None:
        return f"{http_status(e)} {code}: {getattr(e, 'message', '')}"
    return f"{type(e).__name__}: {e}"


def body_of(resp):
    try:
        return json.dumps(resp.body.to_map())[:300]
    except Exception:  # noqa: BLE001
        return repr(resp)[:300]


# ---------------------------------------------------------------------------------------------
# SCIM over plain HTTP


def scim(base, token, method, path, doc=None):
    """(status, parsed body or None) of a SCIM request."""
    data = None if doc is None else json.dumps(doc).encode()
    req = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Accept", "application/scim+json")
    if data is not None:
        req.add_header("Content-Type", "application/scim+json")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, None


# ---------------------------------------------------------------------------------------------
# Clients


def config(endpoint, key_id, secret):
    host = endpoint.split("://", 1)[-1].rstrip("/")
    return openapi.Config(
        access_key_id=key_id,
        access_key_secret=secret,
        endpoint=host,
        protocol="http",
        region_id="cn-shanghai",
        read_timeout=10000,
        connect_timeout=5000,
    )


def users_of(c, d, **kw):
    """Every user of a ListUsers query, following NextToken; also the page sizes seen."""
    seen, sizes, token = [], [], None
    for _ in range(100):
        body = c.list_users(sso.ListUsersRequest(directory_id=d, next_token=token, **kw)).body
        page = body.users or []
        seen += page
        sizes.append(len(page))
        token = body.next_token
        if not body.is_truncated:
            break
    return seen, sizes


# ---------------------------------------------------------------------------------------------
# Checks


def directories(r, c, d0):
    r.begin("directories")
    home = r.succeeds("GetDirectory bootstrap", lambda: c.get_directory(
        sso.GetDirectoryRequest(directory_id=d0)).body.directory)
    if home:
        r.equal("GetDirectory DirectoryId", home.directory_id, d0)
        r.equal("GetDirectory Region", home.region, "cn-shanghai")
        r.check("GetDirectory DirectoryName", bool(home.directory_name), "empty")
        r.check("GetDirectory CreateTime", bool(home.create_time), "empty")

    made = r.succeeds("CreateDirectory", lambda: c.create_directory(
        sso.CreateDirectoryRequest(directory_name="sdk-conf-dir")).body.directory)
    if not made:
        return None
    d1 = made.directory_id
    r.check("CreateDirectory DirectoryId d-...", d1.startswith("d-") and d1 != d0, d1)
    r.equal("CreateDirectory DirectoryName", made.directory_name, "sdk-conf-dir")
    r.equal("CreateDirectory Region", made.region, "cn-shanghai")
    r.error("CreateDirectory same name", lambda: c.create_directory(
        sso.CreateDirectoryRequest(directory_name="sdk-conf-dir")),
        "EntityAlreadyExists.Directory", 409)
    r.error("CreateDirectory bad name", lambda: c.create_directory(
        sso.CreateDirectoryRequest(directory_name="Bad_Name")),
        "InvalidParameter.DirectoryName", 400)

    got = r.succeeds("GetDirectory new", lambda: c.get_directory(
        sso.GetDirectoryRequest(directory_id=d1)).body.directory)
    if got:
        r.equal("GetDirectory new name", got.directory_name, "sdk-conf-dir")
    r.error("GetDirectory unknown", lambda: c.get_directory(
        sso.GetDirectoryRequest(directory_id="d-nosuchdirectory")),
        "EntityNotExists.Directory", 404)
    r.error("GetDirectory no id", lambda: c.get_directory(sso.GetDirectoryRequest()),
            "MissingParameter.DirectoryId", 400)

    body = r.succeeds("ListDirectories", lambda: c.list_directories().body)
    if body:
        ids = [x.directory_id for x in body.directories or []]
        r.check("ListDirectories has both", d0 in ids and d1 in ids, ids)
        r.equal("ListDirectories TotalCounts", body.total_counts, len(ids))

    up = r.succeeds("UpdateDirectory", lambda: c.update_directory(sso.UpdateDirectoryRequest(
        directory_id=d1, new_directory_name="sdk-conf-renamed")).body.directory)
    if up:
        r.equal("UpdateDirectory answers the new name", up.directory_name, "sdk-conf-renamed")
    got = r.succeeds("GetDirectory after rename", lambda: c.get_directory(
        sso.GetDirectoryRequest(directory_id=d1)).body.directory)
    if got:
        r.equal("GetDirectory shows the new name", got.directory_name, "sdk-conf-renamed")
    if home:
        r.error("UpdateDirectory to a taken name", lambda: c.update_directory(
            sso.UpdateDirectoryRequest(directory_id=d1, new_directory_name=home.directory_name)),
            "EntityAlreadyExists.Directory", 409)
    r.error("UpdateDirectory without NewDirectoryName", lambda: c.update_directory(
        sso.UpdateDirectoryRequest(directory_id=d1)), "MissingParameter.NewDirectoryName", 400)
    r.error("UpdateDirectory unknown", lambda: c.update_directory(sso.UpdateDirectoryRequest(
        directory_id="d-nosuchdirectory", new_directory_name="sdk-nobody")),
        "EntityNotExists.Directory", 404)

    st = r.succeeds("GetDirectoryStatistics new", lambda: c.get_directory_statistics(
        sso.GetDirectoryStatisticsRequest(directory_id=d1)).body.directory_statistics)
    if st:
        r.equal("GetDirectoryStatistics DirectoryId", st.directory_id, d1)
        r.equal("GetDirectoryStatistics DirectoryName", st.directory_name, "sdk-conf-renamed")
        r.equal("GetDirectoryStatistics UserCount", st.user_count, 0)
        r.equal("GetDirectoryStatistics GroupCount", st.group_count, 0)
        r.equal("GetDirectoryStatistics SCIMSyncEnabled", st.scimsync_enabled, True)
    return d1


def delete_directory(r, c, d1):
    """DeleteDirectory refuses a directory with users or groups, then deletes it."""
    r.begin("directory deletion")
    u = r.succeeds("CreateUser in new directory", lambda: c.create_user(sso.CreateUserRequest(
        directory_id=d1, user_name="sdk-blocker")).body.user)
    if u:
        r.error("DeleteDirectory with a user", lambda: c.delete_directory(
            sso.DeleteDirectoryRequest(directory_id=d1)), "DeletionConflict.Directory.User", 409)
        r.succeeds("DeleteUser in new directory", lambda: c.delete_user(
            sso.DeleteUserRequest(directory_id=d1, user_id=u.user_id)))
    g = r.succeeds("CreateGroup in new directory", lambda: c.create_group(sso.CreateGroupRequest(
        directory_id=d1, group_name="sdk-blocker")).body.group)
    if g:
        r.error("DeleteDirectory with a group", lambda: c.delete_directory(
            sso.DeleteDirectoryRequest(directory_id=d1)), "DeletionConflict.Directory.Group", 409)
        r.succeeds("DeleteGroup in new directory", lambda: c.delete_group(
            sso.DeleteGroupRequest(directory_id=d1, group_id=g.group_id)))
    r.succeeds("DeleteDirectory", lambda: c.delete_directory(
        sso.DeleteDirectoryRequest(directory_id=d1)))
    r.error("GetDirectory after delete", lambda: c.get_directory(
        sso.GetDirectoryRequest(directory_id=d1)), "EntityNotExists.Directory", 404)
    r.error("DeleteDirectory again", lambda: c.delete_directory(
        sso.DeleteDirectoryRequest(directory_id=d1)), "EntityNotExists.Directory", 404)
    body = r.succeeds("ListDirectories after delete", lambda: c.list_directories().body)
    if body:
        ids = [x.directory_id for x in body.directories or []]
        r.check("ListDirectories no longer lists it", d1 not in ids, ids)


def users(r, c, d0, scim_base, scim_token):
    r.begin("users")
    alice = r.succeeds("CreateUser", lambda: c.create_user(sso.CreateUserRequest(
        directory_id=d0, user_name="sdk-alice", display_name="Alice Liddell",
        first_name="Alice", last_name="Liddell", email="alice@example.com",
        description="made by sdk_check")).body.user)
    if not alice:
        return None
    uid = alice.user_id
    r.check("CreateUser UserId u-...", bool(uid) and uid.startswith("u-"), uid)
    r.equal("CreateUser UserName", alice.user_name, "sdk-alice")
    r.equal("CreateUser DisplayName", alice.display_name, "Alice Liddell")
    r.equal("CreateUser FirstName", alice.first_name, "Alice")
    r.equal("CreateUser LastName", alice.last_name, "Liddell")
    r.equal("CreateUser Email", alice.email, "alice@example.com")
    r.equal("CreateUser Description", alice.description, "made by sdk_check")
    r.equal("CreateUser Status", alice.status, "Enabled")
    r.equal("CreateUser ProvisionType", alice.provision_type, "Manual")
    r.check("CreateUser CreateTime", bool(alice.create_time), "empty")

    r.error("CreateUser same name", lambda: c.create_user(sso.CreateUserRequest(
        directory_id=d0, user_name="sdk-alice")), "EntityAlreadyExists.User", 409)
    r.error("CreateUser same name, other case", lambda: c.create_user(sso.CreateUserRequest(
        directory_id=d0, user_name="SDK-Alice")), "EntityAlreadyExists.User", 409)
    r.error("CreateUser without UserName", lambda: c.create_user(sso.CreateUserRequest(
        directory_id=d0)), "MissingParameter.UserName", 400)
    r.error("CreateUser bad UserName", lambda: c.create_user(sso.CreateUserRequest(
        directory_id=d0, user_name="no spaces!")), "InvalidParameter.UserName", 400)
    r.error("CreateUser bad Email", lambda: c.create_user(sso.CreateUserRequest(
        directory_id=d0, user_name="sdk-bad-email", email="not-an-email")),
        "InvalidParameter.Email", 400)
    r.error("CreateUser bad Status", lambda: c.create_user(sso.CreateUserRequest(
        directory_id=d0, user_name="sdk-bad-status", status="On")),
        "InvalidParameter.Status", 400)
    r.error("CreateUser unknown directory", lambda: c.create_user(sso.CreateUserRequest(
        directory_id="d-nosuchdirectory", user_name="sdk-x")), "EntityNotExists.Directory", 404)

    got = r.succeeds("GetUser", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0, user_id=uid)).body.user)
    if got:
        r.equal("GetUser UserName", got.user_name, "sdk-alice")
        r.equal("GetUser Email", got.email, "alice@example.com")
        r.equal("GetUser ProvisionType", got.provision_type, "Manual")
        r.equal("GetUser ExternalId absent", got.external_id, None)
    r.error("GetUser unknown", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0, user_id="u-nosuchuser")), "EntityNotExists.User", 404)
    r.error("GetUser without UserId", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0)), "MissingParameter.UserId", 400)

    # UpdateUser and UpdateUserStatus.
    up = r.succeeds("UpdateUser", lambda: c.update_user(sso.UpdateUserRequest(
        directory_id=d0, user_id=uid, new_display_name="Alice P. Liddell",
        new_first_name="Alicia", new_last_name="L", new_email="alice@example.org",
        new_description="updated")).body.user)
    if up:
        r.equal("UpdateUser answers DisplayName", up.display_name, "Alice P. Liddell")
    got = r.succeeds("GetUser after UpdateUser", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0, user_id=uid)).body.user)
    if got:
        r.equal("UpdateUser DisplayName", got.display_name, "Alice P. Liddell")
        r.equal("UpdateUser FirstName", got.first_name, "Alicia")
        r.equal("UpdateUser LastName", got.last_name, "L")
        r.equal("UpdateUser Email", got.email, "alice@example.org")
        r.equal("UpdateUser Description", got.description, "updated")
        r.equal("UpdateUser keeps UserName", got.user_name, "sdk-alice")
    up = r.succeeds("UpdateUser only NewDescription", lambda: c.update_user(
        sso.UpdateUserRequest(directory_id=d0, user_id=uid,
                              new_description="only the description")).body.user)
    if up:
        r.equal("UpdateUser only NewDescription stored", (up.description, up.display_name),
                ("only the description", "Alice P. Liddell"))
    r.error("UpdateUser bad NewEmail", lambda: c.update_user(sso.UpdateUserRequest(
        directory_id=d0, user_id=uid, new_email="nope")), "InvalidParameter.NewEmail", 400)
    r.error("UpdateUser unknown", lambda: c.update_user(sso.UpdateUserRequest(
        directory_id=d0, user_id="u-nosuchuser", new_display_name="x")),
        "EntityNotExists.User", 404)

    r.succeeds("UpdateUserStatus Disabled", lambda: c.update_user_status(
        sso.UpdateUserStatusRequest(directory_id=d0, user_id=uid, new_status="Disabled")))
    got = r.succeeds("GetUser after disable", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0, user_id=uid)).body.user)
    if got:
        r.equal("UpdateUserStatus Disabled shows", got.status, "Disabled")
    r.succeeds("UpdateUserStatus Enabled", lambda: c.update_user_status(
        sso.UpdateUserStatusRequest(directory_id=d0, user_id=uid, new_status="Enabled")))
    got = r.succeeds("GetUser after enable", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0, user_id=uid)).body.user)
    if got:
        r.equal("UpdateUserStatus Enabled shows", got.status, "Enabled")
    r.error("UpdateUserStatus bad NewStatus", lambda: c.update_user_status(
        sso.UpdateUserStatusRequest(directory_id=d0, user_id=uid, new_status="Off")),
        "InvalidParameter.NewStatus", 400)
    r.error("UpdateUserStatus without NewStatus", lambda: c.update_user_status(
        sso.UpdateUserStatusRequest(directory_id=d0, user_id=uid)),
        "MissingParameter.NewStatus", 400)

    # ListUsers: paging across pages, filters, status, provision type.
    r.begin("ListUsers")
    made = []
    for i in range(12):
        u = r.succeeds(f"CreateUser sdk-page-{i:02}", lambda i=i: c.create_user(
            sso.CreateUserRequest(directory_id=d0, user_name=f"sdk-page-{i:02}",
                                  status="Disabled" if i % 4 == 0 else None)).body.user)
        if u:
            made.append(u.user_id)
    r.equal("created 12 page users", len(made), 12)
    first = r.succeeds("ListUsers first page", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, filter='UserName sw "sdk-page-"', max_results=5)).body)
    if first:
        r.equal("first page size", len(first.users or []), 5)
        r.equal("first page IsTruncated", first.is_truncated, True)
        r.equal("first page TotalCounts", first.total_counts, 12)
        r.equal("first page MaxResults", first.max_results, 5)
        r.check("first page NextToken", bool(first.next_token), "empty")
    try:
        seen, sizes = users_of(c, d0, filter='UserName sw "sdk-page-"', max_results=5)
        ids = [u.user_id for u in seen]
        r.equal("pages of 5 across 3 pages", sizes, [5, 5, 2])
        r.equal("paging returns each user once", sorted(ids), sorted(made))
    except Exception as e:  # noqa: BLE001
        r.check("paging through NextToken", False, describe(e))
    body = r.succeeds("ListUsers default page", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, filter='UserName sw "sdk-page-"')).body)
    if body:
        r.equal("default MaxResults is 10", (len(body.users or []), body.max_results), (10, 10))

    body = r.succeeds("ListUsers eq", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, filter='UserName eq "sdk-alice"')).body)
    if body:
        r.equal("Filter eq finds exactly alice", [u.user_id for u in body.users or []], [uid])
        r.equal("Filter eq TotalCounts", body.total_counts, 1)
        r.equal("Filter eq IsTruncated", body.is_truncated, False)
        r.equal("Filter eq without NextToken", body.next_token, None)
    body = r.succeeds("ListUsers eq nobody", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, filter='UserName eq "sdk-nobody"')).body)
    if body:
        r.equal("Filter eq nobody is empty", (body.users or [], body.total_counts), ([], 0))
    try:
        seen, _ = users_of(c, d0, filter='UserName sw "sdk-page-"', status="Disabled",
                           max_results=100)
        r.equal("Status Disabled: the 3 disabled page users",
                sorted(u.user_name for u in seen), ["sdk-page-00", "sdk-page-04", "sdk-page-08"])
        r.check("Status Disabled: all Disabled", all(u.status == "Disabled" for u in seen), seen)
        seen, _ = users_of(c, d0, filter='UserName sw "sdk-page-"', status="Enabled",
                           max_results=100)
        r.equal("Status Enabled: the 9 others", len(seen), 9)
        r.check("Status Enabled: all Enabled", all(u.status == "Enabled" for u in seen), seen)
    except Exception as e:  # noqa: BLE001
        r.check("ListUsers Status", False, describe(e))
    r.error("ListUsers bad Filter attribute", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, filter='Email eq "a@b.c"')), "InvalidParameter.Filter", 400)
    r.error("ListUsers bad Filter operator", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, filter='UserName co "a"')), "InvalidParameter.Filter", 400)
    r.error("ListUsers MaxResults 101", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, max_results=101)), "InvalidParameter.MaxResults", 400)
    r.error("ListUsers bad NextToken", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, next_token="not-a-token")), "InvalidParameter.NextToken", 400)
    r.error("ListUsers bad Status", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, status="Sleeping")), "InvalidParameter.Status", 400)
    r.error("ListUsers bad ProvisionType", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, provision_type="Imported")), "InvalidParameter.ProvisionType", 400)
    for u in made:
        r.succeeds("DeleteUser page user", lambda u=u: c.delete_user(
            sso.DeleteUserRequest(directory_id=d0, user_id=u)))

    # A SCIM-created user: ProvisionType Synchronized, GetUserId, OperationForbidden.
    r.begin("synchronized users")
    status, doc = scim(scim_base, scim_token, "POST", "/Users", {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "sdk-bob@example.com", "externalId": "ext-sdk-bob",
        "displayName": "Bob", "name": {"givenName": "Bob", "familyName": "Builder"},
        "emails": [{"value": "bob@example.com", "primary": True}], "active": True})
    r.equal("SCIM POST /Users", status, 201)
    bob = (doc or {}).get("id")
    if not bob:
        return uid
    got = r.succeeds("GetUserId", lambda: c.get_user_id(sso.GetUserIdRequest(
        directory_id=d0, external_id=sso.GetUserIdRequestExternalId(
            id="ext-sdk-bob", issuer="SCIM"))).body)
    if got:
        r.equal("GetUserId finds the SCIM user", got.user_id, bob)
    r.error("GetUserId unknown", lambda: c.get_user_id(sso.GetUserIdRequest(
        directory_id=d0, external_id=sso.GetUserIdRequestExternalId(
            id="ext-nobody", issuer="SCIM"))), "EntityNotExists.User", 404)
    r.error("GetUserId without ExternalId", lambda: c.get_user_id(sso.GetUserIdRequest(
        directory_id=d0)), "MissingParameter.ExternalId", 400)
    got = r.succeeds("GetUser SCIM user", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0, user_id=bob)).body.user)
    if got:
        r.equal("SCIM user ProvisionType", got.provision_type, "Synchronized")
        r.equal("SCIM user UserName", got.user_name, "sdk-bob@example.com")
        r.equal("SCIM user FirstName/LastName", (got.first_name, got.last_name),
                ("Bob", "Builder"))
        r.equal("SCIM user Email", got.email, "bob@example.com")
        ext = got.external_id
        r.equal("SCIM user ExternalId.Id", ext and ext.id, "ext-sdk-bob")
        r.check("SCIM user ExternalId.Issuer", bool(ext and ext.issuer), ext and ext.to_map())
    try:
        seen, _ = users_of(c, d0, provision_type="Synchronized", max_results=100)
        r.equal("ProvisionType Synchronized lists only bob", [u.user_id for u in seen], [bob])
        seen, _ = users_of(c, d0, provision_type="Manual", max_results=100)
        ids = [u.user_id for u in seen]
        r.check("ProvisionType Manual lists alice, not bob", uid in ids and bob not in ids, ids)
        r.check("ProvisionType Manual: all Manual",
                all(u.provision_type == "Manual" for u in seen), ids)
    except Exception as e:  # noqa: BLE001
        r.check("ListUsers ProvisionType", False, describe(e))

    r.error("UpdateUser on a synchronized user", lambda: c.update_user(sso.UpdateUserRequest(
        directory_id=d0, user_id=bob, new_display_name="Robert")),
        "OperationForbidden.SynchronizedUser", 403)
    r.error("DeleteUser on a synchronized user", lambda: c.delete_user(sso.DeleteUserRequest(
        directory_id=d0, user_id=bob)), "OperationForbidden.SynchronizedUser", 403)
    r.succeeds("UpdateUserStatus on a synchronized user", lambda: c.update_user_status(
        sso.UpdateUserStatusRequest(directory_id=d0, user_id=bob, new_status="Disabled")))
    got = r.succeeds("GetUser after status change", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0, user_id=bob)).body.user)
    if got:
        r.equal("UpdateUserStatus allowed on a synchronized user", got.status, "Disabled")
    status, doc = scim(scim_base, scim_token, "GET", f"/Users/{bob}")
    r.equal("SCIM sees the disabled user", (status, (doc or {}).get("active")), (200, False))
    return uid, bob


def groups(r, c, d0, alice):
    r.begin("groups")
    g = r.succeeds("CreateGroup", lambda: c.create_group(sso.CreateGroupRequest(
        directory_id=d0, group_name="sdk-eng", description="Engineering")).body.group)
    if not g:
        return
    gid = g.group_id
    r.check("CreateGroup GroupId g-...", bool(gid) and gid.startswith("g-"), gid)
    r.equal("CreateGroup GroupName", g.group_name, "sdk-eng")
    r.equal("CreateGroup Description", g.description, "Engineering")
    r.equal("CreateGroup ProvisionType", g.provision_type, "Manual")
    other = r.succeeds("CreateGroup second", lambda: c.create_group(sso.CreateGroupRequest(
        directory_id=d0, group_name="sdk-ops")).body.group)
    r.error("CreateGroup same name", lambda: c.create_group(sso.CreateGroupRequest(
        directory_id=d0, group_name="sdk-eng")), "EntityAlreadyExists.Group", 409)
    r.error("CreateGroup without GroupName", lambda: c.create_group(sso.CreateGroupRequest(
        directory_id=d0)), "MissingParameter.GroupName", 400)
    r.error("CreateGroup bad GroupName", lambda: c.create_group(sso.CreateGroupRequest(
        directory_id=d0, group_name="no/slashes")), "InvalidParameter.GroupName", 400)

    got = r.succeeds("GetGroup", lambda: c.get_group(sso.GetGroupRequest(
        directory_id=d0, group_id=gid)).body.group)
    if got:
        r.equal("GetGroup GroupName", got.group_name, "sdk-eng")
        r.equal("GetGroup Description", got.description, "Engineering")
        r.check("GetGroup CreateTime", bool(got.create_time), "empty")
    r.error("GetGroup unknown", lambda: c.get_group(sso.GetGroupRequest(
        directory_id=d0, group_id="g-nosuchgroup")), "EntityNotExists.Group", 404)

    body = r.succeeds("ListGroups eq", lambda: c.list_groups(sso.ListGroupsRequest(
        directory_id=d0, filter='GroupName eq "sdk-eng"')).body)
    if body:
        r.equal("ListGroups eq finds it", [x.group_id for x in body.groups or []], [gid])
    body = r.succeeds("ListGroups sw page 1", lambda: c.list_groups(sso.ListGroupsRequest(
        directory_id=d0, filter='GroupName sw "sdk-"', max_results=1)).body)
    if body:
        r.equal("ListGroups page 1", (len(body.groups or []), body.is_truncated,
                                      body.total_counts), (1, True, 2))
        token, first = body.next_token, (body.groups or [None])[0]
        body = r.succeeds("ListGroups sw page 2", lambda: c.list_groups(sso.ListGroupsRequest(
            directory_id=d0, filter='GroupName sw "sdk-"', max_results=1,
            next_token=token)).body)
        if body and first:
            r.equal("ListGroups page 2", (len(body.groups or []), body.is_truncated), (1, False))
            ids = {first.group_id} | {x.group_id for x in body.groups or []}
            r.equal("ListGroups pages cover both", ids, {gid, other.group_id if other else None})
    body = r.succeeds("ListGroups Manual", lambda: c.list_groups(sso.ListGroupsRequest(
        directory_id=d0, provision_type="Manual")).body)
    if body:
        r.check("ListGroups ProvisionType Manual",
                gid in [x.group_id for x in body.groups or []]
                and all(x.provision_type == "Manual" for x in body.groups or []), body.groups)

    up = r.succeeds("UpdateGroup", lambda: c.update_group(sso.UpdateGroupRequest(
        directory_id=d0, group_id=gid, new_group_name="sdk-engineering",
        new_description="All engineers")).body.group)
    if up:
        r.equal("UpdateGroup answers", (up.group_name, up.description),
                ("sdk-engineering", "All engineers"))
    got = r.succeeds("GetGroup after UpdateGroup", lambda: c.get_group(sso.GetGroupRequest(
        directory_id=d0, group_id=gid)).body.group)
    if got:
        r.equal("UpdateGroup stored", (got.group_name, got.description),
                ("sdk-engineering", "All engineers"))
    r.error("UpdateGroup to a taken name", lambda: c.update_group(sso.UpdateGroupRequest(
        directory_id=d0, group_id=gid, new_group_name="sdk-ops")),
        "EntityAlreadyExists.Group", 409)
    r.error("UpdateGroup unknown", lambda: c.update_group(sso.UpdateGroupRequest(
        directory_id=d0, group_id="g-nosuchgroup", new_group_name="sdk-x")),
        "EntityNotExists.Group", 404)
    up = r.succeeds("UpdateGroup only NewDescription", lambda: c.update_group(
        sso.UpdateGroupRequest(directory_id=d0, group_id=gid,
                               new_description="Only the description")).body.group)
    if up:
        r.equal("UpdateGroup only NewDescription stored", (up.group_name, up.description),
                ("sdk-engineering", "Only the description"))

    # Membership.
    r.begin("membership")
    r.succeeds("AddUserToGroup", lambda: c.add_user_to_group(sso.AddUserToGroupRequest(
        directory_id=d0, group_id=gid, user_id=alice)))
    r.error("AddUserToGroup again", lambda: c.add_user_to_group(sso.AddUserToGroupRequest(
        directory_id=d0, group_id=gid, user_id=alice)), "EntityAlreadyExists.GroupMember", 409)
    r.error("AddUserToGroup unknown user", lambda: c.add_user_to_group(
        sso.AddUserToGroupRequest(directory_id=d0, group_id=gid, user_id="u-nosuchuser")),
        "EntityNotExists.User", 404)
    r.error("AddUserToGroup unknown group", lambda: c.add_user_to_group(
        sso.AddUserToGroupRequest(directory_id=d0, group_id="g-nosuchgroup", user_id=alice)),
        "EntityNotExists.Group", 404)
    body = r.succeeds("ListGroupMembers", lambda: c.list_group_members(
        sso.ListGroupMembersRequest(directory_id=d0, group_id=gid)).body)
    if body:
        m = body.group_members or []
        r.equal("ListGroupMembers members", [(x.user_id, x.user_name, x.group_id) for x in m],
                [(alice, "sdk-alice", gid)])
        r.equal("ListGroupMembers TotalCounts", body.total_counts, 1)
        r.equal("ListGroupMembers ProvisionType", [x.provision_type for x in m], ["Manual"])
    body = r.succeeds("ListJoinedGroupsForUser", lambda: c.list_joined_groups_for_user(
        sso.ListJoinedGroupsForUserRequest(directory_id=d0, user_id=alice)).body)
    if body:
        j = body.joined_groups or []
        r.equal("ListJoinedGroupsForUser groups",
                [(x.group_id, x.group_name, x.user_id) for x in j],
                [(gid, "sdk-engineering", alice)])
        r.equal("ListJoinedGroupsForUser TotalCounts", body.total_counts, 1)
    r.error("ListGroupMembers unknown group", lambda: c.list_group_members(
        sso.ListGroupMembersRequest(directory_id=d0, group_id="g-nosuchgroup")),
        "EntityNotExists.Group", 404)
    r.error("ListJoinedGroupsForUser unknown user", lambda: c.list_joined_groups_for_user(
        sso.ListJoinedGroupsForUserRequest(directory_id=d0, user_id="u-nosuchuser")),
        "EntityNotExists.User", 404)

    r.error("DeleteUser in a group", lambda: c.delete_user(sso.DeleteUserRequest(
        directory_id=d0, user_id=alice)), "DeletionConflict.User.Group", 409)
    r.error("DeleteGroup with members", lambda: c.delete_group(sso.DeleteGroupRequest(
        directory_id=d0, group_id=gid)), "DeletionConflict.Group.User", 409)
    r.succeeds("RemoveUserFromGroup", lambda: c.remove_user_from_group(
        sso.RemoveUserFromGroupRequest(directory_id=d0, group_id=gid, user_id=alice)))
    r.error("RemoveUserFromGroup again", lambda: c.remove_user_from_group(
        sso.RemoveUserFromGroupRequest(directory_id=d0, group_id=gid, user_id=alice)),
        "EntityNotExists.GroupMember", 404)
    body = r.succeeds("ListGroupMembers after removal", lambda: c.list_group_members(
        sso.ListGroupMembersRequest(directory_id=d0, group_id=gid)).body)
    if body:
        r.equal("ListGroupMembers empty", (body.group_members or [], body.total_counts), ([], 0))
    body = r.succeeds("ListJoinedGroupsForUser after removal", lambda:
                      c.list_joined_groups_for_user(sso.ListJoinedGroupsForUserRequest(
                          directory_id=d0, user_id=alice)).body)
    if body:
        r.equal("ListJoinedGroupsForUser empty", body.joined_groups or [], [])

    for g_id in [gid] + ([other.group_id] if other else []):
        r.succeeds("DeleteGroup", lambda g_id=g_id: c.delete_group(sso.DeleteGroupRequest(
            directory_id=d0, group_id=g_id)))
    r.error("GetGroup after delete", lambda: c.get_group(sso.GetGroupRequest(
        directory_id=d0, group_id=gid)), "EntityNotExists.Group", 404)
    r.error("DeleteGroup again", lambda: c.delete_group(sso.DeleteGroupRequest(
        directory_id=d0, group_id=gid)), "EntityNotExists.Group", 404)


def credentials(r, c, d0, scim_base, scim_token, bob):
    r.begin("SCIM credentials")
    body = r.succeeds("ListSCIMServerCredentials", lambda: c.list_scimserver_credentials(
        sso.ListSCIMServerCredentialsRequest(directory_id=d0)).body)
    boot = None
    if body:
        creds = body.scimserver_credentials or []
        r.equal("bootstrap has one credential", (len(creds), body.total_counts), (1, 1))
        if creds:
            boot = creds[0]
            r.equal("credential CredentialType", boot.credential_type, "BearerToken")
            r.equal("credential Status", boot.status, "Enabled")
            r.equal("credential DirectoryId", boot.directory_id, d0)
            r.check("credential ExpireTime", bool(boot.expire_time), "empty")
    made = r.succeeds("CreateSCIMServerCredential", lambda: c.create_scimserver_credential(
        sso.CreateSCIMServerCredentialRequest(directory_id=d0)).body.scimserver_credential)
    if not made:
        return
    cid, secret = made.credential_id, made.credential_secret
    r.check("CreateSCIMServerCredential CredentialSecret", bool(secret), "empty")
    r.check("CreateSCIMServerCredential CredentialId", bool(cid) and cid != (boot and
                                                                             boot.credential_id),
            cid)
    r.equal("CreateSCIMServerCredential Status", made.status, "Enabled")
    r.equal("CreateSCIMServerCredential CredentialType", made.credential_type, "BearerToken")
    r.error("CreateSCIMServerCredential third", lambda: c.create_scimserver_credential(
        sso.CreateSCIMServerCredentialRequest(directory_id=d0)),
        "QuotaExceeded.SCIMCredential", 409)
    body = r.succeeds("ListSCIMServerCredentials two", lambda: c.list_scimserver_credentials(
        sso.ListSCIMServerCredentialsRequest(directory_id=d0)).body)
    if body:
        ids = [x.credential_id for x in body.scimserver_credentials or []]
        r.check("ListSCIMServerCredentials lists the new one", cid in ids and len(ids) == 2, ids)
    r.equal("SCIM with the new credential", scim(scim_base, secret, "GET", "/Users")[0], 200)

    up = r.succeeds("UpdateSCIMServerCredentialStatus Disabled",
                    lambda: c.update_scimserver_credential_status(
                        sso.UpdateSCIMServerCredentialStatusRequest(
                            directory_id=d0, credential_id=cid, new_status="Disabled")).body)
    if up and up.scimserver_credential:
        r.equal("UpdateSCIMServerCredentialStatus answers", up.scimserver_credential.status,
                "Disabled")
    body = r.succeeds("ListSCIMServerCredentials after disable", lambda:
                      c.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(
                          directory_id=d0)).body)
    if body:
        st = {x.credential_id: x.status for x in body.scimserver_credentials or []}
        r.equal("disabled credential listed Disabled", st.get(cid), "Disabled")
    r.equal("SCIM with a disabled credential", scim(scim_base, secret, "GET", "/Users")[0], 401)
    r.equal("SCIM with the other credential", scim(scim_base, scim_token, "GET", "/Users")[0],
            200)
    r.succeeds("UpdateSCIMServerCredentialStatus Enabled",
               lambda: c.update_scimserver_credential_status(
                   sso.UpdateSCIMServerCredentialStatusRequest(
                       directory_id=d0, credential_id=cid, new_status="Enabled")))
    r.equal("SCIM with the re-enabled credential", scim(scim_base, secret, "GET", "/Users")[0],
            200)
    r.error("UpdateSCIMServerCredentialStatus bad status",
            lambda: c.update_scimserver_credential_status(
                sso.UpdateSCIMServerCredentialStatusRequest(
                    directory_id=d0, credential_id=cid, new_status="Paused")),
            "InvalidParameter.NewStatus", 400)
    r.error("UpdateSCIMServerCredentialStatus unknown",
            lambda: c.update_scimserver_credential_status(
                sso.UpdateSCIMServerCredentialStatusRequest(
                    directory_id=d0, credential_id="scimcred-nosuch", new_status="Enabled")),
            "EntityNotExists.SCIMCredential", 404)
    r.succeeds("DeleteSCIMServerCredential", lambda: c.delete_scimserver_credential(
        sso.DeleteSCIMServerCredentialRequest(directory_id=d0, credential_id=cid)))
    r.equal("SCIM with a deleted credential", scim(scim_base, secret, "GET", "/Users")[0], 401)
    r.error("DeleteSCIMServerCredential again", lambda: c.delete_scimserver_credential(
        sso.DeleteSCIMServerCredentialRequest(directory_id=d0, credential_id=cid)),
        "EntityNotExists.SCIMCredential", 404)
    body = r.succeeds("ListSCIMServerCredentials after delete", lambda:
                      c.list_scimserver_credentials(sso.ListSCIMServerCredentialsRequest(
                          directory_id=d0)).body)
    if body:
        ids = [x.credential_id for x in body.scimserver_credentials or []]
        r.equal("ListSCIMServerCredentials back to one", (len(ids), cid in ids), (1, False))

    r.begin("SCIM synchronization")
    got = r.succeeds("GetSCIMSynchronizationStatus", lambda: c.get_scimsynchronization_status(
        sso.GetSCIMSynchronizationStatusRequest(directory_id=d0)).body)
    if got:
        r.equal("sync starts Enabled", got.scimsynchronization_status, "Enabled")
    r.succeeds("SetSCIMSynchronizationStatus Disabled", lambda:
               c.set_scimsynchronization_status(sso.SetSCIMSynchronizationStatusRequest(
                   directory_id=d0, scimsynchronization_status="Disabled")))
    got = r.succeeds("GetSCIMSynchronizationStatus after disable", lambda:
                     c.get_scimsynchronization_status(sso.GetSCIMSynchronizationStatusRequest(
                         directory_id=d0)).body)
    if got:
        r.equal("sync reads Disabled", got.scimsynchronization_status, "Disabled")
    r.equal("SCIM refused while Disabled", scim(scim_base, scim_token, "GET", "/Users")[0], 403)
    st = r.succeeds("GetDirectoryStatistics while Disabled", lambda: c.get_directory_statistics(
        sso.GetDirectoryStatisticsRequest(directory_id=d0)).body.directory_statistics)
    if st:
        r.equal("GetDirectoryStatistics SCIMSyncEnabled false", st.scimsync_enabled, False)
    if bob:
        up = r.succeeds("UpdateUser on a synchronized user while Disabled", lambda:
                        c.update_user(sso.UpdateUserRequest(
                            directory_id=d0, user_id=bob, new_display_name="Robert")).body.user)
        if up:
            r.equal("UpdateUser allowed while sync Disabled", up.display_name, "Robert")
    r.error("SetSCIMSynchronizationStatus bad value", lambda: c.set_scimsynchronization_status(
        sso.SetSCIMSynchronizationStatusRequest(directory_id=d0,
                                                scimsynchronization_status="Maybe")),
        "InvalidParameter.SCIMSynchronizationStatus", 400)
    r.succeeds("SetSCIMSynchronizationStatus Enabled", lambda:
               c.set_scimsynchronization_status(sso.SetSCIMSynchronizationStatusRequest(
                   directory_id=d0, scimsynchronization_status="Enabled")))
    got = r.succeeds("GetSCIMSynchronizationStatus after enable", lambda:
                     c.get_scimsynchronization_status(sso.GetSCIMSynchronizationStatusRequest(
                         directory_id=d0)).body)
    if got:
        r.equal("sync reads Enabled", got.scimsynchronization_status, "Enabled")
    r.equal("SCIM answers again when Enabled", scim(scim_base, scim_token, "GET", "/Users")[0],
            200)
    r.error("GetSCIMSynchronizationStatus unknown directory", lambda:
            c.get_scimsynchronization_status(sso.GetSCIMSynchronizationStatusRequest(
                directory_id="d-nosuchdirectory")), "EntityNotExists.Directory", 404)


def statistics(r, c, d0):
    r.begin("statistics")
    st = r.succeeds("GetDirectoryStatistics", lambda: c.get_directory_statistics(
        sso.GetDirectoryStatisticsRequest(directory_id=d0)).body.directory_statistics)
    users = r.succeeds("ListUsers all", lambda: c.list_users(sso.ListUsersRequest(
        directory_id=d0, max_results=100)).body)
    grps = r.succeeds("ListGroups all", lambda: c.list_groups(sso.ListGroupsRequest(
        directory_id=d0, max_results=100)).body)
    if st and users and grps:
        r.equal("UserCount matches ListUsers", st.user_count, users.total_counts)
        r.equal("GroupCount matches ListGroups", st.group_count, grps.total_counts)
        r.equal("SCIMServerCredentialCount", st.scimserver_credential_count, 1)
        r.equal("SCIMSyncEnabled", st.scimsync_enabled, True)
        r.equal("Region", st.region, "cn-shanghai")


def cleanup_users(r, c, d0, alice, bob):
    r.begin("user deletion")
    r.succeeds("DeleteUser", lambda: c.delete_user(sso.DeleteUserRequest(
        directory_id=d0, user_id=alice)))
    r.error("GetUser after delete", lambda: c.get_user(sso.GetUserRequest(
        directory_id=d0, user_id=alice)), "EntityNotExists.User", 404)
    r.error("DeleteUser again", lambda: c.delete_user(sso.DeleteUserRequest(
        directory_id=d0, user_id=alice)), "EntityNotExists.User", 404)
    if bob:
        r.error("DeleteUser synchronized user while Enabled", lambda: c.delete_user(
            sso.DeleteUserRequest(directory_id=d0, user_id=bob)),
            "OperationForbidden.SynchronizedUser", 403)


POLICY_NAME = "sdk-cloudsso-read-own"


def ram_admins(r, rc, c, bootstrap, d0, other_dir):
    r.begin("RAM users")
    body = r.succeeds("RAM ListUsers", lambda: rc.list_users(ram.ListUsersRequest()).body)
    first = None
    if body:
        us = (body.users.user if body.users else None) or []
        r.equal("RAM ListUsers: the bootstrap administrator", len(us), 1)
        first = us[0].user_name if us else None
        r.equal("RAM ListUsers IsTruncated", body.is_truncated, False)
    made = r.succeeds("RAM CreateUser", lambda: rc.create_user(ram.CreateUserRequest(
        user_name="sdk-reader", display_name="SDK Reader", comments="read-only")).body.user)
    if not made:
        return
    r.equal("RAM CreateUser UserName", made.user_name, "sdk-reader")
    r.equal("RAM CreateUser DisplayName", made.display_name, "SDK Reader")
    r.equal("RAM CreateUser Comments", made.comments, "read-only")
    r.check("RAM CreateUser UserId", bool(made.user_id), "empty")
    r.error("RAM CreateUser same name", lambda: rc.create_user(ram.CreateUserRequest(
        user_name="sdk-reader")), "EntityAlreadyExists.User", 409)
    r.error("RAM CreateUser without UserName", lambda: rc.create_user(ram.CreateUserRequest()),
            "MissingParameter.UserName", 400)
    got = r.succeeds("RAM GetUser", lambda: rc.get_user(ram.GetUserRequest(
        user_name="sdk-reader")).body.user)
    if got:
        r.equal("RAM GetUser fields", (got.user_name, got.display_name, got.user_id),
                ("sdk-reader", "SDK Reader", made.user_id))
        r.check("RAM GetUser CreateDate", bool(got.create_date), "empty")
    r.error("RAM GetUser unknown", lambda: rc.get_user(ram.GetUserRequest(
        user_name="sdk-nobody")), "EntityNotExist.User", 404)
    body = r.succeeds("RAM ListUsers two", lambda: rc.list_users(ram.ListUsersRequest()).body)
    if body:
        names = [u.user_name for u in (body.users.user if body.users else None) or []]
        r.check("RAM ListUsers lists the new one", "sdk-reader" in names and len(names) == 2,
                names)

    r.begin("RAM policies")
    doc = json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow",
        "Action": ["cloudsso:Get*", "cloudsso:List*"],
        "Resource": [f"acs:cloudsso:*:*:directory/{d0}", f"acs:cloudsso:*:*:directory/{d0}/*"],
    }]})
    pol = r.succeeds("RAM CreatePolicy", lambda: rc.create_policy(ram.CreatePolicyRequest(
        policy_name=POLICY_NAME, policy_document=doc,
        description="read the bootstrap directory")).body.policy)
    if pol:
        r.equal("RAM CreatePolicy fields", (pol.policy_name, pol.policy_type, pol.description),
                (POLICY_NAME, "Custom", "read the bootstrap directory"))
    r.error("RAM CreatePolicy same name", lambda: rc.create_policy(ram.CreatePolicyRequest(
        policy_name=POLICY_NAME, policy_document=doc)), "EntityAlreadyExists.Policy", 409)
    r.error("RAM CreatePolicy bad document", lambda: rc.create_policy(ram.CreatePolicyRequest(
        policy_name="sdk-bad", policy_document='{"Version": "1", "Statement": [{}]}')),
        "InvalidParameter.PolicyDocument", 400)
    r.error("RAM CreatePolicy without document", lambda: rc.create_policy(
        ram.CreatePolicyRequest(policy_name="sdk-bad")), "MissingParameter.PolicyDocument", 400)
    got = r.succeeds("RAM GetPolicy", lambda: rc.get_policy(ram.GetPolicyRequest(
        policy_name=POLICY_NAME, policy_type="Custom")).body)
    if got:
        r.equal("RAM GetPolicy Policy", (got.policy.policy_name, got.policy.policy_type,
                                         got.policy.attachment_count),
                (POLICY_NAME, "Custom", 0))
        v = got.default_policy_version
        try:
            same = v is not None and json.loads(v.policy_document) == json.loads(doc)
        except (TypeError, ValueError):
            same = False
        r.check("RAM GetPolicy DefaultPolicyVersion.PolicyDocument", same,
                v and v.policy_document)
    sysdoc = r.succeeds("RAM GetPolicy System", lambda: rc.get_policy(ram.GetPolicyRequest(
        policy_name="AdministratorAccess", policy_type="System")).body)
    if sysdoc:
        r.equal("RAM GetPolicy AdministratorAccess attached once",
                (sysdoc.policy.policy_type, sysdoc.policy.attachment_count), ("System", 1))
    r.error("RAM GetPolicy unknown", lambda: rc.get_policy(ram.GetPolicyRequest(
        policy_name="sdk-nosuch", policy_type="Custom")), "EntityNotExist.Policy", 404)
    r.error("RAM GetPolicy bad PolicyType", lambda: rc.get_policy(ram.GetPolicyRequest(
        policy_name=POLICY_NAME, policy_type="Managed")), "InvalidParameter.PolicyType", 400)
    body = r.succeeds("RAM ListPolicies", lambda: rc.list_policies(
        ram.ListPoliciesRequest()).body)
    if body:
        ps = [(p.policy_name, p.policy_type) for p in
              (body.policies.policy if body.policies else None) or []]
        r.check("RAM ListPolicies lists system and custom",
                (POLICY_NAME, "Custom") in ps and ("AdministratorAccess", "System") in ps, ps)
    body = r.succeeds("RAM ListPolicies Custom", lambda: rc.list_policies(
        ram.ListPoliciesRequest(policy_type="Custom")).body)
    if body:
        ps = [(p.policy_name, p.policy_type) for p in
              (body.policies.policy if body.policies else None) or []]
        r.equal("RAM ListPolicies PolicyType Custom", ps, [(POLICY_NAME, "Custom")])

    r.succeeds("RAM AttachPolicyToUser", lambda: rc.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="Custom", policy_name=POLICY_NAME,
                                      user_name="sdk-reader")))
    r.error("RAM AttachPolicyToUser again", lambda: rc.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="Custom", policy_name=POLICY_NAME,
                                      user_name="sdk-reader")),
        "EntityAlreadyExists.User.Policy", 409)
    r.error("RAM AttachPolicyToUser unknown policy", lambda: rc.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="Custom", policy_name="sdk-nosuch",
                                      user_name="sdk-reader")), "EntityNotExist.Policy", 404)
    r.error("RAM AttachPolicyToUser unknown user", lambda: rc.attach_policy_to_user(
        ram.AttachPolicyToUserRequest(policy_type="Custom", policy_name=POLICY_NAME,
                                      user_name="sdk-nobody")), "EntityNotExist.User", 404)
    body = r.succeeds("RAM ListPoliciesForUser", lambda: rc.list_policies_for_user(
        ram.ListPoliciesForUserRequest(user_name="sdk-reader")).body)
    if body:
        ps = [(p.policy_name, p.policy_type) for p in
              (body.policies.policy if body.policies else None) or []]
        r.equal("RAM ListPoliciesForUser", ps, [(POLICY_NAME, "Custom")])
    got = r.succeeds("RAM GetPolicy after attach", lambda: rc.get_policy(ram.GetPolicyRequest(
        policy_name=POLICY_NAME, policy_type="Custom")).body)
    if got:
        r.equal("RAM GetPolicy AttachmentCount 1", got.policy.attachment_count, 1)
    if first:
        body = r.succeeds("RAM ListPoliciesForUser bootstrap", lambda:
                          rc.list_policies_for_user(ram.ListPoliciesForUserRequest(
                              user_name=first)).body)
        if body:
            ps = [p.policy_name for p in (body.policies.policy if body.policies else None) or []]
            r.equal("bootstrap administrator has AdministratorAccess", ps,
                    ["AdministratorAccess"])

    r.begin("RAM AccessKeys")
    key = r.succeeds("RAM CreateAccessKey", lambda: rc.create_access_key(
        ram.CreateAccessKeyRequest(user_name="sdk-reader")).body.access_key)
    if not key:
        return
    r.check("RAM CreateAccessKey pair", bool(key.access_key_id and key.access_key_secret),
            key.to_map())
    r.equal("RAM CreateAccessKey Status", key.status, "Active")
    body = r.succeeds("RAM ListAccessKeys", lambda: rc.list_access_keys(
        ram.ListAccessKeysRequest(user_name="sdk-reader")).body)
    if body:
        ks = [(k.access_key_id, k.status) for k in
              (body.access_keys.access_key if body.access_keys else None) or []]
        r.equal("RAM ListAccessKeys", ks, [(key.access_key_id, "Active")])
    r.error("RAM ListAccessKeys unknown user", lambda: rc.list_access_keys(
        ram.ListAccessKeysRequest(user_name="sdk-nobody")), "EntityNotExist.User", 404)

    r.begin("second administrator")
    reader = SsoClient(config(bootstrap["api_endpoint"], key.access_key_id,
                              key.access_key_secret))
    reader_ram = RamClient(config(bootstrap["api_endpoint"], key.access_key_id,
                                  key.access_key_secret))
    body = r.succeeds("reader ListUsers own directory", lambda: reader.list_users(
        sso.ListUsersRequest(directory_id=d0)).body)
    if body:
        r.check("reader ListUsers answers", body.total_counts is not None, body.to_map())
    got = r.succeeds("reader GetDirectory own directory", lambda: reader.get_directory(
        sso.GetDirectoryRequest(directory_id=d0)).body.directory)
    if got:
        r.equal("reader GetDirectory own", got.directory_id, d0)
    r.error("reader CreateUser", lambda: reader.create_user(sso.CreateUserRequest(
        directory_id=d0, user_name="sdk-by-reader")), "NoPermission", 403)
    if other_dir:
        r.error("reader GetDirectory other directory", lambda: reader.get_directory(
            sso.GetDirectoryRequest(directory_id=other_dir)), "NoPermission", 403)
    r.error("reader SetSCIMSynchronizationStatus", lambda: reader.set_scimsynchronization_status(
        sso.SetSCIMSynchronizationStatusRequest(directory_id=d0,
                                                scimsynchronization_status="Disabled")),
        "NoPermission", 403)
    r.error("reader ListDirectories", lambda: reader.list_directories(), "NoPermission", 403)
    r.error("reader RAM ListUsers", lambda: reader_ram.list_users(ram.ListUsersRequest()),
            "NoPermission", 403)

    r.succeeds("RAM UpdateAccessKey Inactive", lambda: rc.update_access_key(
        ram.UpdateAccessKeyRequest(user_name="sdk-reader", user_access_key_id=key.access_key_id,
                                   status="Inactive")))
    body = r.succeeds("RAM ListAccessKeys after deactivation", lambda: rc.list_access_keys(
        ram.ListAccessKeysRequest(user_name="sdk-reader")).body)
    if body:
        ks = [k.status for k in (body.access_keys.access_key if body.access_keys else None) or []]
        r.equal("RAM UpdateAccessKey shows Inactive", ks, ["Inactive"])
    try:
        reader.get_directory(sso.GetDirectoryRequest(directory_id=d0))
        r.check("inactive AccessKey refused", False, "request succeeded")
    except Exception as e:  # noqa: BLE001
        code = getattr(e, "code", "") or ""
        r.check("inactive AccessKey refused", code.startswith("InvalidAccessKeyId"), describe(e))
    r.succeeds("RAM UpdateAccessKey Active", lambda: rc.update_access_key(
        ram.UpdateAccessKeyRequest(user_name="sdk-reader", user_access_key_id=key.access_key_id,
                                   status="Active")))
    r.succeeds("reactivated AccessKey works", lambda: reader.get_directory(
        sso.GetDirectoryRequest(directory_id=d0)))
    r.error("RAM UpdateAccessKey bad Status", lambda: rc.update_access_key(
        ram.UpdateAccessKeyRequest(user_name="sdk-reader", user_access_key_id=key.access_key_id,
                                   status="Paused")), "InvalidParameter.Status", 400)
    r.error("RAM UpdateAccessKey unknown key", lambda: rc.update_access_key(
        ram.UpdateAccessKeyRequest(user_name="sdk-reader", user_access_key_id="LTAInosuchkey",
                                   status="Active")), "EntityNotExist.User.AccessKey", 404)

    r.begin("RAM deletion")
    r.error("RAM DeleteUser with AccessKey", lambda: rc.delete_user(ram.DeleteUserRequest(
        user_name="sdk-reader")), "DeleteConflict.User.AccessKey", 409)
    r.error("RAM DeletePolicy attached", lambda: rc.delete_policy(ram.DeletePolicyRequest(
        policy_name=POLICY_NAME)), "DeleteConflict.Policy.User", 409)
    r.succeeds("RAM DeleteAccessKey", lambda: rc.delete_access_key(ram.DeleteAccessKeyRequest(
        user_name="sdk-reader", user_access_key_id=key.access_key_id)))
    body = r.succeeds("RAM ListAccessKeys after delete", lambda: rc.list_access_keys(
        ram.ListAccessKeysRequest(user_name="sdk-reader")).body)
    if body:
        r.equal("RAM ListAccessKeys empty",
                (body.access_keys.access_key if body.access_keys else None) or [], [])
    r.error("RAM DeleteAccessKey again", lambda: rc.delete_access_key(ram.DeleteAccessKeyRequest(
        user_name="sdk-reader", user_access_key_id=key.access_key_id)),
        "EntityNotExist.User.AccessKey", 404)
    r.error("deleted AccessKey refused", lambda: reader.get_directory(sso.GetDirectoryRequest(
        directory_id=d0)), "InvalidAccessKeyId.NotFound", 404)
    r.error("RAM DeleteUser with policy", lambda: rc.delete_user(ram.DeleteUserRequest(
        user_name="sdk-reader")), "DeleteConflict.User.Policy", 409)
    r.succeeds("RAM DetachPolicyFromUser", lambda: rc.detach_policy_from_user(
        ram.DetachPolicyFromUserRequest(policy_type="Custom", policy_name=POLICY_NAME,
                                        user_name="sdk-reader")))
    body = r.succeeds("RAM ListPoliciesForUser after detach", lambda: rc.list_policies_for_user(
        ram.ListPoliciesForUserRequest(user_name="sdk-reader")).body)
    if body:
        r.equal("RAM ListPoliciesForUser empty",
                (body.policies.policy if body.policies else None) or [], [])
    r.error("RAM DetachPolicyFromUser again", lambda: rc.detach_policy_from_user(
        ram.DetachPolicyFromUserRequest(policy_type="Custom", policy_name=POLICY_NAME,
                                        user_name="sdk-reader")),
        "EntityNotExist.User.Policy", 404)
    r.succeeds("RAM DeletePolicy", lambda: rc.delete_policy(ram.DeletePolicyRequest(
        policy_name=POLICY_NAME)))
    r.error("RAM GetPolicy after delete", lambda: rc.get_policy(ram.GetPolicyRequest(
        policy_name=POLICY_NAME, policy_type="Custom")), "EntityNotExist.Policy", 404)
    r.error("RAM DeletePolicy again", lambda: rc.delete_policy(ram.DeletePolicyRequest(
        policy_name=POLICY_NAME)), "EntityNotExist.Policy", 404)
    r.succeeds("RAM DeleteUser", lambda: rc.delete_user(ram.DeleteUserRequest(
        user_name="sdk-reader")))
    r.error("RAM GetUser after delete", lambda: rc.get_user(ram.GetUserRequest(
        user_name="sdk-reader")), "EntityNotExist.User", 404)
    r.error("RAM DeleteUser again", lambda: rc.delete_user(ram.DeleteUserRequest(
        user_name="sdk-reader")), "EntityNotExist.User", 404)
    if first:
        r.error("RAM DeleteUser self", lambda: rc.delete_user(ram.DeleteUserRequest(
            user_name=first)), "DeleteConflict.User.Self", 409)
        r.error("RAM DeleteAccessKey signing key", lambda: rc.delete_access_key(
            ram.DeleteAccessKeyRequest(user_name=first,
                                       user_access_key_id=bootstrap["admin_access_key_id"])),
            "DeleteConflict.User.AccessKey.InUse", 409)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        b = json.load(f)
    cfg = config(b["api_endpoint"], b["admin_access_key_id"], b["admin_access_key_secret"])
    c, rc = SsoClient(cfg), RamClient(cfg)
    d0, scim_base, scim_token = b["directory_id"], b["scim_base_url"], b["scim_token"]
    r = Report()
    try:
        d1 = directories(r, c, d0)
        got = users(r, c, d0, scim_base, scim_token)
        alice, bob = (got if isinstance(got, tuple) else (got, None))
        if alice:
            groups(r, c, d0, alice)
        credentials(r, c, d0, scim_base, scim_token, bob)
        statistics(r, c, d0)
        ram_admins(r, rc, c, b, d0, d1)
        if alice:
            cleanup_users(r, c, d0, alice, bob)
        if d1:
            delete_directory(r, c, d1)
    except Exception:  # noqa: BLE001 - a crash in the checks is a failure, never a pass
        r.check("checks ran to the end", False, traceback.format_exc())
    return 0 if r.summary() else 1


if __name__ == "__main__":
    sys.exit(main())

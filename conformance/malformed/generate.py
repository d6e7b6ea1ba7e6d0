#!/usr/bin/env python3
"""Writes the malformed-input corpus: one JSON-lines file per family in this folder.

Every case is data: the request (HTTP/1.1 with a body, raw bytes, or a signed API call with
a deliberate fault) and what the server must answer (status and error shape). The runner is
`tests/it/malformed.rs`; README.md describes the format. Run `python3 generate.py` after
editing; the files it writes are committed, so a reader sees every case without running it.

The runner starts the server with the limits in LIMITS (small, so both sides of each limit
are cheap), and fills the placeholders {bearer}, {user_id}, {user_name}, {group_id},
{group_name}, {member_id}, {dir_id}, {admin_name}, {addr}.
"""

import base64
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# Must equal the flags `tests/it/malformed.rs` starts the server with.
LIMITS = {
    "body_bytes_max": 4096,
    "filter_len_max": 256,
    "filter_depth_max": 4,
    "page_size_max": 10,
    "patch_operations_max": 4,
    "attribute_values_max": 3,
    "attribute_paths_max": 3,
    "request_read_timeout_ms": 1500,
}

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
SCIM_CT = "application/scim+json"
BEARER = ["authorization", "Bearer {bearer}"]
STALE = ["if-match", 'W/"1"']  # never the fixtures' version: a write that validates ends 412


def scim_err(status, scim_type=None):
    e = {"status": status, "shape": "scim"}
    if scim_type:
        e["scimType"] = scim_type
    return e


def api_err(status, code=None):
    e = {"status": status, "shape": "api"}
    if code:
        e["code"] = code
    return e


def oauth_err(status, error):
    return {"status": status, "shape": "oauth", "error": error}


def http(case_id, method, path, expect, body=None, headers=None, auth=True, ct=SCIM_CT,
         pending=None, body_b64=None, note=None):
    h = []
    if auth:
        h.append(BEARER)
    if ct is not None and (body is not None or body_b64 is not None):
        h.append(["content-type", ct])
    h.extend(headers or [])
    c = {"id": case_id, "send": "http", "method": method, "path": path, "headers": h,
         "expect": expect}
    if body is not None:
        c["body"] = body if isinstance(body, str) else json.dumps(body)
    if body_b64 is not None:
        c["body_b64"] = body_b64
    if pending:
        c["pending"] = pending
    if note:
        c["note"] = note
    return c


def raw(case_id, data, expect, pending=None, half_close=False, note=None):
    c = {"id": case_id, "send": "raw", "expect": expect}
    if isinstance(data, bytes):
        c["raw_b64"] = base64.b64encode(data).decode()
    else:
        c["raw"] = data
    if half_close:
        c["half_close"] = True
    if pending:
        c["pending"] = pending
    if note:
        c["note"] = note
    return c


def b64(b):
    return base64.b64encode(b).decode()


# ---------------------------------------------------------------------------------------
# Broken JSON.

VALID_USER = json.dumps({"schemas": [USER], "userName": "{user_name}",
                         "name": {"givenName": "A", "familyName": "B"},
                         "emails": [{"value": "a@example.com", "primary": True}]})
VALID_GROUP = json.dumps({"schemas": [GROUP], "displayName": "{group_name}",
                          "members": [{"value": "{member_id}"}]})


def broken_json():
    out = []
    writes = [("POST", "/scim/v2/Users", VALID_USER), ("POST", "/scim/v2/Groups", VALID_GROUP)]
    for method, path, doc in writes:
        kind = path.rsplit("/", 1)[1].lower()
        # Every proper prefix of a valid document is truncated JSON.
        for n in range(0, len(doc), 2):
            out.append(http(f"json/truncated-{kind}-{n:03}", method, path,
                            scim_err(400, "invalidSyntax"), body=doc[:n]))
    escapes = ["\\x41", "\\u12", "\\u", "\\uZZZZ", "\\q", "\\", "\\U0041", "\\ud800x",
               "\\0", "\\a", "\\'", "\\/\\", "\\u00"]
    for i, e in enumerate(escapes):
        body = '{"userName": "a' + e + '"}'
        out.append(http(f"json/bad-escape-{i:02}", "POST", "/scim/v2/Users",
                        scim_err(400, "invalidSyntax"), body=body))
        out.append(http(f"json/bad-escape-search-{i:02}", "POST", "/scim/v2/Users/.search",
                        scim_err(400, "invalidSyntax"), body='{"filter": "a' + e + '"}'))
    invalid_utf8 = [b"\xff", b"\xc3\x28", b"\xa0\xa1", b"\xe2\x28\xa1", b"\xe2\x82\x28",
                    b"\xf0\x28\x8c\xbc", b"\xf0\x90\x28\xbc", b"\xf8\xa1\xa1\xa1\xa1",
                    b"\xed\xa0\x80", b"\xc0\xaf", b"\xfe\xfe\xff\xff"]
    for i, bad in enumerate(invalid_utf8):
        body = b'{"userName": "x' + bad + b'"}'
        out.append(http(f"json/invalid-utf8-value-{i:02}", "POST", "/scim/v2/Users",
                        scim_err(400, "invalidSyntax"), body_b64=b64(body)))
        body = b'{"' + bad + b'": "x"}'
        out.append(http(f"json/invalid-utf8-key-{i:02}", "POST", "/scim/v2/Groups",
                        scim_err(400, "invalidSyntax"), body_b64=b64(body)))
    # Deep nesting: within the body limit, far past any sane document. serde_json stops at
    # 128 levels; the answer must be a 400, not a stack overflow.
    for depth in [64, 127, 128, 129, 200, 500, 1000, 2000]:
        for opener, closer, tag in [("[", "]", "array"), ('{"a":', "}", "object")]:
            body = opener * depth + "1" + closer * depth
            if len(body) > LIMITS["body_bytes_max"]:
                continue
            # Below serde_json's 128 levels the JSON parses: an array is not a resource
            # (invalidSyntax), an object without userName is invalidValue.
            shallow = "invalidSyntax" if tag == "array" else "invalidValue"
            expect = scim_err(400, "invalidSyntax" if depth >= 128 else shallow)
            out.append(http(f"json/deep-{tag}-{depth}", "POST", "/scim/v2/Users", expect,
                            body=body))
    # Unterminated deep nesting.
    for depth in [10, 300, 1500]:
        out.append(http(f"json/deep-unterminated-{depth}", "POST", "/scim/v2/Users",
                        scim_err(400, "invalidSyntax"), body="[" * depth))
    # Huge numbers where the schema wants something else: a number is never a userName.
    numbers = ["1e999999", "-1e999999", "9" * 400, "1" + "0" * 1000, "0." + "0" * 1000 + "1",
               "1e-999999", "-0", "18446744073709551616", "-9223372036854775809", "1.7976931348623157e309"]
    for i, n in enumerate(numbers):
        body = '{"userName": ' + n + '}'
        out.append(http(f"json/huge-number-username-{i:02}", "POST", "/scim/v2/Users",
                        scim_err(400), body=body))
        body = '{"schemas": ["' + SEARCH + '"], "count": ' + n + '}'
        out.append(http(f"json/huge-number-count-{i:02}", "POST", "/scim/v2/Users/.search",
                        scim_err(400), body=body))
    bad_numbers = ["01", "1.", ".5", "+1", "0x10", "NaN", "Infinity", "-", "1e", "1e+"]
    for i, n in enumerate(bad_numbers):
        out.append(http(f"json/bad-number-{i:02}", "POST", "/scim/v2/Users/.search",
                        scim_err(400, "invalidSyntax"), body='{"count": ' + n + '}'))
    # Not JSON at all, or JSON with trailing garbage.
    junk = ["", " ", "{", "}", "[", "{}}", "{} {}", "{\"a\":1,}", "[1,]", "{'a': 1}",
            "{a: 1}", "{\"a\" 1}", "{\"a\":}", "nul", "tru", "<xml/>", "userName=x",
            "\ufeff{}", "{\"a\":1}garbage", "/* c */ {}", "{\"a\":\"\n\"}", "{\"a\":\"\t\"}"]
    for i, j in enumerate(junk):
        out.append(http(f"json/not-json-{i:02}", "POST", "/scim/v2/Users",
                        scim_err(400, "invalidSyntax"), body=j))
        out.append(http(f"json/not-json-put-{i:02}", "PUT", "/scim/v2/Users/{user_id}",
                        scim_err(400, "invalidSyntax"), body=j))
        out.append(http(f"json/not-json-patch-{i:02}", "PATCH", "/scim/v2/Groups/{group_id}",
                        scim_err(400, "invalidSyntax"), body=j))
    # JSON of the wrong shape at the top level.
    for i, j in enumerate(["null", "true", "1", "\"s\"", "[]", "[{}]"]):
        for method, path in [("POST", "/scim/v2/Users"), ("PATCH", "/scim/v2/Users/{user_id}"),
                             ("POST", "/scim/v2/.search")]:
            tag = method.lower() + path.replace("/scim/v2", "").replace("/", "-").replace(
                "{user_id}", "id").replace(".", "")
            out.append(http(f"json/top-level-{i}{tag}", method, path, scim_err(400), body=j))
    # Duplicate keys: the last one wins (serde_json); the document is then validated as
    # usual. With a stale If-Match, a valid one ends in 412 and changes nothing.
    dups = [
        ('{"userName": "{user_name}", "userName": 5}', scim_err(400)),
        ('{"userName": 5, "userName": "{user_name}"}', scim_err(412)),
        ('{"userName": "{user_name}", "active": true, "active": "yes"}', scim_err(400)),
        ('{"userName": "{user_name}", "emails": [], "emails": 7}', scim_err(400)),
        ('{"userName": "{user_name}", "name": {"givenName": "a", "givenName": []}}', scim_err(400)),
    ]
    for i, (body, expect) in enumerate(dups):
        out.append(http(f"json/duplicate-keys-{i}", "PUT", "/scim/v2/Users/{user_id}", expect,
                        body=body, headers=[STALE]))
    return out


# ---------------------------------------------------------------------------------------
# Wrong types for every attribute of User and Group.

STRING_ATTRS = ["displayName", "nickName", "profileUrl", "title", "userType", "preferredLanguage",
                "locale", "timezone", "externalId", "password"]
NAME_SUBS = ["formatted", "familyName", "givenName", "middleName", "honorificPrefix",
             "honorificSuffix"]
MULTI = {
    "emails": ["value", "display", "type"],
    "phoneNumbers": ["value", "display", "type"],
    "ims": ["value", "display", "type"],
    "photos": ["value", "display", "type"],
    "addresses": ["formatted", "streetAddress", "locality", "region", "postalCode", "country",
                  "type"],
    "entitlements": ["value", "display", "type"],
    "roles": ["value", "display", "type"],
    "x509Certificates": ["value", "display", "type"],
}
ENTERPRISE_STRINGS = ["employeeNumber", "costCenter", "organization", "division", "department"]
NOT_STRINGS = [("num", 5), ("bool", True), ("array", ["x"]), ("object", {"v": "x"})]
# "true"/"false" in any case are read as booleans (Entra sends "True"): not wrong.
NOT_BOOLS = [("string", "yes"), ("num", 1), ("array", [True]), ("object", {})]
NOT_COMPLEX = [("string", "x"), ("num", 5), ("bool", False), ("array", ["x"])]
# A single element or a scalar for a multi-valued complex attribute with a `value`
# sub-attribute is wrapped (`"x"` -> `[{"value": "x"}]`): not wrong, so not here.
NOT_MULTI = [("num", 5), ("bool", True), ("array-of-nums", [5]), ("array-of-arrays", [[]]),
             ("array-of-bools", [True])]


def user_doc(extra):
    d = {"schemas": [USER, ENTERPRISE], "userName": "{user_name}"}
    d.update(extra)
    return d


def type_cases_for(tag, doc, scim_type="invalidValue"):
    """A wrong-typed document two ways: POST (the name is taken, so a document that were
    accepted would be a 409, never a new user) and PUT with a stale If-Match (accepted would
    be a 412, never a change)."""
    return [
        http(f"types/post-{tag}", "POST", "/scim/v2/Users", scim_err(400, scim_type), body=doc),
        http(f"types/put-{tag}", "PUT", "/scim/v2/Users/{user_id}", scim_err(400, scim_type), body=doc,
             headers=[STALE]),
    ]


def wrong_types():
    out = []
    for t, v in NOT_STRINGS:
        out += type_cases_for(f"userName-{t}", {"schemas": [USER], "userName": v})
    for a in STRING_ATTRS:
        for t, v in NOT_STRINGS:
            out += type_cases_for(f"{a}-{t}", user_doc({a: v}))
    for t, v in NOT_BOOLS:
        out += type_cases_for(f"active-{t}", user_doc({"active": v}))
    for t, v in NOT_COMPLEX:
        out += type_cases_for(f"name-{t}", user_doc({"name": v}))
    for s in NAME_SUBS:
        for t, v in NOT_STRINGS:
            out += type_cases_for(f"name.{s}-{t}", user_doc({"name": {s: v}}))
    for m, subs in MULTI.items():
        for t, v in NOT_MULTI:
            out += type_cases_for(f"{m}-{t}", user_doc({m: v}))
        for s in subs:
            for t, v in NOT_STRINGS[:2]:
                out += type_cases_for(f"{m}.{s}-{t}", user_doc({m: [{s: v}]}))
        for t, v in NOT_BOOLS[:2]:
            out += type_cases_for(f"{m}.primary-{t}", user_doc({m: [{"value": "v", "primary": v}]}))
    for a in ENTERPRISE_STRINGS:
        for t, v in NOT_STRINGS:
            out += type_cases_for(f"enterprise.{a}-{t}", user_doc({ENTERPRISE: {a: v}}))
    for t, v in NOT_COMPLEX:
        out += type_cases_for(f"enterprise-{t}", user_doc({ENTERPRISE: v}))
        if t != "string":  # a string manager is its `value`
            out += type_cases_for(f"enterprise.manager-{t}", user_doc({ENTERPRISE: {"manager": v}}))
    out += type_cases_for("addresses-string", user_doc({"addresses": "1 Main St"}))
    for t, v in NOT_STRINGS[:2]:
        out += type_cases_for(f"schemas-{t}", {"schemas": v, "userName": "{user_name}"}, "invalidSyntax")
        out += type_cases_for(f"schemas-item-{t}", {"schemas": [v], "userName": "{user_name}"})
    # Groups: POST with the taken displayName (409 if accepted), PUT with a stale If-Match.
    gdoc = lambda extra: {**{"schemas": [GROUP], "displayName": "{group_name}"}, **extra}
    gcases = []
    for t, v in NOT_STRINGS:
        gcases.append((f"displayName-{t}", {"schemas": [GROUP], "displayName": v}))
        gcases.append((f"externalId-{t}", gdoc({"externalId": v})))
    for t, v in NOT_MULTI:
        gcases.append((f"members-{t}", gdoc({"members": v})))
    for s in ["value", "display", "type", "$ref"]:
        for t, v in NOT_STRINGS:
            gcases.append((f"members.{s}-{t}", gdoc({"members": [{"value": "{member_id}", s: v}]})))
    for tag, doc in gcases:
        out.append(http(f"types/group-post-{tag}", "POST", "/scim/v2/Groups",
                        scim_err(400, "invalidValue"), body=doc))
        out.append(http(f"types/group-put-{tag}", "PUT", "/scim/v2/Groups/{group_id}",
                        scim_err(400, "invalidValue"), body=doc, headers=[STALE]))
    # PATCH values of the wrong type, on the fixtures themselves (nothing may change).
    for a in ["displayName", "title", "nickName", "externalId", "userName"]:
        for t, v in NOT_STRINGS:
            out.append(http(f"types/patch-{a}-{t}", "PATCH", "/scim/v2/Users/{user_id}",
                            scim_err(400, "invalidValue"), body={"schemas": [PATCH_OP], "Operations": [
                                {"op": "replace", "path": a, "value": v}]}))
    for t, v in NOT_BOOLS:
        out.append(http(f"types/patch-active-{t}", "PATCH", "/scim/v2/Users/{user_id}",
                        scim_err(400, "invalidValue"), body={"schemas": [PATCH_OP], "Operations": [
                            {"op": "replace", "path": "active", "value": v}]}))
    return out


# ---------------------------------------------------------------------------------------
# Limits, on both sides.

def pad_search(total):
    """A .search body of exactly `total` bytes."""
    base = json.dumps({"schemas": [SEARCH], "count": 1, "excludedAttributes": ["x"]})
    pad = total - len(base)
    return json.dumps({"schemas": [SEARCH], "count": 1, "excludedAttributes": ["x" * (pad + 1)]})


def filter_of_len(n):
    head = 'userName eq "'
    return head + "x" * (n - len(head) - 1) + '"'


def nested(depth):
    f = 'userName eq "x"'
    for _ in range(depth):
        f = "(" + f + ")"
    return f


def pct(s):
    from urllib.parse import quote
    return quote(s, safe="")


def limits():
    out = []
    m = LIMITS["body_bytes_max"]
    for n, expect in [(m - 1, {"status": 200, "shape": "list"}), (m, {"status": 200, "shape": "list"}),
                      (m + 1, scim_err(413)), (2 * m, scim_err(413))]:
        body = pad_search(n)
        assert len(body) == n, (n, len(body))
        for path in ["/scim/v2/Users/.search", "/scim/v2/Groups/.search", "/scim/v2/.search"]:
            tag = path.replace("/scim/v2/", "").replace("/", "-").replace(".", "")
            out.append(http(f"limits/body-{tag}-{n}", "POST", path, expect, body=body))
    out.append(http("limits/body-put-over", "PUT", "/scim/v2/Users/{user_id}", scim_err(413),
                    body=json.dumps({"userName": "{user_name}", "title": "t" * m})))
    out.append(http("limits/body-patch-over", "PATCH", "/scim/v2/Users/{user_id}", scim_err(413),
                    body=json.dumps({"schemas": [PATCH_OP], "Operations": [
                        {"op": "replace", "path": "title", "value": "t" * m}]})))
    # At the limit the API reads the body and refuses the call for its missing signature; the
    # token endpoint reads the form and refuses the missing client.
    at_api = "a=" + "b" * (m - 2)
    out.append(http("limits/body-api-at", "POST", "/?Action=ListDirectories&Version=2021-05-15",
                    api_err(400, "MissingParameter.AccessKeyId"), auth=False,
                    ct="application/x-www-form-urlencoded", body=at_api))
    at_oauth = "grant_type=client_credentials&pad="
    out.append(http("limits/body-oauth-at", "POST", "/oauth2/token", oauth_err(401, "invalid_client"),
                    auth=False, ct="application/x-www-form-urlencoded",
                    body=at_oauth + "b" * (m - len(at_oauth))))
    # Over the limit with a known AccessKey and a known OAuth client, so the body is what is
    # refused even where credentials are checked before a body is read (finding 3).
    out.append(api("limits/body-api-over", "acs3", SSO, "ListDirectories", [],
                   api_err(413, "RequestBodyTooLarge"), body="a=" + "b" * m,
                   content_type="application/x-www-form-urlencoded"))
    out.append(http("limits/body-oauth-over", "POST", "/oauth2/token",
                    oauth_err(400, "invalid_request"), auth=False,
                    ct="application/x-www-form-urlencoded", headers=[["authorization", "{oauth_basic}"]],
                    body="grant_type=client_credentials&pad=" + "b" * m))
    # A declared Content-Length past the limit is refused before any byte of the body.
    for n in [m + 1, 10 ** 9, 10 ** 18]:
        out.append(raw(f"limits/declared-length-{n}",
                       "POST /scim/v2/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n"
                       f"Content-Type: application/scim+json\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n{{",
                       scim_err(413)))
    # Filter length.
    fl = LIMITS["filter_len_max"]
    for n, ok in [(fl - 1, True), (fl, True), (fl + 1, False), (fl * 4, False)]:
        f = filter_of_len(n)
        assert len(f) == n
        expect = {"status": 200, "shape": "list"} if ok else scim_err(400, "invalidFilter")
        for coll in ["Users", "Groups"]:
            ff = f.replace("userName", "displayName") if coll == "Groups" else f
            ff = ff[:-1 - (len(ff) - n)] + '"' if len(ff) > n else ff
            out.append(http(f"limits/filter-len-get-{coll}-{n}", "GET",
                            f"/scim/v2/{coll}?filter={pct(ff)}", expect))
            out.append(http(f"limits/filter-len-search-{coll}-{n}", "POST",
                            f"/scim/v2/{coll}/.search", expect,
                            body={"schemas": [SEARCH], "filter": ff}))
    fd = LIMITS["filter_depth_max"]
    for d in [fd - 1, fd, fd + 1, fd + 5, 70]:
        ok = d <= fd
        expect = {"status": 200, "shape": "list"} if ok else scim_err(400, "invalidFilter")
        out.append(http(f"limits/filter-depth-parens-{d}", "GET",
                        f"/scim/v2/Users?filter={pct(nested(d))}", expect))
        f = "not (" * (d // 2) + 'userName eq "x"' + ")" * (d // 2)
        out.append(http(f"limits/filter-depth-not-{d}", "GET",
                        f"/scim/v2/Users?filter={pct(f)}",
                        {"status": 200, "shape": "list"} if 2 * (d // 2) <= fd else scim_err(400, "invalidFilter")))
    # Page size: count past the maximum is clamped to it (RFC 7644 section 3.4.2.4).
    ps = LIMITS["page_size_max"]
    for c in [0, 1, ps, ps + 1, 10 ** 6]:
        out.append(http(f"limits/count-{c}", "GET", f"/scim/v2/Users?count={c}",
                        {"status": 200, "shape": "list"}))
    # A negative count is 0 (RFC 7644 section 3.4.2.4).
    for c in ["-1", "-99999"]:
        out.append(http(f"limits/count-negative{c}", "GET", f"/scim/v2/Users?count={c}",
                        {"status": 200, "shape": "list"}))
    for c in ["abc", "1.5", "99999999999999999999999", "", "0x10"]:
        out.append(http(f"limits/count-bad-{pct(c) or 'empty'}", "GET",
                        f"/scim/v2/Users?count={pct(c)}", scim_err(400)))
    for s in ["abc", "1.5", "99999999999999999999999", "0x1"]:
        out.append(http(f"limits/startIndex-bad-{pct(s)}", "GET",
                        f"/scim/v2/Users?startIndex={pct(s)}", scim_err(400)))
    # PATCH operations: at the limit they are parsed and the stale If-Match answers 412.
    po = LIMITS["patch_operations_max"]
    for n in [po, po + 1, po * 10]:
        ops = [{"op": "replace", "path": "title", "value": f"t{i}"} for i in range(n)]
        out.append(http(f"limits/patch-ops-{n}", "PATCH", "/scim/v2/Users/{user_id}",
                        scim_err(412) if n <= po else scim_err(400),
                        body={"schemas": [PATCH_OP], "Operations": ops}, headers=[STALE]))
    # Values of one attribute.
    av = LIMITS["attribute_values_max"]
    for n in [av, av + 1]:
        emails = [{"value": f"e{i}@example.com"} for i in range(n)]
        expect = scim_err(412) if n <= av else scim_err(400, "invalidValue")
        out.append(http(f"limits/attribute-values-put-{n}", "PUT", "/scim/v2/Users/{user_id}",
                        expect, body={"userName": "{user_name}", "emails": emails},
                        headers=[STALE]))
        out.append(http(f"limits/attribute-values-post-{n}", "POST", "/scim/v2/Users",
                        scim_err(409, "uniqueness") if n <= av else scim_err(400, "invalidValue"),
                        body={"userName": "{user_name}", "emails": emails}))
        out.append(http(f"limits/attribute-values-patch-{n}", "PATCH", "/scim/v2/Users/{user_id}",
                        scim_err(412) if n <= av else scim_err(400, "invalidValue"),
                        body={"schemas": [PATCH_OP], "Operations": [
                            {"op": "add", "path": "emails", "value": emails}]},
                        headers=[STALE]))
    ap = LIMITS["attribute_paths_max"]
    for n in [ap, ap + 1]:
        paths = ",".join(["userName", "title", "name", "emails"][:n])
        expect = {"status": 200, "shape": "list"} if n <= ap else scim_err(400, "invalidValue")
        out.append(http(f"limits/attributes-{n}", "GET", f"/scim/v2/Users?attributes={paths}", expect))
        out.append(http(f"limits/excluded-attributes-{n}", "GET",
                        f"/scim/v2/Users?excludedAttributes={paths}", expect))
    # Names (finding 6): over-long and with control characters, refused like the API does.
    for tag, name in [("long-129", "n" * 129), ("long-1000", "n" * 1000), ("nul", "a\u0000b"),
                      ("newline", "a\nb"), ("escape", "a\u001bb"), ("del", "a\u007fb"),
                      ("tab", "a\tb"), ("bell", "\u0007")]:
        out.append(http(f"limits/username-{tag}", "PUT", "/scim/v2/Users/{user_id}",
                        scim_err(400, "invalidValue"), body={"userName": name}, headers=[STALE]))
        out.append(http(f"limits/displayname-{tag}", "PUT", "/scim/v2/Groups/{group_id}",
                        scim_err(400, "invalidValue"), body={"displayName": name}, headers=[STALE]))
    return out


# ---------------------------------------------------------------------------------------
# Filters.

BAD_SYNTAX = [
    "userName", "userName eq", "eq \"x\"",
    "userName eq \"x", "userName eq \"x\" and", "and userName eq \"x\"", "(userName eq \"x\"",
    "userName eq \"x\")", "()", "((", "))", "userName eq \"x\" userName eq \"y\"",
    "userName eq \"x\" xor userName eq \"y\"", "not userName eq \"x\"", "not", "not ()",
    "emails[", "emails[]", "emails[value eq \"x\"", "emails value eq \"x\"]",
    "emails[value eq \"x\"]]", "emails[emails[value eq \"x\"]]", "userName eq \"\\x\"",
    "userName eq \"\\u12\"", "userName pr \"x\"", "userName eq \"x\" or",
    "or", "and", "userName..value eq \"x\"", ".userName eq \"x\"", "userName. eq \"x\"",
    "1 eq 1", "\"x\" eq userName", "userName eq [\"x\"]", "userName eq {\"a\":1}",
    "urn: eq \"x\"", "userName eq \"x\"\u0000", "userName\teq\t\"x\"garbage",
    "meta.created gt", "userName eq \"x\" and (", "emails[type eq \"work\"].", "emails.[value]",
]
BAD_OPERATORS = ["equals", "==", "=", "!=", "ne!", "like", "in", "contains", "startswith",
                 "lt=", "gte", "lte", "is", "prr", "e q", "eq=", "~", ">", "<", "regex"]
# Read but tolerated: an empty filter is no filter; a bare word is a string (the grammar's
# last compValue alternative); an attribute the schema does not define matches nothing
# (`scim::filter::check`); a comparison of unlike types matches nothing. All answer 200.
TOLERATED = ["", " ", "userName eq x", "userName eq 'x'", "userName eq tru", "userName eq nul",
             "userName eq 1e", "userName eq 01", "userName eq --1", "nope eq \"x\"",
             "userNames eq \"x\"", "emails.nope eq \"x\"", "name.middle eq \"x\"",
             "urn:nope:nope eq \"x\"", "urn:ietf:params:scim:schemas:core:2.0:User:nope eq \"x\"",
             "meta.nope eq \"x\"", "x509Certificates.nope eq \"x\"", "groups.nope eq \"x\"",
             "emails[nope eq \"x\"]", "userName gt true", "emails co true"]
UNKNOWN_ATTRS = ["password", "urn:ietf:params:scim:schemas:core:2.0:User:password"]
BAD_COMPARE = ["active gt true", "active co \"x\"", "meta.created sw 5",
               "active eq \"yes\"", "meta.created gt \"not a date\"",
               "name gt \"x\"", "emails gt \"x\""]


def filters():
    out = []
    targets = [("get-users", "GET", "/scim/v2/Users?filter={f}"),
               ("get-groups", "GET", "/scim/v2/Groups?filter={f}"),
               ("search-users", "POST", "/scim/v2/Users/.search")]
    def add(tag, f, expect, only=None, pending=None):
        for name, method, path in targets:
            if only and name not in only:
                continue
            if method == "GET":
                out.append(http(f"filters/{tag}-{name}", method, path.replace("{f}", pct(f)), expect,
                                pending=pending))
            else:
                out.append(http(f"filters/{tag}-{name}", method, path, expect,
                                body={"schemas": [SEARCH], "filter": f}, pending=pending))
    for i, f in enumerate(BAD_SYNTAX):
        add(f"syntax-{i:02}", f, scim_err(400, "invalidFilter"))
    for i, op in enumerate(BAD_OPERATORS):
        add(f"operator-{i:02}", f"userName {op} \"x\"", scim_err(400, "invalidFilter"))
    for i, a in enumerate(UNKNOWN_ATTRS):
        f = a if "[" in a else f"{a} eq \"x\""
        add(f"unknown-attribute-{i:02}", f, scim_err(400, "invalidFilter"), only=["get-users", "search-users"])
    for i, f in enumerate(BAD_COMPARE):
        add(f"bad-comparison-{i:02}", f, scim_err(400, "invalidFilter"), only=["get-users", "search-users"])
    for i, f in enumerate(TOLERATED):
        add(f"tolerated-{i:02}", f, {"status": 200, "shape": "list"}, only=["get-users", "search-users"])
    # Filter given the wrong JSON type in a search.
    for t, v in NOT_STRINGS:
        out.append(http(f"filters/search-filter-type-{t}", "POST", "/scim/v2/Users/.search",
                        scim_err(400, "invalidValue"), body={"schemas": [SEARCH], "filter": v}))
    # Percent-encoding that does not decode to UTF-8.
    for i, q in enumerate(["%ff", "%c3%28", "%", "%zz", "%e2%82"]):
        out.append(http(f"filters/bad-encoding-{i}", "GET", f"/scim/v2/Users?filter={q}",
                        scim_err(400, "invalidFilter")))
    # sortBy and sortOrder the server cannot use are ignored (sorting is optional).
    for i, (k, v) in enumerate([("sortBy", "nope"), ("sortBy", "emails[value eq \"x\"]"),
                                ("sortOrder", "sideways"), ("sortBy", "[]")]):
        out.append(http(f"filters/sort-ignored-{i}", "GET", f"/scim/v2/Users?{k}={pct(v)}",
                        {"status": 200, "shape": "list"}))
    return out


# ---------------------------------------------------------------------------------------
# PATCH.

def patch_cases():
    out = []
    def p(tag, ops, expect, target="/scim/v2/Users/{user_id}", schemas=True, pending=None):
        body = {"Operations": ops}
        if schemas:
            body["schemas"] = [PATCH_OP]
        out.append(http(f"patch/{tag}", "PATCH", target, expect, body=body, pending=pending))
    for i, op in enumerate(["destroy", "", "ADD!", "move", "copy", "test", "delete", "put"]):
        p(f"bad-op-{i}", [{"op": op, "path": "title", "value": "x"}], scim_err(400, "invalidSyntax"))
    for t, v in [("num", 5), ("bool", True), ("null", None), ("array", ["add"]), ("object", {})]:
        p(f"op-type-{t}", [{"op": v, "path": "title", "value": "x"}], scim_err(400, "invalidSyntax"))
    p("op-missing", [{"path": "title", "value": "x"}], scim_err(400, "invalidSyntax"))
    for t, v in [("num", 5), ("bool", True), ("array", ["title"]), ("object", {})]:
        p(f"path-type-{t}", [{"op": "replace", "path": v, "value": "x"}], scim_err(400, "invalidPath"))
    bad_paths = ["", " ", "title.", ".title", "emails[", "emails[]", "emails[value eq]",
                 "emails[value eq \"x\"", "emails[value eq \"x\"]]", "emails[value eq \"x\"].",
                 "emails[value eq \"x\"].value.extra",
                 "name..givenName", "urn:", "title eq \"x\"", "members[value eq]", "\"title\"",
                 "emails[value eq \"x\"][type eq \"y\"]"]
    for i, path in enumerate(bad_paths):
        p(f"bad-path-{i:02}", [{"op": "replace", "path": path, "value": "x"}], scim_err(400, "invalidPath"))
        p(f"bad-path-remove-{i:02}", [{"op": "remove", "path": path}], scim_err(400, "invalidPath"))
    # A filter on an attribute the elements do not have matches nothing.
    nothing = "emails[nope eq \"x\"]"
    p("filter-matches-nothing", [{"op": "replace", "path": nothing, "value": "x"}], scim_err(400, "noTarget"))
    p("filter-matches-nothing-remove", [{"op": "remove", "path": nothing}], scim_err(400, "noTarget"))
    unknown = ["nope", "name.nope", "emails.nope", "urn:nope:title",
               "urn:ietf:params:scim:schemas:core:2.0:User:nope", "meta.nope"]
    for i, path in enumerate(unknown):
        p(f"unknown-path-{i}", [{"op": "replace", "path": path, "value": "x"}], scim_err(400, "invalidPath"))
    read_only = ["id", "meta", "meta.created", "groups", "meta.version"]
    for i, path in enumerate(read_only):
        p(f"read-only-{i}", [{"op": "replace", "path": path, "value": "x"}], scim_err(400, "mutability"))
    # Remove without a path is noTarget (RFC 7644 section 3.5.2.2).
    p("remove-no-path-user", [{"op": "remove"}], scim_err(400, "noTarget"))
    p("remove-no-path-user-value", [{"op": "remove", "value": {"title": "x"}}], scim_err(400, "noTarget"))
    p("remove-no-path-group", [{"op": "remove"}], scim_err(400, "noTarget"), target="/scim/v2/Groups/{group_id}")
    p("remove-no-path-group-members", [{"op": "remove", "value": [{"value": "{member_id}"}]}],
      scim_err(400, "noTarget"), target="/scim/v2/Groups/{group_id}")
    # A filter in a remove path that matches nothing.
    p("remove-filter-no-match", [{"op": "remove", "path": "emails[value eq \"nobody@x\"]"}],
      scim_err(400, "noTarget"))
    # Add or replace without a value.
    for op in ["add", "replace"]:
        p(f"{op}-no-value", [{"op": op, "path": "title"}], scim_err(400, "invalidSyntax"))
        p(f"{op}-no-value-no-path", [{"op": op}], scim_err(400, "invalidSyntax"))
        for t, v in [("string", "x"), ("num", 5), ("array", [1]), ("bool", True)]:
            p(f"{op}-no-path-value-{t}", [{"op": op, "value": v}], scim_err(400, "invalidValue"))
    # Members on groups: wrong shapes.
    g = "/scim/v2/Groups/{group_id}"
    for i, v in enumerate([5, "x", [5], [[]], [{"value": 5}], [{"display": "no value"}],
                           {"value": []}, [{"value": None}], [{"value": True}]]):
        p(f"members-add-bad-{i}", [{"op": "add", "path": "members", "value": v}], scim_err(400, "invalidValue"), target=g)
    p("members-add-unknown", [{"op": "add", "path": "members", "value": [{"value": "u-doesnotexist0000000000"}]}],
      scim_err(400, "invalidValue"), target=g)
    p("members-replace-displayName-type", [{"op": "replace", "path": "displayName", "value": 7}],
      scim_err(400, "invalidValue"), target=g)
    p("members-remove-bad-filter", [{"op": "remove", "path": "members[value eq]"}], scim_err(400, "invalidPath"), target=g)
    # The envelope.
    p("no-schemas", [{"op": "replace", "path": "title", "value": "x"}], scim_err(400, "invalidSyntax"), schemas=False)
    for t, v in [("string", "x"), ("num", 1), ("object", {}), ("null", None)]:
        out.append(http(f"patch/operations-type-{t}", "PATCH", "/scim/v2/Users/{user_id}",
                        scim_err(400, "invalidSyntax"), body={"schemas": [PATCH_OP], "Operations": v}))
    out.append(http("patch/operations-empty", "PATCH", "/scim/v2/Users/{user_id}", scim_err(400, "invalidSyntax"),
                    body={"schemas": [PATCH_OP], "Operations": []}))
    out.append(http("patch/operations-missing", "PATCH", "/scim/v2/Users/{user_id}", scim_err(400, "invalidSyntax"),
                    body={"schemas": [PATCH_OP]}))
    out.append(http("patch/wrong-schema", "PATCH", "/scim/v2/Users/{user_id}", scim_err(400, "invalidSyntax"),
                    body={"schemas": [USER], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}))
    for i, item in enumerate([1, "x", None, [], True]):
        out.append(http(f"patch/operation-item-{i}", "PATCH", "/scim/v2/Users/{user_id}",
                        scim_err(400, "invalidSyntax"), body={"schemas": [PATCH_OP], "Operations": [item]}))
    # One good operation and one bad one: the whole request fails, nothing changes.
    p("atomic-good-then-bad", [{"op": "replace", "path": "title", "value": "changed"},
                               {"op": "replace", "path": "nope", "value": "x"}], scim_err(400, "invalidPath"))
    p("atomic-good-then-bad-type", [{"op": "replace", "path": "title", "value": "changed"},
                                    {"op": "replace", "path": "active", "value": "x"}], scim_err(400, "invalidValue"))
    # A PATCH of a resource that does not exist.
    p("missing-resource", [{"op": "replace", "path": "title", "value": "x"}], scim_err(404),
      target="/scim/v2/Users/u-doesnotexist0000000000")
    return out


# ---------------------------------------------------------------------------------------
# Headers.

def headers():
    out = []
    search = json.dumps({"schemas": [SEARCH], "count": 1})
    for i, ct in enumerate(["text/plain", "application/xml", "multipart/form-data; boundary=x",
                            "application/x-www-form-urlencoded", "application/jsonx", "json",
                            "application/scim", "*/*", "application/scim+xml", "text/json",
                            "application", "/", ";", "application/json+scim"]):
        out.append(http(f"headers/content-type-{i:02}", "POST", "/scim/v2/Users/.search",
                        scim_err(415), body=search, ct=ct))
        out.append(http(f"headers/content-type-post-{i:02}", "POST", "/scim/v2/Users",
                        scim_err(415), body=VALID_USER, ct=ct))
    auths = ["", "Bearer", "Bearer ", "Bearer wrong", "Basic dXNlcjpwYXNz", "bearer",
             "Bearer {bearer}x", "Bearer x{bearer}", "Token {bearer}", "{bearer}",
             "Bearer\t", "Bearer " + "a" * 2000, "Negotiate abc", "Bearer {bearer} {bearer}",
             "Digest username=x", "Bearer \u00e9"]
    for i, a in enumerate(auths):
        for path in ["/scim/v2/Users", "/scim/v2/Groups/{group_id}"]:
            tag = "users" if path.endswith("Users") else "group"
            out.append(http(f"headers/authorization-{i:02}-{tag}", "GET", path, scim_err(401),
                            auth=False, headers=[["authorization", a]]))
    out.append(http("headers/authorization-missing-post", "POST", "/scim/v2/Users", scim_err(401),
                    auth=False, body=VALID_USER))
    # Two Authorization headers (finding 7): refused whatever their order.
    for i, pair in enumerate([["Bearer {bearer}", "Bearer wrong"], ["Bearer {bearer}", "Bearer {bearer}"]]):
        for path in ["/scim/v2/Users", "/scim/v2/Groups"]:
            out.append(http(f"headers/authorization-twice-{i}-{path.rsplit('/', 1)[1].lower()}",
                            "GET", path, scim_err(400, "invalidSyntax"), auth=False,
                            headers=[["authorization", pair[0]], ["authorization", pair[1]]]))
    # The wrong token first: refused before the fix (401) and after it (400, two headers).
    out.append(http("headers/authorization-twice-wrong-first", "GET", "/scim/v2/Users", scim_err(400, "invalidSyntax"),
                    auth=False, headers=[["authorization", "Bearer wrong"], ["authorization", "Bearer {bearer}"]]))
    # Preconditions that are not entity tags.
    for i, v in enumerate(["garbage", "W/", "\"", "W/\"", "*x"]):
        out.append(http(f"headers/if-match-{i}", "PUT", "/scim/v2/Users/{user_id}", scim_err(412),
                        body={"userName": "{user_name}"}, headers=[["if-match", v]]))
    # Protocol-level refusals (hyper, before routing). Finding 9: these get an error body in
    # the route's protocol shape; today they are empty.
    big = "x" * 1_000_000  # past hyper's read buffer (a 450 KB header is still read today)
    for i, (path, shape) in enumerate([("/scim/v2/Users", "scim"), ("/", "api")]):
        exp = {"status": 431, "shape": shape}
        out.append(raw(f"headers/huge-header-{shape}",
                       f"GET {path} HTTP/1.1\r\nHost: {{addr}}\r\nX-Big: {big}\r\nConnection: close\r\n\r\n",
                       exp))
        many = "".join(f"X-H{n}: v\r\n" for n in range(150))
        out.append(raw(f"headers/too-many-headers-{shape}",
                       f"GET {path} HTTP/1.1\r\nHost: {{addr}}\r\n{many}Connection: close\r\n\r\n",
                       exp))
        bad_lines = ["X-Bad Header: v", "X-Bad:\u0001v", ": novalue", "NoColon", "X-\u00ff: v"]
        for j, line in enumerate(bad_lines):
            out.append(raw(f"headers/bad-header-line-{j}-{shape}",
                           f"GET {path} HTTP/1.1\r\nHost: {{addr}}\r\n{line}\r\nConnection: close\r\n\r\n",
                           {"status": 400, "shape": shape}))
    bad_request_lines = ["GET", "GET /scim/v2/Users", "GET /scim/v2/Users HTTP/9.9",
                         "GET  /scim/v2/Users HTTP/1.1", "G\u0001T /scim/v2/Users HTTP/1.1",
                         "GET /scim/v2/Users\u0000 HTTP/1.1", "GET scim/v2/Users HTTP/1.1",
                         "GET /scim/v2/Users HTTP/1.1 extra"]
    for i, line in enumerate(bad_request_lines):
        out.append(raw(f"headers/bad-request-line-{i}",
                       f"{line}\r\nHost: {{addr}}\r\nConnection: close\r\n\r\n",
                       {"status": 400, "shape": "none"}, half_close=True))
    out.append(raw("headers/uri-too-long",
                   "GET /scim/v2/Users?filter=" + "a" * 70000 + " HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
                   {"status": 414, "shape": "scim"}))
    # Content-Length that lies or conflicts.
    for i, (cl, body) in enumerate([("abc", "{}"), ("-1", "{}"), ("1, 2", "{}"), ("+5", "{}")]):
        out.append(raw(f"headers/bad-content-length-{i}",
                       "POST /scim/v2/Users/.search HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n"
                       f"Content-Type: application/scim+json\r\nContent-Length: {cl}\r\nConnection: close\r\n\r\n{body}",
                       {"status": 400, "shape": "scim"}, half_close=True))
    out.append(raw("headers/content-length-twice-different",
                   "POST /scim/v2/Users/.search HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n"
                   "Content-Type: application/scim+json\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{}",
                   {"status": 400, "shape": "scim"}, half_close=True))
    # A body shorter than its Content-Length, then the client stops sending: 408 after the
    # read timeout.
    out.append(raw("headers/short-body-slow",
                   "POST /scim/v2/Users/.search HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n"
                   "Content-Type: application/scim+json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{",
                   scim_err(408)))
    # Headers that never finish: 408 once the read timeout passes (finding 9).
    out.append(raw("headers/headers-never-finish",
                   "GET /scim/v2/Users HTTP/1.1\r\nHost: {addr}\r\nX-Slow: 1\r\n",
                   {"status": 408, "shape": "scim"}))
    return out


# ---------------------------------------------------------------------------------------
# HTTP/1.1 chunking.

def chunked(body_chunks, tail="0\r\n\r\n", path="/scim/v2/Users/.search", extra=""):
    head = (f"POST {path} HTTP/1.1\r\nHost: {{addr}}\r\nAuthorization: Bearer {{bearer}}\r\n"
            f"Content-Type: application/scim+json\r\nTransfer-Encoding: chunked\r\n{extra}Connection: close\r\n\r\n")
    return head + "".join(body_chunks) + tail


def chunking():
    out = []
    doc = '{"count":1}'
    good = f"{len(doc):x}\r\n{doc}\r\n"
    # Valid chunked bodies, to show the bad ones fail for their fault only.
    out.append(raw("chunking/valid", chunked([good]), {"status": 200, "shape": "list"}))
    out.append(raw("chunking/valid-split", chunked(["1\r\n{\r\n", f"{len(doc)-1:x}\r\n{doc[1:]}\r\n"]),
                   {"status": 200, "shape": "list"}))
    out.append(raw("chunking/valid-trailer", chunked([good], tail="0\r\nX-Trailer: v\r\n\r\n"),
                   {"status": 200, "shape": "list"}))
    out.append(raw("chunking/valid-extension", chunked([f"{len(doc):x};name=value\r\n{doc}\r\n"]),
                   {"status": 200, "shape": "list"}))
    bad_sizes = ["zz", "-1", "ffffffffffffffffffff", "1 1", "0x5", "", " ", "g", "+b", "b.0",
                 "99999999999999999999999999"]
    for i, s in enumerate(bad_sizes):
        out.append(raw(f"chunking/bad-size-{i:02}", chunked([f"{s}\r\n{doc}\r\n"]),
                       {"status": 400, "shape": "scim", "scimType": "invalidSyntax"}, half_close=True))
    # A chunk longer than the data that follows, then the client stops: 408 after the timeout.
    out.append(raw("chunking/size-past-data-slow", chunked([f"ff\r\n{doc}"], tail=""), scim_err(408)))
    # ...or closes its side: the body is unreadable.
    out.append(raw("chunking/size-past-data-eof", chunked([f"ff\r\n{doc}"], tail=""),
                   scim_err(400, "invalidSyntax"), half_close=True))
    # No terminating zero chunk: waits for it, then 408.
    out.append(raw("chunking/missing-terminator-slow", chunked([good], tail=""), scim_err(408)))
    out.append(raw("chunking/missing-terminator-eof", chunked([good], tail=""),
                   scim_err(400, "invalidSyntax"), half_close=True))
    out.append(raw("chunking/missing-final-crlf-eof", chunked([good], tail="0\r\n"),
                   scim_err(400, "invalidSyntax"), half_close=True))
    out.append(raw("chunking/missing-chunk-crlf", chunked([f"{len(doc):x}\r\n{doc}XX"]),
                   scim_err(400, "invalidSyntax"), half_close=True))
    out.append(raw("chunking/bare-lf", chunked([f"{len(doc):x}\n{doc}\n"], tail="0\n\n"),
                   scim_err(400, "invalidSyntax"), half_close=True))
    # A chunked body over the body limit, in small chunks: 413.
    m = LIMITS["body_bytes_max"]
    piece = "x" * 1000
    chunks = [f"{len(piece):x}\r\n{piece}\r\n"] * (m // 1000 + 2)
    out.append(raw("chunking/over-body-limit", chunked(chunks), scim_err(413)))
    # ...and one at the limit, in chunks, is read.
    at = pad_search(m)
    out.append(raw("chunking/at-body-limit",
                   chunked([f"{len(at[i:i + 1000]):x}\r\n{at[i:i + 1000]}\r\n" for i in range(0, len(at), 1000)]),
                   {"status": 200, "shape": "list"}))
    acs3 = "Authorization: ACS3-HMAC-SHA256 Credential={ak_id},SignedHeaders=host,Signature=00\r\n"
    out.append(raw("chunking/over-body-limit-api",
                   chunked(chunks, path="/?Action=ListDirectories&Version=2021-05-15", extra=acs3),
                   api_err(413, "RequestBodyTooLarge")))
    # Bad trailers.
    for i, t in enumerate(["0\r\nBad Trailer\r\n\r\n", "0\r\n: v\r\n\r\n", "0\r\nX:\u0001\r\n\r\n"]):
        out.append(raw(f"chunking/bad-trailer-{i}", chunked([good], tail=t),
                       scim_err(400, "invalidSyntax"), half_close=True))
    # Transfer-Encoding that is not (only) chunked, or chunked twice (refused); with
    # Content-Length, before or after it (read by Transfer-Encoding alone, RFC 9112 section
    # 6.1). Each client shuts its write side once the request is sent, and is answered.
    for i, (te, ok) in enumerate([("gzip", False), ("chunked, gzip", False), ("identity", False),
                                  ("chunked\r\nTransfer-Encoding: chunked", False), ("xchunked", False),
                                  ("chunked\r\nContent-Length: 3", True), ("gzip, chunked", False),
                                  ("chunked, chunked", False), ("chunked\r\nTransfer-Encoding: gzip", False),
                                  ("CHUNKED", True)]):
        out.append(raw(f"chunking/transfer-encoding-{i}",
                       ("POST /scim/v2/Users/.search HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n"
                        f"Content-Type: application/scim+json\r\nTransfer-Encoding: {te}\r\nConnection: close\r\n\r\n") + good + "0\r\n\r\n",
                       {"status": 200, "shape": "list"} if ok else {"status": 400, "shape": "scim"},
                       half_close=True))
    out.append(raw("chunking/content-length-then-transfer-encoding",
                   "POST /scim/v2/Users/.search HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n"
                   "Content-Type: application/scim+json\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                   + good + "0\r\n\r\n",
                   {"status": 200, "shape": "list"}, half_close=True))
    # A whole request by Content-Length, then the client's write side shut: answered.
    for i in range(3):
        out.append(raw(f"chunking/half-close-after-request-{i}",
                       "POST /scim/v2/Users/.search HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n"
                       "Content-Type: application/scim+json\r\nContent-Length: 11\r\n\r\n{\"count\":1}",
                       {"status": 200, "shape": "list"}, half_close=True))
    return out


# ---------------------------------------------------------------------------------------
# Raw HTTP/2 frames (h2c with prior knowledge).

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST, SETTINGS, PUSH, PING, GOAWAY, WINDOW, CONT = range(10)
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1


def frame(kind, flags, stream, payload=b"", length=None):
    n = len(payload) if length is None else length
    return struct.pack(">I", n)[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def hpack_get(path=b"/scim/v2/ServiceProviderConfig"):
    # :method GET (2), :scheme http (6), :path literal (indexed name 4), :authority literal (1)
    return (bytes([0x82, 0x86]) + bytes([0x04, len(path)]) + path + bytes([0x01, 1]) + b"x")


def h2(*frames_):
    return PREFACE + frame(SETTINGS, 0, 0) + b"".join(frames_)


def client_goaway():
    return frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0))


def http2():
    out = []
    # GOAWAY error codes (RFC 9113 section 7).
    goaway = {"shape": "goaway", "h2_error": 1}  # PROTOCOL_ERROR
    frame_size = {"shape": "goaway", "h2_error": 6}  # FRAME_SIZE_ERROR
    flow = {"shape": "goaway", "h2_error": 3}  # FLOW_CONTROL_ERROR
    calm = {"shape": "goaway", "h2_error": 11}  # ENHANCE_YOUR_CALM
    # Bad prefaces: not HTTP/2, not HTTP/1.1 either.
    for i, p in enumerate([b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", b"PRI * HTTP/2.0\r\n\r\n",
                           b"PRI * HTTP/1.1\r\n\r\nSM\r\n\r\n", b"PRI\r\n\r\n",
                           b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"]):
        out.append(raw(f"http2/bad-preface-{i}", p, {"shape": "close"}, half_close=True))
    # No SETTINGS after the preface.
    # A first frame other than SETTINGS is tolerated by hyper: it must still not crash.
    out.append(raw("http2/no-settings-first", PREFACE + frame(HEADERS, END_HEADERS | END_STREAM, 1, hpack_get())
                   + client_goaway(), {"shape": "close"}))
    out.append(raw("http2/ping-before-settings", PREFACE + frame(PING, 0, 0, b"\0" * 8) + client_goaway(),
                   {"shape": "close"}))
    # Frames on stream 0 that belong to a stream.
    for kind, name, payload in [(HEADERS, "headers", hpack_get()), (DATA, "data", b"x"),
                                (RST, "rst", b"\0\0\0\0"), (PRIORITY, "priority", b"\0\0\0\0\x10"),
                                (CONT, "continuation", b"")]:
        out.append(raw(f"http2/stream0-{name}", h2(frame(kind, END_HEADERS, 0, payload)), goaway))
    # Connection frames on a stream.
    out.append(raw("http2/settings-on-stream", h2(frame(SETTINGS, 0, 1)), goaway))
    out.append(raw("http2/ping-on-stream", h2(frame(PING, 0, 1, b"\0" * 8)), goaway))
    out.append(raw("http2/goaway-on-stream", h2(frame(GOAWAY, 0, 1, b"\0" * 8)), goaway))
    # Bad lengths.
    out.append(raw("http2/oversized-frame", h2(frame(HEADERS, END_HEADERS, 1, b"\0" * 20000)), frame_size))
    out.append(raw("http2/oversized-data", h2(frame(HEADERS, END_HEADERS, 1, hpack_get()),
                                              frame(DATA, 0, 1, b"\0" * 17000)), frame_size))
    out.append(raw("http2/settings-bad-length", h2(frame(SETTINGS, 0, 0, b"\0" * 5)), goaway))
    out.append(raw("http2/settings-ack-with-payload", h2(frame(SETTINGS, ACK, 0, b"\0" * 6)), goaway))
    out.append(raw("http2/ping-bad-length", h2(frame(PING, 0, 0, b"\0" * 7)), goaway))
    out.append(raw("http2/window-bad-length", h2(frame(WINDOW, 0, 0, b"\0" * 3)), goaway))
    out.append(raw("http2/rst-bad-length", h2(frame(HEADERS, END_HEADERS, 1, hpack_get()),
                                              frame(RST, 0, 1, b"\0" * 3)), goaway))
    out.append(raw("http2/window-zero-increment", h2(frame(WINDOW, 0, 0, b"\0\0\0\0")), goaway))
    out.append(raw("http2/window-overflow", h2(frame(WINDOW, 0, 0, struct.pack(">I", 0x7fffffff)),
                                               frame(WINDOW, 0, 0, struct.pack(">I", 0x7fffffff))), flow))
    # Bad SETTINGS values.
    for name, ident, val in [("enable-push-2", 2, 2), ("window-too-big", 4, 0x80000000),
                             ("frame-size-too-small", 5, 100), ("frame-size-too-big", 5, 1 << 24)]:
        out.append(raw(f"http2/settings-{name}", PREFACE + frame(SETTINGS, 0, 0, struct.pack(">HI", ident, val)),
                       goaway))
    # Push from a client.
    out.append(raw("http2/push-promise-from-client",
                   h2(frame(PUSH, END_HEADERS, 1, struct.pack(">I", 2) + hpack_get())), goaway))
    # Stream ids: even, or going backwards.
    out.append(raw("http2/even-stream", h2(frame(HEADERS, END_HEADERS | END_STREAM, 2, hpack_get())), goaway))
    out.append(raw("http2/stream-backwards", h2(frame(HEADERS, END_HEADERS | END_STREAM, 5, hpack_get()),
                                                frame(HEADERS, END_HEADERS | END_STREAM, 3, hpack_get())), goaway))
    out.append(raw("http2/data-on-idle-stream", h2(frame(DATA, END_STREAM, 7, b"x")), goaway))
    out.append(raw("http2/continuation-without-headers", h2(frame(CONT, END_HEADERS, 1, hpack_get())), goaway))
    out.append(raw("http2/headers-interrupted", h2(frame(HEADERS, 0, 1, hpack_get()), frame(PING, 0, 0, b"\0" * 8)),
                   goaway))
    out.append(raw("http2/unknown-frame-then-bad", h2(frame(0xfa, 0, 0, b"abc"), frame(DATA, 0, 0, b"x")), goaway))
    # Bad HPACK.
    bad_blocks = [b"\xff\xff\xff\xff\xff", b"\x80", b"\xbf\x7f", b"\x40", b"\x00\x7f\xff",
                  b"\x3f\xe1\xff\xff\xff\x0f", b"\x82\x86\x04\x05/a", b"\x00\x81\xff\x01x",
                  b"\xfe", b"\x0f\xff\xff\xff\xff\xff"]
    for i, block in enumerate(bad_blocks):
        out.append(raw(f"http2/bad-hpack-{i}", h2(frame(HEADERS, END_HEADERS | END_STREAM, 1, block)), goaway))
    # RST floods: many streams opened and reset at once; the server ends the connection with
    # ENHANCE_YOUR_CALM (the client's own GOAWAY comes after the flood).
    for n in [100, 1000, 3000]:
        fl = b"".join(frame(HEADERS, END_HEADERS, 2 * i + 1, hpack_get()) + frame(RST, 0, 2 * i + 1, b"\0\0\0\x08")
                      for i in range(n))
        out.append(raw(f"http2/rst-flood-{n}", h2(fl, client_goaway()), calm))
    # Ping and SETTINGS floods, then a goodbye.
    out.append(raw("http2/ping-flood", h2(b"".join(frame(PING, 0, 0, struct.pack(">Q", i)) for i in range(2000)),
                                           client_goaway()), {"shape": "close"}))
    out.append(raw("http2/settings-flood", h2(b"".join(frame(SETTINGS, 0, 0) for _ in range(2000)),
                                               client_goaway()), {"shape": "close"}))
    # A valid request with a missing pseudo-header is a stream error, not a crash.
    for i, block in enumerate([b"\x82\x86", b"\x86\x04\x01/", b"\x82\x04\x01/"]):
        out.append(raw(f"http2/missing-pseudo-{i}",
                       h2(frame(HEADERS, END_HEADERS | END_STREAM, 1, block), client_goaway()),
                       {"shape": "close"}))
    return out


# ---------------------------------------------------------------------------------------
# Signed API calls with one fault each.

SSO, RAM = "2021-05-15", "2015-05-01"


def api(case_id, style, version, action, params, expect, pending=None, **fault):
    c = {"id": case_id, "send": "api", "style": style, "version": version, "action": action,
         "params": params, "expect": expect}
    if fault:
        c["fault"] = fault
    if pending:
        c["pending"] = pending
    return c


READS = [
    (SSO, "ListDirectories", []),
    (SSO, "GetDirectory", [["DirectoryId", "{dir_id}"]]),
    (SSO, "ListUsers", [["DirectoryId", "{dir_id}"]]),
    (SSO, "GetUser", [["DirectoryId", "{dir_id}"], ["UserId", "{user_id}"]]),
    (SSO, "ListGroups", [["DirectoryId", "{dir_id}"]]),
    (RAM, "ListUsers", []),
    (RAM, "GetUser", [["UserName", "{admin_name}"]]),
]

SIG_FAULTS = [
    ("no-signature", dict(drop_signature=True), {"acs3": api_err(400, "MissingParameter.AccessKeyId"),
                                                  "rpc": api_err(400, "MissingParameter.Signature")}),
    ("tampered-signature", dict(tamper_signature=True), api_err(400, "SignatureDoesNotMatch")),
    ("wrong-secret", dict(wrong_secret=True), api_err(400, "SignatureDoesNotMatch")),
    ("unknown-key", dict(key_id="LTAI0000000000000000unknown"), api_err(404, "InvalidAccessKeyId.NotFound")),
    ("empty-key", dict(key_id=""), {"acs3": api_err(400, "InvalidAuthorization"),
                                    "rpc": api_err(404, "InvalidAccessKeyId.NotFound")}),
    ("expired", dict(date_offset=-3600), api_err(400, "InvalidTimeStamp.Expired")),
    ("future", dict(date_offset=3600), api_err(400, "InvalidTimeStamp.Expired")),
    ("ancient", dict(date="2001-01-01T00:00:00Z"), api_err(400, "InvalidTimeStamp.Expired")),
    ("date-no-zone", dict(date="2026-01-01T00:00:00"), api_err(400, "InvalidTimeStamp.Format")),
    ("date-garbage", dict(date="yesterday"), api_err(400, "InvalidTimeStamp.Format")),
    ("date-epoch", dict(date="1700000000"), api_err(400, "InvalidTimeStamp.Format")),
    ("date-empty", dict(date=""), api_err(400, "InvalidTimeStamp.Format")),
    ("date-bad-month", dict(date="2026-13-01T00:00:00Z"), api_err(400, "InvalidTimeStamp.Format")),
    ("reused-nonce", dict(repeat=True), api_err(400, "SignatureNonceUsed")),
]


def api_cases():
    out = []
    for version, action, params in READS:
        for style in ["acs3", "rpc"]:
            for f in SIG_FAULTS:
                tag, fault, expect = f[0], f[1], f[2]
                pending = f[3] if len(f) > 3 else None
                if isinstance(expect, dict) and "acs3" in expect:
                    expect = expect[style]
                name = f"api/{style}-{action}-{version[:4]}-{tag}"
                out.append(api(name, style, version, action, params, expect, pending, **fault))
    # An empty nonce is refused (finding 8), before it could be remembered.
    for style in ["acs3", "rpc"]:
        e = api_err(400, "MissingParameter.SignatureNonce")
        out.append(api(f"api/{style}-empty-nonce", style, SSO, "ListDirectories", [], e, nonce=""))
    # The operation and version come from what was signed only (finding 1). Each signed call
    # carries the parameters the header's operation would need, and only reads.
    for name, version, action, params, header, value, code in [
        ("action-GetUser", RAM, "ListUsers", [["UserName", "{admin_name}"]], "x-acs-action", "GetUser", "Action"),
        ("action-ListAccessKeys", RAM, "ListUsers", [["UserName", "{admin_name}"]], "x-acs-action", "ListAccessKeys", "Action"),
        ("action-GetDirectory", SSO, "ListDirectories", [["DirectoryId", "{dir_id}"]], "x-acs-action", "GetDirectory", "Action"),
        ("version-2021", RAM, "ListUsers", [["DirectoryId", "{dir_id}"]], "x-acs-version", SSO, "Version"),
    ]:
        out.append(api(f"api/rpc-header-overrides-{name}", "rpc", version, action, params,
                       api_err(400, f"InvalidParameter.{code}"), unsigned_headers=[[header, value]]))
    # Two Authorization headers on a signed ACS3 call (finding 7).
    out.append(api("api/acs3-authorization-twice-valid-first", "acs3", SSO, "ListDirectories", [],
                   api_err(400, "InvalidHeader.Repeated"), unsigned_headers=[["authorization", "ACS3-HMAC-SHA256 Credential=x,SignedHeaders=host,Signature=00"]]))
    # ACS3 Authorization headers that do not parse.
    for i, a in enumerate(["ACS3-HMAC-SHA256", "ACS3-HMAC-SHA256 Credential=", "HMAC-SHA1 abc",
                           "ACS3-HMAC-SHA256 Credential={ak_id},SignedHeaders=,Signature=",
                           "ACS3-HMAC-SM3 Credential={ak_id},SignedHeaders=host,Signature=00",
                           "Bearer x", "ACS3-HMAC-SHA256 Credential={ak_id}", " "]):
        out.append(api(f"api/acs3-bad-authorization-{i}", "acs3", SSO, "ListDirectories", [],
                       api_err(400, "InvalidAuthorization"), replace_authorization=a))
    # A signed header changed after signing, or left out of the signed headers.
    for h, v in [("x-acs-date", "2026-01-01T00:00:00Z"), ("x-acs-signature-nonce", "other"),
                 ("host", "evil.example.com"), ("x-acs-content-sha256", "00")]:
        out.append(api(f"api/acs3-changed-{h}", "acs3", SSO, "ListDirectories", [],
                       api_err(400, "SignatureDoesNotMatch"), set_headers=[[h, v]]))
    # Unknown actions and versions.
    for style in ["acs3", "rpc"]:
        for a in ["NoSuchAction", "getuser", "Get User", "ListUsers2", "../ListUsers"]:
            out.append(api(f"api/{style}-unknown-action-{pct(a)}", style, SSO, a, [],
                           api_err(404, "InvalidAction.NotFound")))
        for v in ["2021-05-16", "2015-05-01x", "latest", "1"]:
            out.append(api(f"api/{style}-bad-version-{v}", style, v, "ListDirectories", [],
                           api_err(400, "InvalidVersion")))
        out.append(api(f"api/{style}-empty-action", style, SSO, "", [], api_err(400, "MissingParameter.Action")))
    # Missing required parameters.
    missing = [(SSO, "GetDirectory", [], "DirectoryId"), (SSO, "ListUsers", [], "DirectoryId"),
               (SSO, "GetUser", [["DirectoryId", "{dir_id}"]], "UserId"),
               (SSO, "GetUser", [["UserId", "{user_id}"]], "DirectoryId"),
               (SSO, "CreateUser", [["DirectoryId", "{dir_id}"]], "UserName"),
               (SSO, "UpdateDirectory", [["DirectoryId", "{dir_id}"]], "NewDirectoryName"),
               (SSO, "DeleteUser", [["DirectoryId", "{dir_id}"]], "UserId"),
               (RAM, "GetUser", [], "UserName"), (RAM, "DeleteUser", [], "UserName"),
               (RAM, "CreateAccessKey", [], "UserName")]
    for style in ["acs3", "rpc"]:
        for version, action, params, name in missing:
            out.append(api(f"api/{style}-missing-{action}-{version[:4]}-{name}", style, version, action,
                           params, api_err(400, f"MissingParameter.{name}")))
    # Parameters of the wrong type or shape.
    wrong = [("MaxResults", v) for v in ["abc", "-1", "0", "101", "1.5", "1e2", "99999999999999999999"]]
    for style in ["acs3", "rpc"]:
        for k, v in wrong:
            for action, params in [("ListUsers", [["DirectoryId", "{dir_id}"]]), ("ListGroups", [["DirectoryId", "{dir_id}"]])]:
                out.append(api(f"api/{style}-{action}-{k}-{pct(v) or 'empty'}", style, SSO, action,
                               params + [[k, v]], api_err(400, f"InvalidParameter.{k}")))
        for action, params, pending in [("ListUsers", [["DirectoryId", "{dir_id}"]], None),
                                        ("ListGroups", [["DirectoryId", "{dir_id}"]], None),
                                        ("ListDirectories", [], None)]:
            for i, tok in enumerate(["garbage", "!!!", "AAAA"]):
                out.append(api(f"api/{style}-{action}-NextToken-{i}", style, SSO, action,
                               params + [["NextToken", tok]], api_err(400, "InvalidParameter.NextToken"),
                               pending))
        for i, tok in enumerate(["garbage", "!!!"]):
            out.append(api(f"api/{style}-ram-ListUsers-NextToken-{i}", style, RAM, "ListUsers",
                           [["NextToken", tok]], api_err(400, "InvalidParameter.NextToken")))
        for i, f in enumerate(['UserName eq "x', 'UserName eq "', 'UserName eq x"']):
            out.append(api(f"api/{style}-ListUsers-Filter-unterminated-{i}", style, SSO, "ListUsers",
                           [["DirectoryId", "{dir_id}"], ["Filter", f]], api_err(400, "InvalidParameter.Filter")))
        for i, f in enumerate(["nope eq \"x\"", "UserName xx \"x\"", "((("]):
            out.append(api(f"api/{style}-ListUsers-Filter-bad-{i}", style, SSO, "ListUsers",
                           [["DirectoryId", "{dir_id}"], ["Filter", f]], api_err(400)))
        for i, (d, expect) in enumerate([("d-doesnotexist", api_err(404, "EntityNotExists.Directory")),
                                         ("", api_err(400, "MissingParameter.DirectoryId")),
                                         ("../x", api_err(400, "InvalidParameter.DirectoryId")),
                                         ("d-" + "x" * 300, api_err(400, "InvalidParameter.DirectoryId"))]):
            out.append(api(f"api/{style}-GetDirectory-bad-id-{i}", style, SSO, "GetDirectory",
                           [["DirectoryId", d]], expect))
        for k, v in [("Status", "Sometimes"), ("ProvisionType", "Magic")]:
            out.append(api(f"api/{style}-ListUsers-{k}-bad", style, SSO, "ListUsers",
                           [["DirectoryId", "{dir_id}"], [k, v]], api_err(400, f"InvalidParameter.{k}")))
        # Writes whose parameters are wrong change nothing.
        for i, (action, params, code) in enumerate([
            ("CreateUser", [["DirectoryId", "{dir_id}"], ["UserName", "bad name with spaces"]], "InvalidParameter.UserName"),
            ("CreateUser", [["DirectoryId", "{dir_id}"], ["UserName", "x" * 65]], "InvalidParameter.UserName"),
            ("CreateUser", [["DirectoryId", "{dir_id}"], ["UserName", "ok-name"], ["Status", "Maybe"]], "InvalidParameter.Status"),
            ("CreateUser", [["DirectoryId", "{dir_id}"], ["UserName", "ok-name"], ["Email", "not an email"]], "InvalidParameter.Email"),
            ("CreateGroup", [["DirectoryId", "{dir_id}"], ["GroupName", ""]], "MissingParameter.GroupName"),
            ("UpdateUserStatus", [["DirectoryId", "{dir_id}"], ["UserId", "{user_id}"], ["NewStatus", "Off"]], "InvalidParameter.NewStatus"),
            ("CreateDirectory", [["DirectoryName", "Bad_Name!"]], "InvalidParameter.DirectoryName"),
            ("UpdateDirectory", [["DirectoryId", "{dir_id}"], ["NewDirectoryName", "x"]], "InvalidParameter.NewDirectoryName"),
        ]):
            out.append(api(f"api/{style}-bad-write-{i}-{action}", style, SSO, action, params, api_err(400, code)))
        # Parameters given twice with different values.
        out.append(api(f"api/{style}-conflicting-param", style, SSO, "GetDirectory",
                       [["DirectoryId", "{dir_id}"], ["DirectoryId", "d-other"]],
                       api_err(400, "InvalidParameter.DirectoryId")))
    # RPC-only faults.
    for name, fault, expect in [
        ("drop-timestamp", dict(rpc_drop=["Timestamp"]), api_err(400, "MissingParameter.Timestamp")),
        ("drop-nonce", dict(rpc_drop=["SignatureNonce"]), api_err(400, "MissingParameter.SignatureNonce")),
        # Tolerated: HMAC-SHA1 is the only method, and the signature covers every parameter.
        ("drop-method", dict(rpc_drop=["SignatureMethod"]), {"status": 200, "shape": "none"}),
        ("md5", dict(rpc_set=[["SignatureMethod", "HMAC-MD5"]]), api_err(400, "InvalidParameter.SignatureMethod")),
        ("sig-version", dict(rpc_set=[["SignatureVersion", "2.0"]]), {"status": 200, "shape": "none"}),
        ("signature-not-base64", dict(rpc_signature="%%%"), api_err(400, "SignatureDoesNotMatch")),
        ("signature-empty", dict(rpc_signature=""), api_err(400, "SignatureDoesNotMatch")),
        ("post-as-get", dict(method="POST"), api_err(400, "SignatureDoesNotMatch")),
    ]:
        out.append(api(f"api/rpc-{name}", "rpc", SSO, "ListDirectories", [], expect, **fault))
    # Garbage bodies on the API endpoint.
    for i, body in enumerate(["a=%zz", "=&=&", "%", "Action", "a=" + "%ff" * 10]):
        out.append(http(f"api/form-garbage-{i}", "POST", "/", api_err(400, "MissingParameter.Action"), auth=False,
                        ct="application/x-www-form-urlencoded", body=body))
    for i, (q, expect) in enumerate([
            ("Action=ListDirectories", api_err(400, "MissingParameter.Version")),
            ("Version=2021-05-15", api_err(400, "MissingParameter.Action")),
            ("%zz", api_err(400, "MissingParameter.Action")),
            ("Action=%ff&Version=2021-05-15", api_err(404, "InvalidAction.NotFound")),
            ("Action=ListDirectories&Version=2021-05-15", api_err(400, "MissingParameter.AccessKeyId")),
            ("Action&Version", api_err(400, "MissingParameter.Action"))]):
        out.append(http(f"api/query-unsigned-{i}", "GET", f"/?{q}", expect, auth=False))
    return out


# ---------------------------------------------------------------------------------------
# OAuth token endpoint.

def oauth():
    out = []
    form = "application/x-www-form-urlencoded"
    cases = [
        ("no-grant", "", oauth_err(400, "invalid_request")),
        ("bad-grant", "grant_type=password&client_id=x&client_secret=y", oauth_err(400, "unsupported_grant_type")),
        ("grant-empty", "grant_type=&client_id=x&client_secret=y", oauth_err(400, "unsupported_grant_type")),
        ("no-client", "grant_type=client_credentials", oauth_err(401, "invalid_client")),
        ("unknown-client", "grant_type=client_credentials&client_id=nope&client_secret=nope", oauth_err(401, "invalid_client")),
        ("bearer-as-secret", "grant_type=client_credentials&client_id=nope&client_secret={bearer}", oauth_err(401, "invalid_client")),
        ("percent-garbage", "grant_type=%zz&client_id=%ff", oauth_err(400, "unsupported_grant_type")),
        ("json-body", '{"grant_type":"client_credentials"}', oauth_err(400, "invalid_request")),
        ("duplicate-grant", "grant_type=client_credentials&grant_type=password&client_id=x&client_secret=y", oauth_err(401, "invalid_client")),
    ]
    for name, body, expect in cases:
        out.append(http(f"oauth/{name}", "POST", "/oauth2/token", expect, auth=False, ct=form, body=body))
    for i, a in enumerate(["Basic", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode(),
                           "Basic " + base64.b64encode(b"x:y").decode(), "Bearer x", "Basic " + "A" * 3000]):
        out.append(http(f"oauth/basic-{i}", "POST", "/oauth2/token",
                        oauth_err(401, "invalid_client"), auth=False, ct=form,
                        body="grant_type=client_credentials", headers=[["authorization", a]]))
    # The fixture's OAuth client ({oauth_basic}); a wrong secret for it is refused.
    grant = "grant_type=client_credentials"
    out.append(http("oauth/client-wrong-secret", "POST", "/oauth2/token", oauth_err(401, "invalid_client"),
                    auth=False, ct=form, body=grant, headers=[["authorization", "{oauth_basic_wrong}"]]))
    out.append(http("oauth/client-wrong-secret-form", "POST", "/oauth2/token", oauth_err(401, "invalid_client"),
                    auth=False, ct=form, body=grant + "&client_id={oauth_id}&client_secret=wrong"))
    out.append(http("oauth/client-bad-grant", "POST", "/oauth2/token", oauth_err(400, "unsupported_grant_type"),
                    auth=False, ct=form, body="grant_type=password", headers=[["authorization", "{oauth_basic}"]]))
    # Two Authorization headers (finding 7): more than one way of authenticating the client is
    # invalid_request (RFC 6749 section 5.2), whichever comes first.
    for i, pair in enumerate([["{oauth_basic}", "{oauth_basic_wrong}"], ["{oauth_basic}", "{oauth_basic}"]]):
        out.append(http(f"oauth/authorization-twice-{i}", "POST", "/oauth2/token",
                        oauth_err(400, "invalid_request"), auth=False, ct=form, body=grant,
                        headers=[["authorization", pair[0]], ["authorization", pair[1]]]))
    out.append(http("oauth/authorization-twice-wrong-first", "POST", "/oauth2/token",
                    oauth_err(400, "invalid_request"), auth=False, ct=form, body=grant,
                    headers=[["authorization", "{oauth_basic_wrong}"], ["authorization", "{oauth_basic}"]]))
    for m in ["GET", "PUT", "DELETE", "PATCH"]:
        out.append(http(f"oauth/method-{m}", m, "/oauth2/token", oauth_err(405, "invalid_request"), auth=False))
    out.append(http("oauth/content-type-json", "POST", "/oauth2/token", oauth_err(401, "invalid_client"),
                    auth=False, ct="application/json", body="grant_type=client_credentials&client_id=x&client_secret=y"))
    return out


# ---------------------------------------------------------------------------------------
# Routes: methods, ids and paths that name nothing, and SearchRequest fields of the wrong type.

def routes():
    out = []
    for m in ["TRACE", "OPTIONS", "FOO", "PROPFIND", "get"]:
        for path in ["/scim/v2/Users", "/scim/v2/Users/{user_id}", "/scim/v2/ServiceProviderConfig"]:
            tag = path.replace("/scim/v2/", "").replace("/{user_id}", "-id")
            out.append(http(f"routes/method-{m}-{tag}", m, path, scim_err(405)))
    for m in ["PUT", "PATCH", "DELETE"]:
        for path in ["/scim/v2/Users", "/scim/v2/Groups", "/scim/v2/Schemas", "/scim/v2/ResourceTypes"]:
            out.append(http(f"routes/method-{m}-{path.rsplit('/', 1)[1]}", m, path, scim_err(405),
                            body="{}"))
    for m in ["GET", "PUT", "DELETE"]:
        out.append(http(f"routes/method-{m}-search", m, "/scim/v2/Users/.search", scim_err(405)))
    ids = ["u-doesnotexist0000000000", "%00", "..%2f..%2fetc%2fpasswd", "%2e%2e", "x" * 2000,
           "%ff%fe", "{group_id}", "%20", "u-%0a", "*", "'%20or%201=1"]
    for i, ident in enumerate(ids):
        for m in ["GET", "DELETE"]:
            out.append(http(f"routes/user-id-{i:02}-{m.lower()}", m, f"/scim/v2/Users/{ident}", scim_err(404)))
        out.append(http(f"routes/user-id-{i:02}-put", "PUT", f"/scim/v2/Users/{ident}", scim_err(404),
                        body={"userName": "{user_name}"}))
        out.append(http(f"routes/group-id-{i:02}-get", "GET",
                        f"/scim/v2/Groups/{ident.replace('{group_id}', '{user_id}')}", scim_err(404)))
    for i, path in enumerate(["/scim/v2/Widgets", "/scim/v2/Users/x/y", "/scim/v2//Users",
                              "/scim/v2/Users/{user_id}/groups", "/scim/v1/Users", "/scim/v2x/Users",
                              "/scim/v2/Schemas/urn:nope", "/scim/v2/ResourceTypes/Device", "/%ff",
                              "/scim/v2/Users/.search/x"]):
        out.append(http(f"routes/unknown-{i}", "GET", path, scim_err(404)))
    search = "/scim/v2/Users/.search"
    fields = [("startIndex", "x"), ("startIndex", [1]), ("startIndex", 1.5), ("count", "x"),
              ("count", {}), ("count", True), ("excludedAttributes", 5), ("sortBy", 5),
              ("sortOrder", 5), ("sortOrder", ["ascending"])]
    for i, (k, v) in enumerate(fields):
        out.append(http(f"routes/search-field-{i:02}-{k}", "POST", search, scim_err(400),
                        body={"schemas": [SEARCH], k: v}))
    # A comma-separated string for `attributes` is read as the query parameter is.
    out.append(http("routes/search-attributes-as-string", "POST", search, {"status": 200, "shape": "list"},
                    body={"schemas": [SEARCH], "attributes": "userName"}))
    # Found by this corpus (once ignored, now refused): non-string entries in
    # `attributes`/`excludedAttributes`, a `schemas` that is not a list of strings.
    ignored = [("attributes", [1]), ("excludedAttributes", [None]), ("schemas", "x"), ("schemas", 5)]
    for i, (k, v) in enumerate(ignored):
        body = {"schemas": [SEARCH], k: v} if k != "schemas" else {k: v}
        out.append(http(f"routes/search-ignored-{i}-{k}", "POST", search, scim_err(400, "invalidValue"),
                        body=body))
    for i, (k, v) in enumerate([("startIndex", "abc"), ("attributes", "%ff"), ("attributes", ",,,")]):
        out.append(http(f"routes/query-{i}-{k}", "GET", f"/scim/v2/Users?{k}={v}",
                        scim_err(400) if k == "startIndex" else {"status": 200, "shape": "list"}))
    return out


# ---------------------------------------------------------------------------------------
# The user portal and console sign-in: HTML answers.

def portal():
    out = []
    html = lambda st: {"status": st, "shape": "html"}
    form = "application/x-www-form-urlencoded"
    login = "/{dir_id}/login"
    # A sign-in form without its CSRF cookie is refused before anything is read or counted.
    for i, body in enumerate(["username=a&password=b", "username=a&password=b&csrf=x", "",
                              "%ff%fe=%zz", "username=" + "a" * 5000, "a" * 3000]):
        out.append(http(f"portal/login-no-csrf-{i}", "POST", login, html(403), auth=False, ct=form, body=body))
    out.append(http("portal/login-no-csrf-bytes", "POST", login, html(403), auth=False, ct=form,
                    body_b64=b64(b"username=\xff\xfe&password=\x00")))
    out.append(http("portal/login-cross-site", "POST", login, html(403), auth=False, ct=form,
                    body="username=a&password=b", headers=[["sec-fetch-site", "cross-site"]]))
    out.append(http("portal/login-wrong-type", "POST", login, html(403), auth=False, ct="application/json",
                    body='{"username": "a"}'))
    # A session cookie that is not a session: back to the sign-in page.
    cookies = ["cloudsso_session=garbage", "cloudsso_session=", "cloudsso_session=" + "a" * 3000,
               "cloudsso_session=%00", "cloudsso_session=a; cloudsso_session=b", "=; ;;",
               "cloudsso_session=\"quoted\"", "other=1"]
    for i, c in enumerate(cookies):
        for step in ["portal", "mfa", "password"]:
            out.append(http(f"portal/cookie-{i}-{step}", "GET", f"/{{dir_id}}/{step}", {"status": 303, "shape": "none"},
                            auth=False, headers=[["cookie", c]]))
    for step in ["mfa", "password", "logout", "mfa/enroll"]:
        out.append(http(f"portal/post-{step.replace('/', '-')}-no-session", "POST", f"/{{dir_id}}/{step}",
                        {"status": 303, "shape": "none"}, auth=False, ct=form, body="code=123456"))
    for i, path in enumerate(["/%ff/login", "/nodir/login", "/d-doesnotexist/login", "/" + "d" * 300 + "/login",
                              "/{dir_id}/console", "/{dir_id}/logout"]):
        out.append(http(f"portal/not-found-{i}", "GET", path, html(404), auth=False))
    # Console sign-in: whatever the SAMLResponse is, a 400 page, never a 5xx; an entity
    # expansion bomb is refused as quickly as any other.
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><l>&d;&d;&d;</l>')
    responses = [b"%%%", base64.b64encode(b"not xml"), base64.b64encode(bomb), b"",
                 base64.b64encode(b"<Response/>"), base64.b64encode(b"<a><b></a>"), b"A" * 3000,
                 base64.b64encode(b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>')]
    from urllib.parse import quote
    for i, r in enumerate(responses):
        out.append(http(f"portal/saml-response-{i}", "POST", "/saml-role/sso", html(400), auth=False, ct=form,
                        body="SAMLResponse=" + quote(r.decode())))
    out.append(http("portal/saml-no-response", "POST", "/saml-role/sso", html(400), auth=False, ct=form,
                    body="RelayState=x"))
    # The same at the user-based SSO ACS (RAM users), and a Response whose NameID is not a
    # RAM user's logon name (400) or names an account that trusts no IdP (403).
    for i, r in enumerate(responses):
        out.append(http(f"portal/user-sso-response-{i}", "POST", "/saml/SSO", html(400), auth=False, ct=form,
                        body="SAMLResponse=" + quote(r.decode())))
    out.append(http("portal/user-sso-no-response", "POST", "/saml/SSO", html(400), auth=False, ct=form,
                    body="RelayState=x"))
    def user_sso(name_id):
        return ('<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Assertion ID="_a">'
                '<saml:Issuer>https://idp.example/</saml:Issuer><saml:Subject><saml:NameID>'
                + name_id + '</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>').encode()
    for i, (name_id, status) in enumerate([("alice", 400), ("alice@example.com", 400),
                                           ("alice@1.onaliyun.com.evil", 400), ("@1.onaliyun.com", 400),
                                           ("alice@1000000000000001.onaliyun.com", 403)]):
        out.append(http(f"portal/user-sso-name-id-{i}", "POST", "/saml/SSO", html(status), auth=False, ct=form,
                        body="SAMLResponse=" + quote(base64.b64encode(user_sso(name_id)).decode())))
    for i, account in enumerate(["1000000000000001", "x", "%00", "a" * 300]):
        out.append(http(f"portal/ram-user-no-session-{i}", "GET", f"/{{dir_id}}/ram-user/{account}",
                        {"status": 303, "shape": "none"}, auth=False))
    return out


FAMILIES = {
    "json": broken_json,
    "types": wrong_types,
    "limits": limits,
    "filters": filters,
    "patch": patch_cases,
    "headers": headers,
    "chunking": chunking,
    "http2": http2,
    "api": api_cases,
    "oauth": oauth,
    "routes": routes,
    "portal": portal,
}


def main():
    total = 0
    seen = set()
    for family, make in FAMILIES.items():
        cases = make()
        for c in cases:
            assert c["id"] not in seen, c["id"]
            seen.add(c["id"])
        with open(os.path.join(HERE, f"{family}.jsonl"), "w") as f:
            for c in cases:
                f.write(json.dumps(c, ensure_ascii=True, sort_keys=False) + "\n")
        print(f"{family:10} {len(cases):5}")
        total += len(cases)
    print(f"{'total':10} {total:5}")


if __name__ == "__main__":
    main()

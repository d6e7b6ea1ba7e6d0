#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs from the conformance cases.

Usage: seeds.py OUT_DIR. Makes OUT_DIR/<target>/<name> for each target in fuzz/Cargo.toml,
in the input format each target documents at its top. Reads only conformance/*; writes only
under OUT_DIR (which it empties first, so removed cases leave no seed behind).
"""
import base64
import hashlib
import json
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONF = ROOT / "conformance"


def cases(path):
    return json.loads((CONF / path).read_text()).get("cases", [])


def filter_seeds():
    for f in ["filter/rfc7644-3.4.2.2.json", "filter/rfc7644-3.5.2-paths.json"]:
        for c in cases(f):
            text = c.get("filter", c.get("path"))
            if isinstance(text, str):
                yield text.encode()


def patch_seeds():
    for f in sorted((CONF / "patch").glob("*.json")):
        for c in cases(f.relative_to(CONF)):
            if "request" in c:
                case = {k: c[k] for k in ("resource", "doc", "request") if k in c}
                yield json.dumps(case).encode()


def schema_seeds():
    for f in sorted((CONF / "schema").glob("*.json")):
        for c in cases(f.relative_to(CONF)):
            if "input" in c:
                keys = ("resourceType", "input", "attributes", "excludedAttributes")
                yield json.dumps({k: c[k] for k in keys if k in c}).encode()


def policy_seeds():
    for f in sorted((CONF / "policy").glob("*.json")):
        for c in cases(f.relative_to(CONF)):
            if "policies" in c and "request" in c:
                yield json.dumps({"policies": c["policies"], "request": c["request"]}).encode()
            elif isinstance(c.get("document"), str):
                yield c["document"].encode()
            elif "document" in c:
                yield json.dumps(c["document"]).encode()


def http_request(method, path, query, headers, body):
    head = f"{method} {path}" + (f"?{query}" if query else "")
    lines = [head] + [f"{k}: {v}" for k, v in headers]
    return ("\n".join(lines) + "\n\n" + body).encode()


def api_seeds():
    vectors = json.loads((CONF / "api/signature-vectors.json").read_text())
    for v in vectors.get("acs3", []):
        yield http_request(v["method"], v["path"], v["query"], v["headers"], v.get("body", ""))
    for v in vectors.get("rpc", []):
        from urllib.parse import urlencode

        params = dict(v["params"], Signature=v["signature"])
        form = urlencode(params)
        headers = [["content-type", "application/x-www-form-urlencoded"]]
        yield http_request(v["method"], "/", "", headers, form)
        yield http_request(v["method"], "/", form, [], "")


SAML_SKELETON = """<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" \
xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" \
Destination="https://sso.example.com/saml-role/sso"><saml:Issuer>i</saml:Issuer>\
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>\
</samlp:Status><saml:Assertion ID="_a" Version="2.0"><saml:Issuer>i</saml:Issuer>\
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>\
<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>\
<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>\
<ds:Reference URI="#_a"><ds:Transforms><ds:Transform \
Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>\
<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>\
<ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo>\
<ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>\
<saml:AttributeStatement><saml:Attribute \
Name="https://www.aliyun.com/SAML-Role/Attributes/Role"><saml:AttributeValue>\
acs:ram::123:role/r,acs:ram::123:saml-provider/p</saml:AttributeValue></saml:Attribute>\
</saml:AttributeStatement></saml:Assertion></samlp:Response>"""


def saml_seeds():
    yield b"\x00" + SAML_SKELETON.encode()
    yield b"\x01" + base64.b64encode(SAML_SKELETON.encode())
    yield b"\x02"  # the valid signed Response, unedited


TARGETS = {
    "scim_filter": filter_seeds,
    "scim_patch": patch_seeds,
    "scim_schema": schema_seeds,
    "policy": policy_seeds,
    "api_request": api_seeds,
    "saml_response": saml_seeds,
}


def main():
    out = pathlib.Path(sys.argv[1])
    for target, make in TARGETS.items():
        d = out / target
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        n = 0
        for seed in make():
            (d / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
            n += 1
        print(f"seeds: {target}: {n}")


if __name__ == "__main__":
    main()

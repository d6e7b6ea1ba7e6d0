#!/usr/bin/env python3
"""Captures requests botocore signs with AWS Signature Version 4, as test vectors for cloudsso's
SigV4 verifier (src/api/sigv4.rs).

usage: python3 make_sigv4_vectors.py OUT.json   (needs boto3==1.44.8, the pin in run-sdk.sh)

1. Real clients: a capture server on 127.0.0.1; the unmodified boto3 STS client, pointed at it
   with temporary credentials (AccessKeyId, secret, SessionToken), calls GetCallerIdentity
   (query protocol: a form POST); `generate_presigned_url(..., HttpMethod="GET")` makes a
   presigned GET (as EKS and Vault's AWS auth use it). Each request is
   recorded exactly as received: method, raw path, raw query, headers, body.
2. Edge cases of the canonical request: botocore's own `SigV4Auth` signs crafted requests (dot
   segments and doubled slashes in the path, reserved and non-ASCII characters, repeated and
   empty query parameters, header values with inner and outer whitespace, a header sent twice,
   a body) and the request is recorded as it would go on the wire.

Every vector carries its `X-Amz-Date`, so a verifier checks it at that time.
"""
import http.server
import json
import sys
import threading
from urllib.parse import urlsplit

import boto3
import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AK, SECRET = "ASIAEXAMPLEVECTOR000", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "CSSO1.vector-token_with-chars~AAAA"
captured = []


class Capture(http.server.BaseHTTPRequestHandler):
    def handle_one(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        path, _, query = self.path.partition("?")
        captured.append({
            "method": self.command, "path": path, "query": query,
            "headers": [[k, v] for k, v in self.headers.items()], "body": body,
        })
        out = (
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<GetCallerIdentityResult><Arn>arn:aws:sts::1:assumed-role/r/s</Arn>"
            "<UserId>AROA:s</UserId><Account>1</Account></GetCallerIdentityResult>"
            "<ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>"
        ).encode()
        self.send_response(200)
        self.send_header("content-type", "text/xml")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = handle_one

    def log_message(self, *a):
        pass


def real_clients():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Capture)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{srv.server_port}"
    out = []
    for region in ["us-east-1", "eu-central-1"]:
        sts = boto3.client("sts", endpoint_url=endpoint, region_name=region,
                           aws_access_key_id=AK, aws_secret_access_key=SECRET,
                           aws_session_token=TOKEN)
        sts.get_caller_identity()
        out.append(("boto3 get_caller_identity " + region, captured.pop()))
        url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=900, HttpMethod="GET")
        parts = urlsplit(url)
        out.append(("boto3 presigned get_caller_identity " + region, {
            "method": "GET", "path": parts.path, "query": parts.query,
            "headers": [["Host", parts.netloc]], "body": "",
        }))
    srv.shutdown()
    return out


def crafted():
    creds = Credentials(AK, SECRET, TOKEN)
    cases = [
        ("dot segments and doubled slashes", "POST",
         "http://sts.example.test/a/./b//c/../d/", {}, "Action=GetCallerIdentity&Version=2011-06-15"),
        ("reserved and non-ASCII path", "GET",
         "http://sts.example.test/p%20q/%C3%BC+%2F~x?", {}, ""),
        ("query: repeated, empty, encoded, unicode", "GET",
         "http://sts.example.test/?b=2&a=z&a=y&empty=&k%20ey=v%2Fw&u=%C3%A9%2B&t=~-_.", {}, ""),
        ("header whitespace and a header sent twice", "POST",
         "http://sts.example.test/", {"X-Custom": "  a   b\tc  ", "X-Twice": "one"},
         "Action=GetCallerIdentity&Version=2011-06-15"),
        ("a body with a content type", "POST", "http://sts.example.test:8443/",
         {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
         "Action=GetCallerIdentity&Version=2011-06-15&Extra=%C3%A9"),
    ]
    out = []
    for name, method, url, headers, body in cases:
        req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
        if name.startswith("header whitespace"):
            # A header sent twice: botocore signs every value, joined with a comma.
            req.headers.add_header("X-Twice", "  two  ")
        SigV4Auth(creds, "sts", "us-west-2").add_auth(req)
        parts = urlsplit(req.url)
        sent = [[k, v] for k, v in req.headers.items()]
        sent.append(["Host", parts.netloc])
        out.append((name, {
            "method": method, "path": parts.path, "query": parts.query,
            "headers": sent, "body": body,
        }))
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    vectors = []
    for name, r in real_clients() + crafted():
        r["name"] = name
        vectors.append(r)
    doc = {
        "generator": f"conformance/api/make_sigv4_vectors.py, botocore {botocore.__version__}",
        "access_key_id": AK,
        "secret": SECRET,
        "security_token": TOKEN,
        "vectors": vectors,
    }
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(vectors)} vectors written to {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

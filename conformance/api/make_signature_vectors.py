#!/usr/bin/env python3
"""Captures requests the official Alibaba Cloud SDK signs, as test vectors for cloudsso's
signature verification (src/api/signature.rs).

usage: python3 make_signature_vectors.py OUT.json   (needs alibabacloud-cloudsso20210515==1.7.0)

It starts a capture server on 127.0.0.1, points the unmodified SDK at it with a known
AccessKey pair, calls a few operations (ACS3-HMAC-SHA256, the SDK's default), and records each
request exactly as received: method, path, raw query, headers, body. It also records RPC
signatures (HMAC-SHA1, SignatureVersion 1.0) computed by the SDK's own helper.
"""
import http.server
import json
import sys
import threading

from alibabacloud_cloudsso20210515 import models
from alibabacloud_cloudsso20210515.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_openapi.utils import Utils

AK, SECRET = "LTAI5tTestKeyId0000000000", "TestSecretValueThatIsNotReal000000000"
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
        out = json.dumps({"RequestId": "x"}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = handle_one

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Capture)
threading.Thread(target=srv.serve_forever, daemon=True).start()
cfg = open_api_models.Config(access_key_id=AK, access_key_secret=SECRET,
                             endpoint=f"127.0.0.1:{srv.server_port}", protocol="http")
client = Client(cfg)
client.list_directories()
client.create_user(models.CreateUserRequest(directory_id="d-00fc2p61****", user_name="Alice Ü+x y",
                                            display_name="Alice & Bob", email="a+b@example.com"))
client.list_users(models.ListUsersRequest(directory_id="d-00fc2p61****", filter='UserName sw "Al"', max_results=10))
srv.shutdown()

rpc = []
for params in [
    {"Action": "ListDirectories", "Version": "2021-05-15", "Format": "JSON", "AccessKeyId": AK,
     "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
     "Timestamp": "2026-11-23T12:00:00Z"},
    {"Action": "CreateUser", "Version": "2021-05-15", "DirectoryId": "d-00fc2p61****", "UserName": "Ünïcode name+1 /*~",
     "AccessKeyId": AK, "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": "n-2",
     "Timestamp": "2026-11-23T12:00:00Z"},
]:
    rpc.append({"method": "POST", "params": params, "signature": Utils.get_rpcsignature(params, "POST", SECRET)})

json.dump({"access_key_id": AK, "access_key_secret": SECRET, "acs3": captured, "rpc": rpc},
          open(sys.argv[1], "w"), indent=1, ensure_ascii=False)
print(f"{len(captured)} ACS3 requests, {len(rpc)} RPC signatures")

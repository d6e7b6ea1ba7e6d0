"""The user's browser, played over HTTP: opens the verification URL a CLI printed, signs in
to cloudsso's portal when the page asks (password, then the TOTP enrollment or code, which it
computes), and approves the code on the approval page, following the pages' own forms (their
`action`, `method`, hidden fields and CSRF token) and cookies as a browser does."""

import base64
import hashlib
import hmac
import html.parser
import http.cookiejar
import struct
import time
import urllib.error
import urllib.parse
import urllib.request

PASSWORD = "Sup3r-secret!"


class _Forms(html.parser.HTMLParser):
    """The forms of a page (id -> action, method, fields) and the text of elements by id."""

    def __init__(self):
        super().__init__()
        self.forms = {}
        self.text = {}
        self._form = None
        self._ids = []

    VOID = {"input", "br", "img", "meta", "link", "hr", "source"}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = a.get("id", "")
            self.forms[self._form] = {"action": a.get("action", ""), "method": a.get("method", "get").lower(), "fields": {}}
        elif tag == "input" and self._form is not None and a.get("name"):
            self.forms[self._form]["fields"][a["name"]] = a.get("value", "")
        if tag in self.VOID:
            return
        self._ids.append(a.get("id"))
        if a.get("id"):
            self.text.setdefault(a["id"], "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        if tag not in self.VOID and self._ids:
            self._ids.pop()

    def handle_data(self, data):
        for i in self._ids:
            if i:
                self.text[i] += data


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def totp(secret, unix):
    """RFC 6238: HMAC-SHA1, 30-second steps, 6 digits (what the enrollment page's QR code says)."""
    key = base64.b32decode(secret.replace(" ", "").upper() + "=" * (-len(secret.replace(" ", "")) % 8))
    digest = hmac.new(key, struct.pack(">Q", unix // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def settled_now():
    """Now, once at least 5 seconds of the current TOTP step are left."""
    now = int(time.time())
    if 30 - now % 30 < 5:
        time.sleep(30 - now % 30 + 0.2)
    return int(time.time())


class Browser:
    def __init__(self, root, user_name, password=PASSWORD):
        self.root = root.rstrip("/")
        self.user_name = user_name
        self.password = password
        self.mfa_secret = None
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def _send(self, method, url, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers={"User-Agent": "cloudsso-conformance-browser/1"})
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def open(self, method, url, form=None):
        """Sends, follows redirects as a browser does (a 303 becomes a GET); (status, url, page)."""
        for _ in range(10):
            status, headers, body = self._send(method, url, form)
            if status in (301, 302, 303, 307, 308) and headers.get("Location"):
                url = urllib.parse.urljoin(url, headers["Location"])
                method, form = ("GET", None) if status == 303 or method == "GET" else (method, form)
                continue
            page = _Forms()
            page.feed(body)
            page.body = body
            return status, url, page
        raise RuntimeError(f"too many redirects from {url}")

    def submit(self, url, page, form_id, **values):
        f = page.forms[form_id]
        fields = dict(f["fields"])
        fields.update(values)
        target = urllib.parse.urljoin(url, f["action"] or url)
        if f["method"] == "get":
            return self.open("GET", target + "?" + urllib.parse.urlencode(fields))
        return self.open("POST", target, fields)

    def approve(self, verification_url, user_code):
        """Opens `verification_url` (the code is typed in when the URL does not carry it), signs
        in if asked, checks the page shows `user_code` and approves it. Returns whether the
        answer says the code was approved; raises when a step before does not go as a user
        would see it go."""
        status, url, page = self.open("GET", verification_url)
        for _ in range(8):
            if "signin-form" in page.forms:
                status, url, page = self.submit(url, page, "signin-form", username=self.user_name, password=self.password)
            elif "enroll-form" in page.forms:
                self.mfa_secret = page.text["secret"].strip()
                status, url, page = self.submit(url, page, "enroll-form", code=totp(self.mfa_secret, settled_now()))
            elif "mfa-form" in page.forms:
                status, url, page = self.submit(url, page, "mfa-form", code=totp(self.mfa_secret, settled_now()))
            elif "device-code-form" in page.forms:
                status, url, page = self.submit(url, page, "device-code-form", user_code=user_code)
            elif "device-form" in page.forms:
                shown = page.text.get("user-code", "").strip()
                if shown.replace("-", "") != user_code.replace("-", ""):
                    raise RuntimeError(f"the approval page shows {shown!r}, the CLI {user_code!r}")
                status, url, page = self.submit(url, page, "device-form", decision="approve")
                return status == 200 and "Sign-in approved" in page.body and user_code in page.body
            else:
                raise RuntimeError(f"unexpected page {status} at {url}: {page.body[:500]}")
            if status >= 400:
                raise RuntimeError(f"{status} at {url}: {page.body[:500]}")
        raise RuntimeError("the sign-in did not reach the approval page")

"""What every client check shares: `check` prints one line per check and remembers the
failures, `error_code` runs a call that should fail and returns what it failed with, and
`until` retries a check for a bounded time (the engine grants asynchronously)."""

import re
import time

failures = []
passed = []


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else f": {detail}"), flush=True)
    (passed if cond else failures).append(what)
    return cond


def error_code(call):
    """The error code `call` fails with (botocore's, the Alibaba SDKs', or the exception's
    repr); None when it succeeds."""
    try:
        call()
    except Exception as e:  # each SDK has its own exception classes
        response = getattr(e, "response", None)
        if isinstance(response, dict) and "Error" in response:
            return response["Error"].get("Code")
        # alibabacloud-credentials puts the server's JSON answer in its message.
        m = re.search(r'"ErrorCode":\s*"([^"]+)"', str(e))
        return getattr(e, "code", None) or (m and m.group(1)) or repr(e)
    return None


def until(probe, seconds, step=0.05, started=None):
    """Calls `probe` until it returns a true value or `seconds` pass since `started` (a
    `time.monotonic()`, default now); (value, seconds taken since `started`)."""
    started = time.monotonic() if started is None else started
    while True:
        value = probe()
        taken = time.monotonic() - started
        if value or taken >= seconds:
            return value, taken
        time.sleep(step)

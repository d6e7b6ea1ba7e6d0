#!/usr/bin/env bash
# What the browser end-to-end test and the SAML verification test need beyond Rust, Python and
# Node: Debian's `chromium` and `xmlsec1`, `jq` and `curl` for run.sh, and SimpleSAMLphp, the
# IdP of the SAML sign-in test (`simplesamlphp` with `php-cli`, `php-xml` and `php-mbstring`;
# the package also depends on apache2, which saml-idp.sh does not use: it serves with `php -S`)
# (apt-get, skipped when present; sudo only when not root), and playwright-core from tests/e2e/package-lock.json (`npm ci` into e2e/node_modules). Never
# downloads a browser: portal.mjs drives the system chromium through `executablePath`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

missing=()
[ -x /usr/lib/chromium/chromium ] || [ -x /usr/bin/chromium ] || missing+=(chromium)
for tool in xmlsec1 jq curl; do
  command -v "$tool" > /dev/null || missing+=("$tool")
done
[ -f /usr/share/simplesamlphp/www/saml2/idp/metadata.php ] || missing+=(simplesamlphp)
if command -v php > /dev/null; then
  php -r 'exit(class_exists("DOMDocument") ? 0 : 1);' || missing+=(php-xml)
  php -r 'exit(function_exists("mb_strlen") ? 0 : 1);' || missing+=(php-mbstring)
else
  missing+=(php-cli php-xml php-mbstring)
fi
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" > /dev/null
fi

# playwright-core has no install script; this flag keeps any future one from fetching a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
locked_and_installed() {
  node -e '
    const fs = require("fs");
    const read = (p) => JSON.parse(fs.readFileSync(p, "utf8"));
    const locked = read("package-lock.json").packages["node_modules/playwright-core"].version;
    let installed = "";
    try { installed = read("node_modules/playwright-core/package.json").version; } catch {}
    process.exit(locked === installed ? 0 : 1);'
}
if ! (cd "$here" && locked_and_installed); then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

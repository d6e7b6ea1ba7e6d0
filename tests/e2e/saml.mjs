// SAML single sign-on into the user portal in a real browser (Debian's chromium through
// playwright-core; no browser download), with SimpleSAMLphp as the directory's external IdP:
// (a) SP-initiated: the portal's sign-in page sends the browser to the IdP (HTTP-Redirect: a
// 302 from /<directory>/saml/login to a GET with a deflated AuthnRequest), alice signs in
// there, the IdP posts its signed Response to cloudsso's ACS, the account list shows;
// (b) IdP-initiated, in a fresh browser: the IdP's unsolicited Response lands on the account
// list; (c) alice is disabled over SCIM (PATCH active false), then IdP-initiated again in a
// fresh browser: cloudsso refuses (a 4xx page, no account list). Every page is screenshotted
// to $E2E_SHOTS as saml-NN-*.png. `tests/e2e/run.sh saml` sets up the server, the IdP and
// the environment; exits non-zero with a message on the first failure.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run tests/e2e/run.sh saml)`);
  return v;
};
const BASE = env('E2E_BASE');
// The directory's segment of the portal's paths (what the SP EntityId is under).
const SEGMENT = env('E2E_PORTAL_SEGMENT');
// The directory's name: README's sign-on URL is <base>/<name>/login.
const DIR_NAME = env('E2E_DIRECTORY_NAME');
const ACS_URL = env('E2E_ACS_URL');
const IDP_INITIATED_URL = env('E2E_IDP_INITIATED_URL');
const IDP_ORIGIN = new URL(IDP_INITIATED_URL).origin;
const USER = env('E2E_USER_NAME');
const IDP_PASSWORD = env('E2E_IDP_PASSWORD');
const ACCOUNT_ID = env('E2E_ACCOUNT_ID');
const ACCOUNT_NAME = env('E2E_ACCOUNT_NAME');
const SHOTS = env('E2E_SHOTS');
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find(existsSync);
// wave2.md section C.1.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];
const TIMEOUT = 15_000;

let shotCount = 0;
async function shot(page, name) {
  shotCount += 1;
  const path = `${SHOTS}/saml-${String(shotCount).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
}

function check(ok, message) {
  if (!ok) throw new Error(message);
}

// What the page shows, shortened, for failure messages.
async function pageText(page) {
  const text = await page.locator('body').innerText({ timeout: 2_000 }).catch(() => '');
  return text.replace(/\s+/g, ' ').trim().slice(0, 300);
}

// The IdP's sign-in form: SimpleSAMLphp's loginuserpass page.
async function onIdpLogin(page, why) {
  try {
    await page.locator('#submit_button').waitFor({ state: 'attached', timeout: TIMEOUT });
  } catch {
    const text = await pageText(page);
    throw new Error(`${why}: not at SimpleSAMLphp's sign-in form but ${page.url()}: ${text}`);
  }
  check(new URL(page.url()).origin === IDP_ORIGIN,
    `${why}: the form is at ${page.url()}, not on ${IDP_ORIGIN}`);
}

// Signs in at the IdP; SimpleSAMLphp answers a page that posts the Response to the ACS by
// script. Resolves with the ACS's answer to that post (cloudsso's, whatever its status).
async function signInAtIdp(page) {
  await page.fill('#username', USER);
  await page.fill('#password', IDP_PASSWORD);
  const acs = page.waitForResponse(
    (r) => r.url() === ACS_URL && r.request().method() === 'POST', { timeout: TIMEOUT });
  await page.click('#submit_button');
  let answer;
  try {
    answer = await acs;
  } catch {
    const text = await pageText(page);
    throw new Error(`no POST to the ACS ${ACS_URL} after signing in at the IdP; at ${page.url()}: `
      + text);
  }
  const location = answer.headers().location;
  console.log(`ACS answered ${answer.status()}${location ? ` -> ${location}` : ''}`);
  return answer;
}

// The page after the ACS: the account list, with the account set up in run.sh.
async function accountList(page, acs, why) {
  try {
    await page.waitForURL((u) => u.pathname.endsWith('/portal'),
      { waitUntil: 'load', timeout: TIMEOUT });
    await page.locator('ul#accounts').waitFor({ state: 'attached', timeout: TIMEOUT });
  } catch {
    const text = await pageText(page);
    throw new Error(`${why}: no account list; the ACS answered ${acs.status()}, the page is `
      + `${page.url()}: ${text}`);
  }
  // The directory's portal, by its id (the ACS's segment) or by its name.
  const path = new URL(page.url()).pathname;
  const portals = [`/${SEGMENT}/portal`, `/${DIR_NAME}/portal`];
  check(portals.includes(path), `${why}: at ${path}, not ${portals.join(' or ')}`);
  const ours = page.locator(`ul#accounts li.account[data-account-id="${ACCOUNT_ID}"]`);
  check(await ours.count() === 1, `${why}: account ${ACCOUNT_ID} is not listed once`);
  const name = (await ours.locator('.account-name').textContent()) ?? '';
  check(name.includes(ACCOUNT_NAME), `${why}: account name \`${name}\`, want ${ACCOUNT_NAME}`);
}

// Runs `fn` with a page of a new browser context (no cookies from an earlier sign-in, at
// cloudsso or at the IdP); on a failure, screenshots the page first.
async function inFreshBrowser(browser, name, fn) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  context.setDefaultTimeout(TIMEOUT);
  const page = await context.newPage();
  try {
    await fn(page);
  } catch (e) {
    const path = `${SHOTS}/saml-99-failure-${name}.png`;
    await page.screenshot({ path, fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await context.close();
  }
}

// (a) From the portal's sign-in page through the IdP and back. The sign-in page by the
// directory's name (the sign-on URL README gives an IdP) goes to the IdP as well.
async function spInitiated(page) {
  if (DIR_NAME !== SEGMENT) {
    await page.goto(`${BASE}/${DIR_NAME}/login`);
    await onIdpLogin(page, `SP-initiated: ${BASE}/${DIR_NAME}/login`);
  }
  const login = `${BASE}/${SEGMENT}/login`;
  const sso = [];
  page.on('request', (r) => {
    if (r.url().startsWith(`${IDP_ORIGIN}/saml2/idp/SSOService.php`)) sso.push(r);
  });
  await page.goto(login);
  await onIdpLogin(page, `SP-initiated: ${login}`);
  const at = new URL(page.url());
  check(at.pathname.startsWith('/module.php/core/loginuserpass'),
    `SP-initiated: the IdP's form is at ${at.pathname}`);
  checkRedirectBinding(sso.at(-1));
  await shot(page, 'sp-initiated-idp-login');
  const acs = await signInAtIdp(page);
  await accountList(page, acs, 'SP-initiated sign-in');
  await shot(page, 'sp-initiated-accounts');
}

// The AuthnRequest reached the IdP by the HTTP-Redirect binding: a GET with a deflated
// SAMLRequest that cloudsso's /saml/login redirected to.
function checkRedirectBinding(request) {
  check(request, 'SP-initiated: the browser never asked the IdP\'s SingleSignOnService');
  const url = new URL(request.url());
  const what = `SP-initiated: the request to the IdP (${request.method()} ${url.pathname})`;
  check(request.method() === 'GET', `${what} is not a GET`);
  const encoded = url.searchParams.get('SAMLRequest');
  check(encoded, `${what} has no SAMLRequest`);
  let xml = '';
  try {
    xml = inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
  } catch (e) {
    throw new Error(`${what}: SAMLRequest is not deflated base64: ${e.message}`);
  }
  check(/<(\w+:)?AuthnRequest[\s>]/.test(xml),
    `${what}: SAMLRequest is no AuthnRequest: ${xml.slice(0, 200)}`);
  const from = request.redirectedFrom();
  const fromPath = from ? new URL(from.url()).pathname : '(none)';
  check(from && fromPath.endsWith('/saml/login'),
    `${what} was not redirected to from /<directory>/saml/login but ${fromPath}`);
  const relay = url.searchParams.has('RelayState') ? ' with RelayState' : '';
  console.log(`AuthnRequest by HTTP-Redirect from ${fromPath}${relay}`);
}

// (b): the IdP's own link to cloudsso (an unsolicited Response).
async function idpInitiated(page) {
  await page.goto(IDP_INITIATED_URL);
  await onIdpLogin(page, 'IdP-initiated sign-in');
  await shot(page, 'idp-initiated-idp-login');
  const acs = await signInAtIdp(page);
  await accountList(page, acs, 'IdP-initiated sign-in');
  await shot(page, 'idp-initiated-accounts');
}

// (c): the same for a disabled user: the ACS's answer, or the page it sends the browser to, is
// a 4xx refusal, and no account list.
async function idpInitiatedRefused(page) {
  const what = 'IdP-initiated sign-in of a disabled user';
  let last = null;
  page.on('response', (r) => {
    if (r.request().isNavigationRequest() && r.frame() === page.mainFrame()) last = r;
  });
  await page.goto(IDP_INITIATED_URL);
  await onIdpLogin(page, what);
  await shot(page, 'disabled-idp-login');
  const acs = await signInAtIdp(page);
  const redirected = acs.status() >= 300 && acs.status() < 400;
  await page.waitForURL((u) => (redirected ? u.href !== ACS_URL : u.href === ACS_URL),
    { waitUntil: 'load', timeout: TIMEOUT });
  await shot(page, 'disabled-refused');
  const text = await pageText(page);
  const status = last ? last.status() : 0;
  check(await page.locator('ul#accounts').count() === 0,
    `${what}: the account list shows (${page.url()})`);
  check(!new URL(page.url()).pathname.endsWith('/portal'), `${what}: landed on ${page.url()}`);
  check(status >= 400 && status < 500,
    `${what}: answered ${status} at ${page.url()}, want a 4xx refusal: ${text}`);
  console.log(`refused with ${status}: ${text.slice(0, 160)}`);
}

// Alice disabled by her IdP's provisioning: SCIM PATCH active false.
async function disableOverScim() {
  const url = `${env('E2E_SCIM_BASE')}/Users/${env('E2E_USER_ID')}`;
  const r = await fetch(url, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${env('E2E_SCIM_TOKEN')}`,
      'content-type': 'application/scim+json',
    },
    body: JSON.stringify({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    }),
  });
  const body = await r.text();
  check(r.status === 200 || r.status === 204,
    `SCIM PATCH active false answered ${r.status}: ${body}`);
  if (r.status === 200) {
    check(JSON.parse(body).active === false, `SCIM PATCH left alice active: ${body}`);
  }
  console.log(`disabled ${USER} over SCIM`);
}

async function main() {
  check(CHROMIUM, 'chromium is not installed (/usr/lib/chromium/chromium, /usr/bin/chromium)');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    await inFreshBrowser(browser, 'sp-initiated', spInitiated);
    console.log('e2e: SAML SP-initiated sign-in passed');
    await inFreshBrowser(browser, 'idp-initiated', idpInitiated);
    console.log('e2e: SAML IdP-initiated sign-in passed');
    await disableOverScim();
    await inFreshBrowser(browser, 'disabled', idpInitiatedRefused);
    console.log('e2e: SAML sign-in of a disabled user refused');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`e2e: FAILED: ${e.message}`);
  process.exit(1);
});

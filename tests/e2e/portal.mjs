// The user portal in a real browser (Debian's chromium through playwright-core; no browser
// download): alice signs in with her password and enrolls a TOTP device, sees her account,
// searches, opens its console (the SAML post to the embedded account's console page), signs
// out, signs in again with a one-time code, and loses her session when an administrator
// disables her. Every page is screenshotted to $E2E_SHOTS. `tests/e2e/run.sh` sets up the server
// and the environment; exits non-zero with a message on the first failure.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { base32, currentStep, selfCheck, totp } from './totp.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run tests/e2e/run.sh)`);
  return v;
};
const BASE = env('E2E_BASE');
const DIR = env('E2E_DIRECTORY_NAME');
const USER = env('E2E_USER_NAME');
const PASSWORD = env('E2E_PASSWORD');
const ACCOUNT_ID = env('E2E_ACCOUNT_ID');
const ACCOUNT_NAME = env('E2E_ACCOUNT_NAME');
const ROLE = `AliyunReservedSSO-${env('E2E_CONFIGURATION_NAME')}`;
const SHOTS = env('E2E_SHOTS');
const CHROMIUM = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find(existsSync);
// wave2.md section C.1.
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

let shotCount = 0;
async function shot(page, name) {
  shotCount += 1;
  const path = `${SHOTS}/${String(shotCount).padStart(2, '0')}-${name}.png`;
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
}

// Waits for `selector` on `page`; a failure names what was expected and where the page is.
async function expectOn(page, selector, what) {
  try {
    await page.locator(selector).first().waitFor({ state: 'attached', timeout: 15_000 });
  } catch {
    throw new Error(`${what}: no \`${selector}\` on ${page.url()}`);
  }
}

function check(ok, message) {
  if (!ok) throw new Error(message);
}

// Clicks `selector` (or presses Enter in it) and waits for the page it leads to.
async function submit(page, selector, how = 'click') {
  const go = how === 'click' ? page.click(selector) : page.locator(selector).press('Enter');
  await Promise.all([page.waitForEvent('load'), go]);
}

async function onLoginPage(page, why) {
  await expectOn(page, '#username', why);
  const path = new URL(page.url()).pathname;
  check(path === `/${DIR}/login`, `${why}: at ${path}, not /${DIR}/login`);
}

async function submitPassword(page) {
  await page.fill('#username', USER);
  await page.fill('#password', PASSWORD);
  await submit(page, '#signin');
}

// Enrollment: reads the secret, confirms with the current code; the TOTP key and step used.
async function enroll(page) {
  await expectOn(page, '#secret', 'MFA enrollment after the first password sign-in');
  await expectOn(page, 'svg', 'the enrollment QR code');
  await shot(page, 'mfa-enrollment');
  const secret = await page.locator('#secret').evaluate((e) => e.value ?? e.textContent);
  const key = base32(secret.trim());
  const step = currentStep();
  await page.fill('#code', totp(key, step));
  await submit(page, '#confirm');
  return { key, step };
}

// The next code not used yet: waits for a step after `usedStep` (a code is accepted once).
async function freshCode(key, usedStep) {
  while (currentStep() <= usedStep) await new Promise((r) => setTimeout(r, 500));
  const step = currentStep();
  return { code: totp(key, step), step };
}

async function accountList(page, why) {
  await expectOn(page, 'ul#accounts', why);
  const path = new URL(page.url()).pathname;
  check(path === `/${DIR}/portal`, `${why}: at ${path}, not /${DIR}/portal`);
  const ours = page.locator(`ul#accounts li.account[data-account-id="${ACCOUNT_ID}"]`);
  check(await ours.count() === 1, `${why}: account ${ACCOUNT_ID} is not listed once`);
  const name = (await ours.locator('.account-name').textContent()) ?? '';
  check(name.includes(ACCOUNT_NAME), `${why}: account name \`${name}\`, want ${ACCOUNT_NAME}`);
  return ours;
}

async function search(page, q) {
  await page.fill('#search #q', q);
  await submit(page, '#search #q', 'enter');
  await expectOn(page, 'ul#accounts', `the account list after searching \`${q}\``);
  return page.locator(`ul#accounts li.account[data-account-id="${ACCOUNT_ID}"]`).count();
}

async function openConsole(context, page, account) {
  const link = account.locator('li.config a.open-console').first();
  check(await link.getAttribute('target') === '_blank', 'Open console does not open a new tab');
  const [consolePage] = await Promise.all([context.waitForEvent('page'), link.click()]);
  // The new tab auto-posts form#saml-post to the embedded account's console page.
  await expectOn(consolePage, '#account-id', 'the console page after the SAML post');
  await shot(consolePage, 'console');
  const shown = (await consolePage.textContent('#account-id')) ?? '';
  const role = (await consolePage.textContent('#role-name')) ?? '';
  check(shown.includes(ACCOUNT_ID), `console names account \`${shown}\`, want ${ACCOUNT_ID}`);
  check(role.includes(ROLE), `console names role \`${role}\`, want ${ROLE}`);
  await consolePage.close();
}

/** The RAM user tab: alice's RAM user in the account, and its console sign-in. */
async function ramUserTab(context, page) {
  await submit(page, '#tab-ram-users');
  await expectOn(page, 'ul#accounts', 'the RAM user tab');
  const entry = page.locator(`ul#accounts li.account[data-account-id="${ACCOUNT_ID}"] li.ram-user`);
  check(await entry.count() === 1, 'the RAM user tab does not list the account');
  const logon = (await entry.locator('.logon-name').textContent()) ?? '';
  check(logon === `${USER}@${ACCOUNT_ID}.onaliyun.com`, `the RAM user's logon name is \`${logon}\``);
  await shot(page, 'ram-users');
  const link = entry.locator('a.open-console');
  const [consolePage] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await expectOn(consolePage, '#ram-user', 'the console page after the RAM user SAML post');
  await shot(consolePage, 'console-ram-user');
  const name = (await consolePage.textContent('#ram-user')) ?? '';
  check(name === USER, `console names RAM user \`${name}\`, want ${USER}`);
  check(await consolePage.locator('#role-name').count() === 0, 'a RAM user console names a role');
  await consolePage.close();
  // Pinning and unpinning here stays on this tab.
  const account = page.locator(`ul#accounts li.account[data-account-id="${ACCOUNT_ID}"]`);
  for (const want of ['Unpin', 'Pin']) {
    await Promise.all([page.waitForEvent('load'), account.locator('button.favourite').click()]);
    await expectOn(page, 'ul#accounts li.ram-user', `the RAM user tab after ${want === 'Pin' ? 'unpinning' : 'pinning'}`);
    check(new URL(page.url()).searchParams.get('tab') === 'ram-users', `a pin left the RAM user tab: ${page.url()}`);
    const label = ((await account.locator('button.favourite').textContent()) ?? '').trim();
    check(label === want, `the pin button says \`${label}\`, want ${want}`);
  }
  await submit(page, '#tab-roles');
  await accountList(page, 'the roles tab again');
}

function disableUser() {
  execFileSync(env('CLOUDSSO_BIN'), ['sso', 'update-user-status', '--directory-id',
    env('E2E_DIRECTORY_ID'), '--user-id', env('E2E_USER_ID'), '--new-status', 'Disabled'],
  { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function run(page, context) {
  await page.goto(`${BASE}/${DIR}/login`);
  await onLoginPage(page, 'the sign-in page');
  await shot(page, 'login');
  await submitPassword(page);
  const enrolled = await enroll(page);
  let account = await accountList(page, 'the account list after enrollment');
  await shot(page, 'accounts');

  check(await search(page, ACCOUNT_NAME) === 1, `searching \`${ACCOUNT_NAME}\` lost the account`);
  check(await search(page, ACCOUNT_ID) === 1, `searching \`${ACCOUNT_ID}\` lost the account`);
  await shot(page, 'search');
  check(await search(page, 'zz-no-such-account') === 0, 'a search for nothing still lists it');
  await search(page, '');
  account = await accountList(page, 'the account list after clearing the search');

  await openConsole(context, page, account);
  await ramUserTab(context, page);
  await submit(page, '#signout');
  await onLoginPage(page, 'after signing out');
  await shot(page, 'signed-out');
  await page.goto(`${BASE}/${DIR}/portal`);
  await onLoginPage(page, 'the account list after signing out');

  await submitPassword(page);
  await expectOn(page, '#verify', 'the MFA challenge at the second sign-in');
  await shot(page, 'mfa-challenge');
  const { code } = await freshCode(enrolled.key, enrolled.step);
  await page.fill('#code', code);
  await submit(page, '#verify');
  await accountList(page, 'the account list after the MFA challenge');

  disableUser();
  await page.reload();
  await onLoginPage(page, 'the account list once alice is disabled');
  await shot(page, 'disabled-session-ended');
  await submitPassword(page);
  check(await page.locator('ul#accounts').count() === 0, 'a disabled user signed in');
  await onLoginPage(page, 'a disabled user signing in');
}

async function main() {
  selfCheck();
  check(CHROMIUM, 'chromium is not installed (/usr/lib/chromium/chromium, /usr/bin/chromium)');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  try {
    await run(page, context);
    console.log('e2e: portal passed');
  } catch (e) {
    await page.screenshot({ path: `${SHOTS}/99-failure.png`, fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(`e2e: FAILED: ${e.message}`);
  process.exit(1);
});

// The web console in a real browser: Debian's headless Chromium driven by
// playwright-core (test/node/node_modules, no downloaded browser).
// Started by test/integration/console.sh with:
//   CONSOLE_URL   http://127.0.0.1:PORT/
//   SERIALS       the three node serials, space separated
//   KILL_PID      the `dmqtt node` to stop mid-test (SIGTERM)
//   KILL_SN       its serial
//   SCREENSHOT    where to save the page (build/console.png)
// Prints "ok NAME" / "FAIL NAME: WHY" lines; exit status 1 if any failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '../node/node_modules/playwright-core/index.mjs';

const url = process.env.CONSOLE_URL;
const serials = (process.env.SERIALS || '').split(/\s+/).filter(Boolean);
const killPid = Number(process.env.KILL_PID || 0);
const killSn = process.env.KILL_SN || '';
const shot = process.env.SCREENSHOT || 'build/console.png';
let failed = 0;
const ok = (name) => console.log(`ok ${name}`);
const fail = (name, why) => { failed++; console.log(`FAIL ${name}: ${String(why).split('\n')[0]}`); };
async function check(name, fn) {
  try { await fn(); ok(name); } catch (e) { fail(name, e.message || e); }
}

const profile = mkdtempSync(join(tmpdir(), 'dmqtt-chromium-'));
let ctx;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 820 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
} catch (e) {
  fail('chromium starts', e.message);
  rmSync(profile, { recursive: true, force: true });
  process.exit(1);
}
const page = ctx.pages()[0] || await ctx.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });

const row = (sn) => page.locator(`tr[data-sn="${sn}"]`);
const stateOf = (sn) => row(sn).locator('td.state');

await check('the page loads', async () => {
  const r = await page.goto(url, { waitUntil: 'load' });
  if (r.status() !== 200) throw new Error(`status ${r.status()}`);
  const csp = r.headers()['content-security-policy'] || '';
  if (!/script-src 'sha256-/.test(csp)) throw new Error(`CSP: ${csp}`);
});
await check('the page lists the three nodes, online', async () => {
  await page.waitForFunction((n) => document.querySelectorAll('tr[data-sn]').length >= n,
    serials.length, { timeout: 15000 });
  for (const sn of serials) {
    await row(sn).waitFor({ timeout: 5000 });
    await stateOf(sn).filter({ hasText: 'online' }).waitFor({ timeout: 10000 });
  }
});
await check('node types and interfaces are shown', async () => {
  await page.waitForFunction((sns) => sns.every((sn) => {
    const r = document.querySelector(`tr[data-sn="${sn}"]`);
    return r && r.cells[2].textContent === 'MN' && r.querySelector('.if');
  }), serials, { timeout: 15000 });
});
await check('the header shows the broker connected', async () => {
  await page.locator('#broker', { hasText: 'broker connected' }).waitFor({ timeout: 5000 });
});
await check('running uptime on one node shows its answer', async () => {
  await row(serials[0]).click();
  if (await page.locator('#sn').inputValue() !== serials[0]) throw new Error('row click did not select the node');
  await page.fill('#cmd', 'uptime');
  await page.click('#go');
  await page.waitForFunction(() => /^up \d+ days?, /.test(document.getElementById('res').textContent),
    null, { timeout: 10000 });
  const meta = await page.textContent('#meta');
  if (!meta.includes('rc 0') || !meta.includes(serials[0])) throw new Error(`meta: ${meta}`);
});
await check('a failing command shows its rc', async () => {
  await page.fill('#cmd', 'no-such-command');
  await page.click('#go');
  await page.locator('#meta', { hasText: 'rc 127' }).waitFor({ timeout: 10000 });
});
await page.fill('#cmd', 'uptime');
await page.click('#go');
await page.waitForFunction(() => /^up /.test(document.getElementById('res').textContent), null, { timeout: 10000 });

await check(`stopping ${killSn} turns it offline on the page`, async () => {
  process.kill(killPid, 'SIGTERM');
  await stateOf(killSn).filter({ hasText: 'offline' }).waitFor({ timeout: 15000 });
  for (const sn of serials.filter((s) => s !== killSn)) {
    const t = (await stateOf(sn).textContent()).trim();
    if (t !== 'online') throw new Error(`${sn} is ${t}`);
  }
});
await check('no script error or CSP violation', async () => {
  if (problems.length) throw new Error(problems.join('; '));
});
await check('screenshot saved', async () => {
  await page.screenshot({ path: shot, fullPage: true });
});
await ctx.close();
rmSync(profile, { recursive: true, force: true });
process.exit(failed ? 1 : 0);

// The web console through the shipped insurance scenario, typed and on the keypad: headless
// Chromium against the real server serving the real console from web/.
//
//   ARTAGENT_BIN=build/app/artagent node tests/e2e/console_insurance.test.mjs
//
// Checks that the scenario picker lists insurance (the default), that the caller gets verified by
// a typed policy number, "pin" and the PIN clicked on the DTMF keypad (4 8 2 1 #), that the log
// shows the keypad turn and the verify_caller tool entry (expandable, with its output), that the
// agent badge changes to fnol_agent after "I want to file a claim" with the hand-off in the log,
// that the slots panel shows what the agent noted, and that picking another scenario (a copy of
// insurance under another name, in a temporary agents directory) starts a session in it. Screenshot:
// tests/e2e/test-results/console-insurance.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { makeTempDir, repoRoot, startServer } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'test-results');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const WAIT_MS = 60_000;
const SECOND_SCENARIO = 'insurance_copy';

describe('web console: insurance scenario with tools, keypad and hand-off', () => {
  let work;
  let server;
  let context;
  let page;
  let failed = false;
  const pageErrors = [];
  const browserLog = [];
  const sockets = []; // URLs of the WebSockets the page opened

  const check = (fn) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      throw err;
    }
  };

  async function waitInPage(what, fn, arg, timeout = WAIT_MS) {
    try {
      return await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    } catch (err) {
      const seen = await pageSnapshot().catch((e) => `(no snapshot: ${e.message})`);
      throw new Error(`timed out after ${timeout / 1000} s waiting for ${what}\n${seen}`,
        { cause: err });
    }
  }

  async function pageSnapshot() {
    return page.evaluate(() => {
      const lines = [...document.querySelectorAll('#log > li')].map((li) => {
        const flags = [li.dataset.role ?? 'note'];
        if (li.dataset.status) flags.push(li.dataset.status);
        if (li.classList.contains('turn--pending')) flags.push('pending');
        const text = li.querySelector('.turn__text')?.textContent ??
          li.querySelector('summary')?.textContent ?? li.textContent;
        return `  [${flags.join(', ')}] ${text.replace(/\s+/g, ' ').trim()}`;
      });
      return [
        `state: ${document.body.dataset.state}`,
        `agent: ${document.getElementById('agent-name').textContent}`,
        `banner: ${document.getElementById('banner').hidden ? '(none)' : document.getElementById('banner').textContent.replace(/\s+/g, ' ')}`,
        `stats: ${JSON.stringify(window.artagentStats)}`,
        'log:', ...lines,
      ].join('\n');
    });
  }

  const progress = () => page.evaluate(() => ({
    lines: document.querySelectorAll('.turn--agent').length,
    responses: window.artagentStats.responses,
  }));

  // Waits until `count` more responses are done, the console is idle again (the reply spoken in
  // full) and an agent line added since `from` contains `text`.
  async function waitForReply(from, text, count = 1) {
    await waitInPage(`an agent reply containing "${text}"`, ([f, t, n]) => {
      const lines = [...document.querySelectorAll('.turn--agent')].slice(f.lines);
      return window.artagentStats.responses >= f.responses + n &&
        document.body.dataset.state === 'connected' &&
        lines.some((li) => li.querySelector('.turn__text').textContent.includes(t));
    }, [from, text, count]);
  }

  async function type(text, expected, count = 1) {
    const from = await progress();
    await page.getByLabel('Message to the agent').fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
    await waitForReply(from, expected, count);
  }

  before(async () => {
    work = makeTempDir('artagent-console-insurance-');
    // Two scenarios for the picker: the shipped one and a copy under another name.
    const agentsDir = path.join(work.dir, 'agents');
    for (const name of ['insurance', SECOND_SCENARIO]) {
      fs.cpSync(path.join(repoRoot, 'agents', 'insurance'), path.join(agentsDir, name),
        { recursive: true });
    }
    server = await startServer({
      env: {
        ARTAGENT_TOOLS__INSURANCE_DB: path.join(work.dir, 'insurance.db'),
        ARTAGENT_AGENTS__DIR: agentsDir,
      },
    });
    context = await chromium.launchPersistentContext(path.join(work.dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err));
    page.on('websocket', (ws) => sockets.push(ws.url()));
    page.on('console', (msg) => browserLog.push(`${msg.type()}: ${msg.text()}`));
    await page.goto(server.url);
  }, { timeout: 120_000 });

  after(async () => {
    fs.mkdirSync(resultsDir, { recursive: true });
    if (page) {
      await page.evaluate(() => {
        const log = document.getElementById('log');
        log.scrollTop = log.scrollHeight;
      }).catch(() => {});
      await page.screenshot({ path: path.join(resultsDir, 'console-insurance.png'), fullPage: true })
        .catch((err) => process.stderr.write(`screenshot failed: ${err.message}\n`));
    }
    fs.writeFileSync(path.join(resultsDir, 'console-insurance-browser.log'),
      browserLog.join('\n') + '\n');
    if (server) {
      fs.writeFileSync(path.join(resultsDir, 'console-insurance-server.log'), server.stderrTail());
    }
    if (failed) {
      process.stderr.write(`--- browser console ---\n${browserLog.slice(-40).join('\n')}\n`);
      if (server) process.stderr.write(`--- server stderr (tail) ---\n${server.stderrTail()}\n`);
    }
    await context?.close();
    await server?.stop();
    work?.cleanup();
  });

  it('lists the insurance scenario in the picker, selected as the default', check(async () => {
    const picker = page.getByLabel('Scenario');
    await waitInPage('the insurance option in the scenario picker', () =>
      !!document.querySelector('#scenario-select option[value="insurance"]'));
    assert.equal(await picker.isVisible(), true);
    assert.equal(await picker.inputValue(), 'insurance');
    const label = await page.locator('#scenario-select option[value="insurance"]').textContent();
    assert.match(label, /\(default\)/);
  }));

  it('verifies the caller: policy number typed, "pin", PIN on the keypad', check(async () => {
    // The first message opens the session: the greeting, then the answer to it.
    await type('hello', 'policy number', 2);
    await type('4 0 2 1 3 5 8 7', '4, 0, 2, 1, 3, 5, 8, 7');
    await waitInPage('the agent badge showing auth_agent', () =>
      document.getElementById('agent-name').textContent === 'auth_agent');
    await type('yes', 'PIN');
    await type('pin', 'four digit PIN');

    const from = await progress();
    for (const key of ['4', '8', '2', '1', 'pound']) {
      await page.getByRole('button', { name: `Key ${key}` }).click();
    }
    await waitInPage('the keypad turn "4821" in the log', () =>
      [...document.querySelectorAll('.turn--dtmf .turn__text')]
        .some((el) => el.textContent === '4821'));
    await waitForReply(from, 'verified');
    const stats = await page.evaluate(() => window.artagentStats);
    assert.equal(stats.dtmfSent, 5);
  }));

  it('shows the verify_caller tool call as an expandable entry', check(async () => {
    const entry = page.locator('.turn--tool[data-tool="verify_caller"]');
    await waitInPage('a completed verify_caller entry', () =>
      !!document.querySelector('.turn--tool[data-tool="verify_caller"][data-status="completed"]'));
    assert.match(await entry.locator('summary').textContent(), /verify_caller.*completed/);
    await entry.locator('summary').click();
    assert.match(await entry.locator('.tool__args').textContent(), /40213587/);
    assert.match(await entry.locator('.tool__output').textContent(), /"verified": true/);
  }));

  it('hands off to fnol_agent after "I want to file a claim"', check(async () => {
    await type('I want to file a claim', 'When did it happen');
    await waitInPage('the agent badge showing fnol_agent', () =>
      document.getElementById('agent-name').textContent === 'fnol_agent');
    const handoffs = await page.locator('.turn--handoff').allTextContents();
    assert.deepEqual(handoffs, ['auth_agent → fnol_agent (announced)']);
    // The hand-off sits after the verification in the log.
    const order = await page.evaluate(() => [...document.querySelectorAll('#log > li')]
      .map((li) => li.dataset.role ?? 'note'));
    assert.ok(order.indexOf('handoff') > order.indexOf('tool'), order.join(' '));
  }));

  it('shows what the agent noted in the slots panel', check(async () => {
    await waitInPage('policy_number in the slots panel', () =>
      document.querySelector('#slots [data-slot="policy_number"] dd')?.textContent === '40213587');
  }));

  it('switches scenario from the picker: a new session in that scenario', check(async () => {
    const before = await page.evaluate(() => window.artagentStats.sessionId);
    await page.getByLabel('Scenario').selectOption(SECOND_SCENARIO);
    await waitInPage('a new connected session', (old) => window.artagentStats.connected &&
      window.artagentStats.sessionId && window.artagentStats.sessionId !== old, before);
    await waitInPage('the agent badge back at auth_agent', () =>
      document.getElementById('agent-name').textContent === 'auth_agent');
    const id = await page.evaluate(() => window.artagentStats.sessionId);
    const res = await fetch(new URL(`api/v1/sessions/${id}`, server.url));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).scenario, SECOND_SCENARIO);
    const notes = await page.locator('.turn--note').allTextContents();
    assert.ok(notes.includes(`Scenario: ${SECOND_SCENARIO}`), notes.join(' | '));
    assert.equal(await page.locator('#slots .slots__row').count(), 0); // a new session, no slots
  }));

  it('shows "call ended by the agent" and does not reconnect when the agent hangs up', check(async () => {
    // Nobody answers: the agent re-prompts (no-input), says goodbye and ends the call.
    await waitInPage('the call ended by the agent', () => window.artagentStats.callEnded &&
      !window.artagentStats.connected && document.body.dataset.state === 'ended', null, 150_000);
    const notes = await page.locator('.turn--note').allTextContents();
    assert.ok(notes.some((n) => n.startsWith('Call ended by the agent')), notes.join(' | '));
    assert.equal(await page.locator('#banner').isHidden(), true);
    assert.match(await page.locator('#status').textContent(), /Call ended by the agent/);
    // No new socket was opened after it: two sessions in all (the first and the switched one).
    assert.equal(sockets.length, 2, sockets.join(' '));
    assert.match(sockets[1], new RegExp(`/v1/realtime\\?scenario=${SECOND_SCENARIO}$`));
  }));

  it('raised no page error and got no error event from the server', check(async () => {
    assert.deepEqual(pageErrors.map(String), []);
    const stats = await page.evaluate(() => window.artagentStats);
    assert.equal(stats.errors, 0);
  }));
});

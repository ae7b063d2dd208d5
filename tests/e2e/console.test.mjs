// The web console end to end: headless Chromium with a fake microphone that plays a flite-spoken
// caller sentence, against the real server serving the real console from web/.
//
//   ARTAGENT_BIN=build/app/artagent node tests/e2e/console.test.mjs
//
// Checks that the caller's words come back as a transcript line, that the agent answers with a
// line of text, that the playback worklet really played agent audio, and that the turn's
// voice-to-voice latency is shown. Screenshot: tests/e2e/test-results/console.png.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { synthesizeCaller } from './lib/audio.mjs';
import { makeTempDir, startServer } from './lib/server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'test-results');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const SENTENCE = 'i want to file a claim';
const KEY_WORD = 'claim';
const WAIT_MS = 60_000;

describe('web console in headless Chromium against the server', () => {
  let work;
  let server;
  let context;
  let page;
  let failed = false;
  const pageErrors = [];
  const browserLog = [];

  // Runs a check; on failure remembers it so that after() leaves diagnostics behind.
  const check = (fn) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      throw err;
    }
  };

  // Waits for a condition in the page; on timeout fails with what the page showed instead.
  async function waitInPage(what, fn, arg) {
    try {
      return await page.waitForFunction(fn, arg, { timeout: WAIT_MS, polling: 100 });
    } catch (err) {
      const seen = await pageSnapshot().catch((e) => `(no snapshot: ${e.message})`);
      throw new Error(`timed out after ${WAIT_MS / 1000} s waiting for ${what}\n${seen}`,
        { cause: err });
    }
  }

  async function pageSnapshot() {
    return page.evaluate(() => {
      const lines = [...document.querySelectorAll('#log > li')].map((li) => {
        const flags = [li.dataset.role ?? 'note'];
        if (li.classList.contains('turn--pending')) flags.push('pending');
        if (li.classList.contains('turn--interrupted')) flags.push('interrupted');
        if (li.dataset.voiceToVoiceMs) flags.push(`v2v ${li.dataset.voiceToVoiceMs} ms`);
        const text = li.querySelector('.turn__text')?.textContent ?? li.textContent;
        return `  [${flags.join(', ')}] ${text.replace(/\s+/g, ' ').trim()}`;
      });
      return [
        `state: ${document.body.dataset.state}`,
        `status: ${document.getElementById('status').textContent}`,
        `caption: ${document.getElementById('caption').textContent}`,
        `banner: ${document.getElementById('banner').hidden ? '(none)' : document.getElementById('banner').textContent.replace(/\s+/g, ' ')}`,
        `stats: ${JSON.stringify(window.artagentStats)}`,
        'log:', ...lines,
      ].join('\n');
    });
  }

  before(async () => {
    work = makeTempDir('artagent-console-');
    const wav = synthesizeCaller(work.dir, SENTENCE, { rate: 48000 });
    server = await startServer();
    context = await chromium.launchPersistentContext(path.join(work.dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 800 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-audio-capture=${wav}%noloop`,
      ],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err));
    page.on('console', (msg) => browserLog.push(`${msg.type()}: ${msg.text()}`));
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Start talking' }).click();
  }, { timeout: 120_000 });

  after(async () => {
    fs.mkdirSync(resultsDir, { recursive: true });
    if (page) {
      // For the humans reading the screenshot: let the reply finish and open its latency breakdown.
      if (!failed) {
        await page.waitForFunction(() => document.body.dataset.state === 'listening', null,
          { timeout: 15_000 }).catch(() => {});
        await page.locator('.turn--agent .latency summary').last().click({ timeout: 2_000 })
          .catch(() => {});
      }
      await page.screenshot({ path: path.join(resultsDir, 'console.png'), fullPage: true })
        .catch((err) => process.stderr.write(`screenshot failed: ${err.message}\n`));
    }
    fs.writeFileSync(path.join(resultsDir, 'console-browser.log'), browserLog.join('\n') + '\n');
    if (server) fs.writeFileSync(path.join(resultsDir, 'console-server.log'), server.stderrTail());
    if (failed) {
      process.stderr.write(`--- browser console ---\n${browserLog.slice(-40).join('\n')}\n`);
      if (server) process.stderr.write(`--- server stderr (tail) ---\n${server.stderrTail()}\n`);
    }
    await context?.close();
    await server?.stop();
    work?.cleanup();
  });

  it('shows the caller\'s words as a transcript line', check(async () => {
    await waitInPage(`a caller line containing "${KEY_WORD}"`, (word) =>
      [...document.querySelectorAll('.turn--caller:not(.turn--pending) .turn__text')]
        .some((el) => el.textContent.toLowerCase().includes(word)), KEY_WORD);
  }));

  it('shows an agent reply with text after the caller\'s line', check(async () => {
    await waitInPage('a non-empty agent line after the caller\'s line', (word) => {
      const lines = [...document.querySelectorAll('#log > li')];
      const caller = lines.findIndex((li) => li.dataset.role === 'caller' &&
        !li.classList.contains('turn--pending') && li.textContent.toLowerCase().includes(word));
      return caller >= 0 && lines.slice(caller + 1).some((li) => li.dataset.role === 'agent' &&
        li.querySelector('.turn__text').textContent.trim().length > 0);
    }, KEY_WORD);
  }));

  it('plays agent audio through the playback worklet', check(async () => {
    await waitInPage('artagentStats.playedSamples > 12000 (0.5 s of agent audio heard)',
      () => window.artagentStats?.playedSamples > 24000 * 0.5);
    const stats = await page.evaluate(() => window.artagentStats);
    assert.ok(stats.chunksReceived > 0, 'no response.output_audio.delta reached the page');
    assert.ok(stats.chunksSent > 0, 'the page sent no microphone audio');
    assert.equal(Number(await page.evaluate(() => document.body.dataset.playedSamples)) > 0, true);
  }));

  it('displays the voice-to-voice latency of a turn', check(async () => {
    await waitInPage('a voice-to-voice latency badge on an agent line', () =>
      [...document.querySelectorAll('.turn--agent .latency__v2v')]
        .some((el) => /^\d+ ms$/.test(el.textContent.trim())));
  }));

  it('raised no page error and got no error event from the server', check(async () => {
    assert.deepEqual(pageErrors.map(String), []);
    const stats = await page.evaluate(() => window.artagentStats);
    const banner = await page.evaluate(() => document.getElementById('banner').hidden ? ''
      : document.getElementById('banner').textContent.replace(/\s+/g, ' ').trim());
    assert.equal(stats.errors, 0, `the server sent error events; banner: ${banner}`);
  }));
});

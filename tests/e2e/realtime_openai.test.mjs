// The official `openai` npm package as a third-party Realtime client of our server, over wss (the
// package always builds a wss:// URL, so the server runs with a certificate from `gen-cert`).
//
//   ARTAGENT_BIN=build/app/artagent node tests/e2e/realtime_openai.test.mjs
//
// A text turn (output_modalities ["text"]), then a voice turn: a flite-spoken caller sentence
// streamed as 24 kHz PCM16 in real time (20 ms every 20 ms), answered with audio.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';

import { readWav, synthesizeCaller } from './lib/audio.mjs';
import { EventRecorder } from './lib/events.mjs';
import { makeTempDir, startServer } from './lib/server.mjs';

const SENTENCE = 'i want to file a claim';
const KEY_WORD = 'claim';
const FRAME_SAMPLES = 480; // 20 ms at 24 kHz
const QUIET_MS = 1_000; // how long a response (a greeting, say) may take to start on its own

const AUDIO_SESSION = {
  type: 'realtime',
  output_modalities: ['audio'],
  audio: {
    input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: { type: 'server_vad' } },
    output: { format: { type: 'audio/pcm', rate: 24000 } },
  },
};

describe('openai OpenAIRealtimeWS against the server over wss', () => {
  let work;
  let server;
  let rt;
  let events;
  let callerPcm; // little-endian PCM16, 24 kHz mono
  let streaming = null;
  let failed = false;
  const clientErrors = [];

  const check = (fn) => async () => {
    try {
      await fn();
    } catch (err) {
      failed = true;
      throw err;
    }
  };

  // Lets a response the server starts by itself (a greeting) begin and finish, so that ours is
  // not refused for overlapping an active one.
  async function waitUntilNoResponseActive(from) {
    await delay(QUIET_MS);
    for (const created of events.all('response.created', from)) {
      const id = created.response?.id;
      await events.waitFor('response.done', { from, where: (e) => e.response?.id === id });
    }
  }

  before(async () => {
    work = makeTempDir('artagent-openai-');
    const wav = readWav(synthesizeCaller(work.dir, SENTENCE, { rate: 24000 }));
    assert.equal(wav.sampleRate, 24000);
    callerPcm = Buffer.alloc(wav.samples.length * 2);
    wav.samples.forEach((s, i) => callerPcm.writeInt16LE(s, 2 * i));

    server = await startServer({ tls: true });
    assert.match(server.url, /^https:\/\//, 'the TLS server should announce an https URL');
    const client = new OpenAI({ apiKey: 'sk-local-test', baseURL: new URL('v1', server.url).href });
    // Self-signed development certificate: these options go to `new WebSocket(url, options)`.
    rt = new OpenAIRealtimeWS({ model: 'gpt-realtime', options: { rejectUnauthorized: false } },
      client);
    rt.on('error', (err) => clientErrors.push(err));
    events = new EventRecorder(rt);
  }, { timeout: 90_000 });

  after(async () => {
    streaming?.stop();
    events?.cancelAll();
    if (rt && rt.socket.readyState <= 1) rt.close();
    if (failed) {
      process.stderr.write(`--- events received ---\n${events?.summary(0, 400)}\n`);
      if (server) process.stderr.write(`--- server stderr (tail) ---\n${server.stderrTail()}\n`);
    }
    await server?.stop();
    work?.cleanup();
  });

  it('receives session.created', check(async () => {
    const created = await events.waitFor('session.created');
    assert.equal(typeof created.session, 'object');
  }));

  it('switches to text output with session.update', check(async () => {
    const from = events.mark();
    rt.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
    const updated = await events.waitFor('session.updated', { from });
    assert.deepEqual(updated.session?.output_modalities, ['text']);
    await waitUntilNoResponseActive(from);
  }));

  it('answers a user text item with output_text deltas and a completed response', check(async () => {
    const from = events.mark();
    rt.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'I want to file a claim' }] },
    });
    rt.send({ type: 'response.create' });
    const created = await events.waitFor('response.created', { from });
    const id = created.response?.id;
    const done = await events.waitFor('response.done', { from, where: (e) => e.response?.id === id });
    assert.equal(done.response.status, 'completed',
      `response.done status ${done.response.status}: ${JSON.stringify(done.response.status_details)}`);
    const deltas = events.all('response.output_text.delta', from)
      .filter((e) => e.response_id === id);
    assert.ok(deltas.length > 0, `no response.output_text.delta for ${id}; got ${events.summary(from)}`);
    const text = deltas.map((e) => e.delta).join('');
    assert.ok(text.trim().length > 0, 'the text deltas are empty');
    assert.equal(events.all('response.output_audio.delta', from).length, 0,
      'text-only session received audio');
    assert.deepEqual(events.all('error', from), []);
  }));

  it('answers a spoken caller turn with a transcript and audio', check(async () => {
    let from = events.mark();
    rt.send({ type: 'session.update', session: AUDIO_SESSION });
    const updated = await events.waitFor('session.updated', { from });
    assert.deepEqual(updated.session?.output_modalities, ['audio']);
    await waitUntilNoResponseActive(from);

    from = events.mark();
    streaming = streamInRealTime(rt, callerPcm);
    const started = await events.waitFor('input_audio_buffer.speech_started', { from });
    const stopped = await events.waitFor('input_audio_buffer.speech_stopped', { from });
    if (typeof started.audio_start_ms === 'number' && typeof stopped.audio_end_ms === 'number') {
      assert.ok(stopped.audio_end_ms > started.audio_start_ms, 'speech ends before it starts');
    }
    const transcribed = await events.waitFor(
      'conversation.item.input_audio_transcription.completed', { from });
    assert.ok(transcribed.transcript.toLowerCase().includes(KEY_WORD),
      `transcript "${transcribed.transcript}" lacks "${KEY_WORD}"`);

    const afterStop = events.events.indexOf(stopped);
    const firstAudio = await events.waitFor('response.output_audio.delta', { from: afterStop });
    const id = firstAudio.response_id;
    const done = await events.waitFor('response.done', { from, where: (e) => e.response?.id === id });
    streaming.stop();
    assert.equal(done.response.status, 'completed',
      `response.done status ${done.response.status}: ${JSON.stringify(done.response.status_details)}`);
    const audio = events.all('response.output_audio.delta', from).filter((e) => e.response_id === id);
    const bytes = audio.reduce((n, e) => n + Buffer.from(e.delta, 'base64').length, 0);
    assert.equal(bytes % 2, 0, 'PCM16 audio with an odd number of bytes');
    assert.ok(bytes >= 24000 * 2 * 0.3, `only ${bytes} bytes of agent audio`);
    assert.deepEqual(events.all('error', from), []);
  }));

  it('reported no client error', () => {
    assert.deepEqual(clientErrors.map((e) => e.message), []);
  });
});

// Sends `pcm` as input_audio_buffer.append events of 20 ms, one every 20 ms (catching up if the
// timer is late), then keeps sending silence, as a live microphone would, until stop().
function streamInRealTime(rt, pcm) {
  const frameBytes = FRAME_SAMPLES * 2;
  const silence = Buffer.alloc(frameBytes).toString('base64');
  const start = performance.now();
  let sent = 0;
  let timer = null;
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const due = Math.floor((performance.now() - start) / 20) + 1;
    for (; sent < due; sent++) {
      const offset = sent * frameBytes;
      const audio = offset < pcm.length
        ? pcm.subarray(offset, offset + frameBytes).toString('base64') : silence;
      rt.send({ type: 'input_audio_buffer.append', audio });
    }
    timer = setTimeout(tick, 20 - ((performance.now() - start) % 20));
  };
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

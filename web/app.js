// The artagent web console: wires the page, the audio engine and the Realtime protocol client.
//
// Client events sent: session.update, input_audio_buffer.append, conversation.item.truncate,
// conversation.item.create, response.create, response.cancel, artagent.input_dtmf.
// Server events used: session.created, error, input_audio_buffer.speech_started/speech_stopped/
// committed, conversation.item.input_audio_transcription.delta/completed/failed, response.created,
// response.output_item.added, response.output_audio.delta/done,
// response.output_audio_transcript.delta/done, response.output_text.delta/done, response.done,
// conversation.item.truncated, output_audio_buffer.cleared, conversation.item.created (keypad
// items), artagent.turn.metrics, artagent.agent, artagent.handoff, artagent.tool.started/completed,
// artagent.slot, artagent.call.end/transfer. Every other event type is ignored.

import { AudioEngine, AudioUnsupportedError, MicrophoneError } from './audio.js';
import { ConversationView } from './conversation.js';
import { RealtimeClient, decodePcm16Base64, realtimeUrl } from './realtime.js';

const SESSION_CONFIG = {
  type: 'realtime',
  output_modalities: ['audio'],
  audio: {
    input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: { type: 'server_vad' } },
    output: { format: { type: 'audio/pcm', rate: 24000 } },
  },
};

const $ = (id) => document.getElementById(id);
const ui = {
  mic: $('mic'),
  micLabel: $('mic-label'),
  status: $('status'),
  conn: $('conn'),
  connText: $('conn-text'),
  scenario: $('scenario'),
  scenarioSelect: $('scenario-select'),
  keypad: $('keypad'),
  keys: $('keys'),
  slots: $('slots'),
  agentPill: $('agent-pill'),
  agentName: $('agent-name'),
  banner: $('banner'),
  bannerTitle: $('banner-title'),
  bannerText: $('banner-text'),
  bannerReconnect: $('banner-reconnect'),
  bannerClose: $('banner-close'),
  composer: $('composer'),
  text: $('text'),
  send: $('send'),
};

// Exposed for tests and for people poking at the console from DevTools.
const stats = {
  connected: false,
  sessionId: null,
  contextSampleRate: 0,
  eventsReceived: 0,
  chunksReceived: 0, // response.output_audio.delta events
  samplesReceived: 0, // 24 kHz samples in them
  chunksSent: 0, // input_audio_buffer.append events
  chunksDropped: 0,
  playedSamples: 0, // 24 kHz agent samples actually rendered by the playback worklet
  playedItems: 0, // agent items of which something was heard
  underruns: 0,
  truncations: 0,
  responses: 0, // response.done seen
  callerLines: 0,
  lastVoiceToVoiceMs: null,
  errors: 0,
  agent: null, // the agent answering now (artagent.agent)
  handoffs: 0,
  toolCalls: 0, // artagent.tool.completed seen
  dtmfSent: 0, // keys sent with artagent.input_dtmf
  callEnded: false, // the agent ended the call (artagent.call.end)
};
window.artagentStats = stats;

const view = new ConversationView($('log'), $('caption'));
const audio = new AudioEngine({
  onMicChunk: sendMicChunk,
  onProgress: onPlaybackProgress,
  onUnderrun: (count) => { stats.underruns = count; },
  onMicEnded: () => {
    showBanner('Microphone disconnected', 'The microphone stopped. Press the mic button to try again.');
    micState = 'off';
    render();
  },
});

let client = null;
let connecting = null;
let connState = 'offline'; // offline | connecting | connected | closed
let micState = 'off'; // off | on | muted
let micBusy = false;
let callerSpeaking = false;
let hasConnectedOnce = false;
let scenario = ''; // picked in the scenario list ('' until the catalogue answers: server default)
let endedByAgent = false; // artagent.call.end arrived: the close that follows is expected
let pressedKeys = ''; // keypad keys since the last keypad turn

// Per session.
let activeResponse = null; // id of the response being generated
let retryResponseCreate = false; // ours was refused for overlapping another: resend after it
const audioItems = new Map(); // itemId -> {responseId, samples, audioDone}
const cutItems = new Set(); // items cut by barge-in: their late audio is dropped
let lastAudioItem = null;

// ---- connection -----------------------------------------------------------------------------

function ensureConnected() {
  if (client?.state === 'open') return Promise.resolve();
  if (connecting) return connecting;
  connecting = connect().finally(() => { connecting = null; });
  return connecting;
}

async function connect() {
  resetSession();
  const rt = new RealtimeClient(realtimeUrl(window.location, scenario));
  client = rt;
  registerHandlers(rt);
  setConn('connecting');
  try {
    await rt.connect();
  } catch (err) {
    if (rt !== client) throw err; // given up for another (scenario switch): not a failure
    setConn('closed');
    showBanner('Cannot reach the server',
      `The console could not open ${rt.url}. Is artagent running? ` +
      'Start it with “make run”, then press Reconnect.', { reconnect: true });
    throw err;
  }
  if (rt !== client) return; // replaced while connecting
  rt.send({ type: 'session.update', session: SESSION_CONFIG });
  if (hasConnectedOnce) view.note('New session');
  hasConnectedOnce = true;
  setConn('connected');
  hideBanner();
}

function resetSession() {
  activeResponse = null;
  retryResponseCreate = false;
  audioItems.clear();
  cutItems.clear();
  lastAudioItem = null;
  callerSpeaking = false;
  endedByAgent = false;
  stats.callEnded = false;
  pressedKeys = '';
  ui.keys.textContent = '';
  ui.slots.replaceChildren();
  if (audio.playback) audio.flush();
}

function onClose({ code, reason }) {
  if (connState === 'offline') return;
  setConn('closed');
  stats.connected = false;
  activeResponse = null;
  callerSpeaking = false;
  if (audio.playback) audio.flush();
  const why = reason ? ` (${reason})` : '';
  if (endedByAgent) {
    // The agent said goodbye and hung up: that is the end of this call, not a failure. Nothing
    // reconnects by itself; the microphone is muted so that the next press starts a new call.
    if (micState === 'on') {
      audio.setMicrophoneEnabled(false);
      micState = 'muted';
      ui.mic.style.setProperty('--level', '0');
    }
    render();
    return;
  }
  if (code === 1013) {
    showBanner('Server busy', `The server is at capacity${why}. Try again in a moment.`,
      { reconnect: true });
  } else if (code === 1008) {
    showBanner('Connection refused', `The server closed the session${why}.`, { reconnect: true });
  } else if (code === 1000 || code === 1001) {
    showBanner('Session ended', `The server ended the session${why}.`, { reconnect: true });
  } else {
    showBanner('Connection lost',
      `The connection to the server closed (code ${code})${why}. The server may have stopped.`,
      { reconnect: true });
  }
  render();
}

function setConn(state) {
  connState = state;
  stats.connected = state === 'connected';
  ui.conn.dataset.conn = state;
  ui.connText.textContent = {
    offline: 'Offline', connecting: 'Connecting…', connected: 'Connected', closed: 'Disconnected',
  }[state];
  render();
}

// ---- server events --------------------------------------------------------------------------

function registerHandlers(rt) {
  rt.on('close', (info) => { if (rt === client) onClose(info); });
  rt.on('*', () => { stats.eventsReceived++; });

  rt.on('session.created', (e) => {
    stats.sessionId = e.session?.id ?? null;
    publish();
  });

  rt.on('error', (e) => {
    if (e.error?.code === 'conversation_already_has_active_response') {
      // Our response.create (only typed messages send one) raced a response the server had just
      // started, its greeting say: interrupt that one and ask again once it is done.
      retryResponseCreate = true;
      bargeIn();
      rt.send({ type: 'response.cancel' });
      return;
    }
    stats.errors++;
    const message = e.error?.message || 'The server reported an error.';
    const code = e.error?.code ? ` [${e.error.code}]` : '';
    showBanner('Server error', message + code);
  });

  rt.on('input_audio_buffer.speech_started', () => {
    callerSpeaking = true;
    bargeIn();
    render();
  });

  rt.on('input_audio_buffer.speech_stopped', (e) => {
    callerSpeaking = false;
    view.reserveCaller(e.item_id);
    render();
  });

  rt.on('input_audio_buffer.committed', (e) => view.reserveCaller(e.item_id));

  // Our server sends the WHOLE current hypothesis of the utterance in `delta` (not an increment),
  // so each delta replaces the caption rather than being appended to it.
  rt.on('conversation.item.input_audio_transcription.delta', (e) => {
    if (typeof e.delta === 'string' && e.delta) view.setCaption(e.delta);
  });

  rt.on('conversation.item.input_audio_transcription.completed', (e) => {
    view.callerFinal(e.item_id, e.transcript);
    stats.callerLines = document.querySelectorAll('.turn--caller:not(.turn--pending)').length;
    publish();
  });

  rt.on('conversation.item.input_audio_transcription.failed', (e) => view.callerFailed(e.item_id));

  rt.on('response.created', (e) => {
    activeResponse = e.response?.id ?? activeResponse;
    render();
  });

  rt.on('response.output_item.added', (e) => {
    const item = e.item;
    if (item?.type === 'message' && item.role === 'assistant' && item.id) {
      view.agent(item.id, e.response_id);
    }
  });

  rt.on('response.output_audio.delta', onAudioDelta);

  rt.on('response.output_audio.done', (e) => {
    const rec = audioItems.get(e.item_id);
    if (rec) rec.audioDone = true;
    audio.endItem(e.item_id);
  });

  const onAgentDelta = (e) => {
    if (typeof e.delta === 'string' && e.item_id) view.agentDelta(e.item_id, e.response_id, e.delta);
  };
  rt.on('response.output_audio_transcript.delta', onAgentDelta);
  rt.on('response.output_text.delta', onAgentDelta);
  rt.on('response.output_audio_transcript.done', (e) => {
    if (e.item_id) view.agentDone(e.item_id, e.response_id, e.transcript);
  });
  rt.on('response.output_text.done', (e) => {
    if (e.item_id) view.agentDone(e.item_id, e.response_id, e.text);
  });

  rt.on('response.done', (e) => {
    const response = e.response ?? {};
    stats.responses++;
    if (response.id === activeResponse || !response.id) activeResponse = null;
    const itemIds = new Set(view.itemsOfResponse(response.id));
    for (const item of response.output ?? []) if (item?.id) itemIds.add(item.id);
    for (const id of itemIds) {
      const rec = audioItems.get(id);
      if (rec && !rec.audioDone) {
        rec.audioDone = true;
        audio.endItem(id);
      }
    }
    if (retryResponseCreate) {
      retryResponseCreate = false;
      rt.send({ type: 'response.create' });
    }
    if (response.status === 'cancelled') {
      if (lastAudioItem && itemIds.has(lastAudioItem)) bargeIn();
      // Items cut by a barge-in get their exact heard time once the playback flush answers.
      for (const id of itemIds) if (!cutItems.has(id)) view.agentInterrupted(id, heardOf(id));
    } else {
      for (const id of itemIds) view.agentDone(id, response.id);
    }
    render();
  });

  // The server cut an item to what was heard. The GA event carries item_id and audio_end_ms; if
  // ours also carries the heard text, show it.
  rt.on('conversation.item.truncated', (e) => {
    const transcript = e.transcript ?? e.item?.content?.[0]?.transcript;
    view.agentTruncated(e.item_id, transcript);
    if (typeof e.audio_end_ms === 'number') view.agentInterrupted(e.item_id, e.audio_end_ms);
  });

  // The server dropped the audio it had buffered for us: do the same with ours.
  rt.on('output_audio_buffer.cleared', () => bargeIn());

  rt.on('artagent.turn.metrics', (e) => {
    const latency = e.latency_ms ?? {};
    const itemId = e.item_id ?? view.itemsOfResponse(e.response_id)[0];
    if (!itemId) return;
    view.setMetrics(itemId, latency);
    if (typeof latency.voice_to_voice === 'number') {
      stats.lastVoiceToVoiceMs = latency.voice_to_voice;
      publish();
    }
  });

  rt.on('artagent.agent', (e) => {
    if (!e.name) return;
    view.setAgentName(e.name);
    stats.agent = e.name;
    ui.agentName.textContent = e.name;
    ui.agentPill.hidden = false;
    publish();
  });

  // What the agent does besides talking.
  rt.on('artagent.handoff', (e) => {
    stats.handoffs++;
    view.handoff({ from: e.from, to: e.to, type: e.handoff_type, reason: e.reason });
    publish();
  });

  rt.on('artagent.tool.started', (e) => {
    if (!e.call_id) return;
    view.toolStarted(e.call_id, { name: e.name, agent: e.agent, args: e.arguments });
  });

  rt.on('artagent.tool.completed', (e) => {
    if (!e.call_id) return;
    stats.toolCalls++;
    view.toolFinished(e.call_id, {
      name: e.name, status: e.status, durationMs: e.duration_ms, output: e.output, agent: e.agent,
    });
    publish();
  });

  rt.on('artagent.slot', (e) => { if (e.name) setSlot(e.name, e.value, e.slot_type); });

  // Keys the caller pressed became a caller turn.
  rt.on('conversation.item.created', (e) => {
    const item = e.item;
    if (!item?.artagent_dtmf) return;
    const digits = (item.content ?? []).map((part) => part?.text ?? '').join('');
    view.callerDtmf(item.id, digits);
    pressedKeys = '';
    ui.keys.textContent = '';
  });

  rt.on('artagent.call.transfer', (e) => {
    view.note(`The agent is transferring the call${e.target ? ` to ${e.target}` : ''}` +
      `${e.reason ? ` (${e.reason})` : ''}`);
  });

  rt.on('artagent.call.end', (e) => {
    endedByAgent = true;
    stats.callEnded = true;
    view.note(`Call ended by the agent${e.reason ? ` (${e.reason})` : ''}`);
    publish();
  });
}

function onAudioDelta(e) {
  const itemId = e.item_id;
  if (!itemId || typeof e.delta !== 'string' || cutItems.has(itemId)) return;
  const samples = decodePcm16Base64(e.delta);
  stats.chunksReceived++;
  stats.samplesReceived += samples.length;
  let rec = audioItems.get(itemId);
  if (!rec) {
    rec = { responseId: e.response_id, samples: 0, audioDone: false };
    audioItems.set(itemId, rec);
    view.agent(itemId, e.response_id);
  }
  rec.samples += samples.length;
  lastAudioItem = itemId;
  audio.play(itemId, samples);
}

function heardOf(itemId) {
  return audioItems.has(itemId) ? audio.heardMs(itemId) : undefined;
}

// Barge-in: stop agent audio at once and tell the server how much of the item was heard, so its
// history keeps only that. Called on speech_started, on a cancelled response and before a typed
// message interrupts the agent.
function bargeIn() {
  const itemId = lastAudioItem;
  const rec = itemId ? audioItems.get(itemId) : null;
  const mayBePlaying = rec && !cutItems.has(itemId) &&
    (!rec.audioDone || audio.heardMs(itemId) * 24 < rec.samples);
  if (mayBePlaying) cutItems.add(itemId); // drop its audio still in flight from now on
  const rt = client;
  audio.flush().then(({ itemId: flushedItem, playedMs, queuedMs }) => {
    if (!mayBePlaying || flushedItem !== itemId || rt !== client) return;
    const receivedMs = rec.samples / 24;
    if (queuedMs <= 0 && rec.audioDone && playedMs >= receivedMs) return; // fully heard already
    const audioEndMs = Math.max(0, Math.floor(Math.min(playedMs, receivedMs)));
    rt?.send({
      type: 'conversation.item.truncate', item_id: itemId, content_index: 0,
      audio_end_ms: audioEndMs,
    });
    stats.truncations++;
    view.agentInterrupted(itemId, audioEndMs);
    publish();
  });
}

// ---- microphone -----------------------------------------------------------------------------

function sendMicChunk(samples, level) {
  ui.mic.style.setProperty('--level', Math.min(1, level * 6).toFixed(3));
  if (client?.state !== 'open') return;
  if (client.appendAudio(samples)) stats.chunksSent++;
  else stats.chunksDropped++;
}

async function onMicClick() {
  if (micBusy) return;
  if (micState === 'on' || micState === 'muted') {
    const on = micState === 'muted';
    audio.setMicrophoneEnabled(on);
    micState = on ? 'on' : 'muted';
    if (!on) ui.mic.style.setProperty('--level', '0');
    if (on && client?.state !== 'open') ensureConnected().catch(() => {});
    render();
    return;
  }
  micBusy = true;
  render();
  try {
    await audio.start(); // inside the click: the AudioContext may start playing
    stats.contextSampleRate = audio.sampleRate;
    await ensureConnected();
    await audio.startMicrophone();
    micState = 'on';
  } catch (err) {
    reportStartError(err);
  } finally {
    micBusy = false;
    render();
  }
}

function reportStartError(err) {
  if (err instanceof MicrophoneError) {
    const typeInstead = ' You can still type to the agent below.';
    if (err.kind === 'denied') {
      showBanner('Microphone blocked',
        'artagent needs your microphone to hear you. Click the microphone (or camera) icon at ' +
        'the right of the address bar and choose “Allow”, then press the mic button again. In ' +
        'Chromium you can also allow it under Settings → Privacy and security → Site settings → ' +
        'Microphone. Over plain http only localhost / 127.0.0.1 may use the microphone; ' +
        'from another host, use https (start the server with the dev certificate from ' +
        '“artagent gen-cert”).' + typeInstead);
    } else if (err.kind === 'insecure') {
      showBanner('Microphone needs a secure page',
        'Browsers give the microphone only to https pages and to http://localhost or ' +
        'http://127.0.0.1. Open the console through one of those, or start the server with ' +
        '--tls-cert/--tls-key (a dev certificate comes from “artagent gen-cert”) and use https.' +
        typeInstead);
    } else if (err.kind === 'not-found') {
      showBanner('No microphone found',
        'Connect a microphone (or pick an input device in your system settings) and press the ' +
        'mic button again.' + typeInstead);
    } else {
      showBanner('Microphone unavailable',
        `${err.message} Another application may be using it; close it and try again.` +
        typeInstead);
    }
  } else if (err instanceof AudioUnsupportedError && !window.isSecureContext) {
    showBanner('This page needs a secure connection',
      'Browsers allow audio worklets and the microphone only on https pages and on ' +
      'http://localhost or http://127.0.0.1. Open the console through one of those, or start ' +
      'the server with --tls-cert/--tls-key (a dev certificate comes from “artagent gen-cert”) ' +
      'and use https.');
  } else if (err instanceof AudioUnsupportedError) {
    showBanner('Audio is not supported here',
      `${err.message} Use a recent Chrome, Edge, Firefox or Safari, over https or localhost.`);
  } else if (!err?.closeInfo) { // connection failures already have their banner
    showBanner('Could not start', String(err?.message ?? err));
  }
}

// ---- keypad (DTMF) --------------------------------------------------------------------------

// A key goes out at once, as on a phone; the server collects keys into one caller turn that ends
// at '#' or after a pause. A key interrupts the agent, so stop its audio here too.
async function pressKey(key) {
  try {
    await audio.start().catch((err) => reportStartError(err)); // replies are spoken
    await ensureConnected();
  } catch {
    return; // the banner says why
  }
  if (activeResponse) bargeIn();
  if (!client.send({ type: 'artagent.input_dtmf', digits: key })) return;
  stats.dtmfSent++;
  pressedKeys = key === '#' ? '' : pressedKeys + key;
  ui.keys.textContent = pressedKeys;
  publish();
}

function onKeypadClick(event) {
  const button = event.target.closest('button[data-key]');
  if (button) pressKey(button.dataset.key);
}

// ---- slots ----------------------------------------------------------------------------------

function slotText(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return JSON.stringify(value);
}

/** Shows (or updates) one value the agent stored, in the order first noted. */
function setSlot(name, value, type) {
  let row = [...ui.slots.children].find((el) => el.dataset.slot === name);
  if (!row) {
    row = document.createElement('div');
    row.className = 'slots__row';
    row.dataset.slot = name;
    const dt = document.createElement('dt');
    dt.textContent = name.replaceAll('_', ' ');
    const dd = document.createElement('dd');
    row.append(dt, dd);
    ui.slots.append(row);
  }
  const dd = row.querySelector('dd');
  dd.textContent = slotText(value);
  if (type) row.title = `${name} (${type})`;
}

// ---- text chat ------------------------------------------------------------------------------

async function onSubmit(event) {
  event.preventDefault();
  const text = ui.text.value.trim();
  if (!text) return;
  try {
    await audio.start().catch((err) => reportStartError(err)); // replies are spoken too
    stats.contextSampleRate = audio.sampleRate;
    await ensureConnected();
  } catch {
    return; // the banner says why; the text stays in the box
  }
  ui.text.value = '';
  updateSendButton();
  if (activeResponse) {
    bargeIn();
    client.send({ type: 'response.cancel' });
  }
  view.callerTyped(text);
  client.send({
    type: 'conversation.item.create',
    item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
  });
  client.send({ type: 'response.create' });
}

function updateSendButton() {
  ui.send.disabled = ui.text.value.trim() === '';
}

// ---- page state -----------------------------------------------------------------------------

function onPlaybackProgress(msg) {
  stats.playedSamples = msg.totalPlayed;
  stats.playedItems = audio.playedItems;
  render();
}

function currentState() {
  if (connState === 'connecting' || micBusy) return 'connecting';
  if (connState === 'closed' && endedByAgent) return 'ended';
  if (connState === 'closed') return 'closed';
  if (connState !== 'connected') return 'idle';
  if (audio.current) return 'agent-speaking';
  if (callerSpeaking) return 'caller-speaking';
  if (activeResponse) return 'thinking';
  if (micState === 'muted') return 'muted';
  if (micState === 'on') return 'listening';
  return 'connected';
}

const STATUS_TEXT = {
  idle: 'Press the microphone to start a conversation.',
  connecting: 'Connecting…',
  closed: 'Disconnected.',
  ended: 'Call ended by the agent. Press the microphone or type to start a new call.',
  'agent-speaking': 'Agent speaking — talk at any time to interrupt.',
  'caller-speaking': 'Listening…',
  thinking: 'Thinking…',
  muted: 'Microphone muted. Press it to talk again, or type below.',
  listening: 'Listening — go ahead.',
  connected: 'Connected. Press the microphone to talk, or type below.',
};

let lastRendered = '';
function render() {
  const state = currentState();
  const key = `${state}|${micState}|${micBusy}|${connState}`;
  if (key !== lastRendered) {
    lastRendered = key;
    document.body.dataset.state = state;
    ui.status.textContent = STATUS_TEXT[state];
    ui.mic.dataset.mic = micState;
    ui.mic.setAttribute('aria-pressed', String(micState === 'on'));
    const label = micState === 'on' ? 'Mute microphone'
      : micState === 'muted' ? 'Unmute microphone' : 'Start talking';
    ui.mic.setAttribute('aria-label', label);
    ui.micLabel.textContent = micState === 'on' ? 'Mute' : micState === 'muted' ? 'Unmute' : 'Start';
  }
  publish();
}

function publish() {
  const d = document.body.dataset;
  d.connected = String(stats.connected);
  d.playedSamples = String(stats.playedSamples);
  d.playedItems = String(stats.playedItems);
  d.chunksReceived = String(stats.chunksReceived);
  d.chunksSent = String(stats.chunksSent);
  d.responses = String(stats.responses);
  d.truncations = String(stats.truncations);
  if (stats.lastVoiceToVoiceMs != null) d.voiceToVoiceMs = String(stats.lastVoiceToVoiceMs);
}

// ---- banner ---------------------------------------------------------------------------------

function showBanner(title, text, { reconnect = false } = {}) {
  ui.bannerTitle.textContent = title;
  ui.bannerText.textContent = text;
  ui.bannerReconnect.hidden = !reconnect;
  ui.banner.hidden = false;
}

function hideBanner() {
  ui.banner.hidden = true;
}

// ---- scenario -------------------------------------------------------------------------------

// GET /api/v1/scenarios: {scenarios: [{name, default, description, ...}]} (an array of names or
// of such objects is accepted too). Fills the picker; the default is preselected and marked.
async function loadScenarios() {
  try {
    const res = await fetch('api/v1/scenarios', { headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const body = await res.json();
    const list = (Array.isArray(body) ? body : (body?.scenarios ?? []))
      .map((s) => (typeof s === 'string' ? { name: s } : s))
      .filter((s) => typeof s?.name === 'string' && s.name);
    if (!list.length) return;
    const wanted = new URLSearchParams(window.location.search).get('scenario');
    const pick = list.find((s) => s.name === wanted) ?? list.find((s) => s.default === true) ??
      list[0];
    ui.scenarioSelect.replaceChildren(...list.map((s) => {
      const option = document.createElement('option');
      option.value = s.name;
      option.textContent = s.default ? `${s.name} (default)` : s.name;
      if (s.default) option.dataset.default = 'true';
      if (s.description) option.title = s.description;
      return option;
    }));
    ui.scenarioSelect.value = pick.name;
    if (!client) scenario = pick.name; // a session already open keeps the one it has
    ui.scenario.hidden = false;
  } catch {
    // No catalogue: the picker stays hidden and sessions use the server's default scenario.
  }
}

// Another scenario: end this session and start a new one in it (if one was open).
function onScenarioChange() {
  const name = ui.scenarioSelect.value;
  if (!name || name === scenario) return;
  scenario = name;
  const old = client;
  if (!old || old.state === 'closed' || old.state === 'idle') return;
  client = null; // its close is ours: no banner
  old.close(1000, 'switching scenario');
  setConn('offline');
  view.note(`Scenario: ${name}`);
  ui.agentPill.hidden = true;
  ensureConnected().catch(() => {});
}

// ---- start ----------------------------------------------------------------------------------

ui.mic.addEventListener('click', onMicClick);
ui.composer.addEventListener('submit', onSubmit);
ui.text.addEventListener('input', updateSendButton);
ui.bannerClose.addEventListener('click', hideBanner);
ui.keypad.addEventListener('click', onKeypadClick);
ui.scenarioSelect.addEventListener('change', onScenarioChange);
ui.bannerReconnect.addEventListener('click', () => {
  hideBanner();
  ensureConnected().catch(() => {});
});
updateSendButton();
render();
loadScenarios();

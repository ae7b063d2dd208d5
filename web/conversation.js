// The conversation log and the live caption. Pure DOM, no protocol knowledge: app.js calls it with
// item ids and text. Server text is only ever set through textContent.

const LATENCY_LABELS = [
  ['voice_to_voice', 'Voice to voice'],
  ['endpointing', 'End-of-turn wait'],
  ['stt_final', 'Speech-to-text final'],
  ['model_first_token', 'Model first token'],
  ['first_clause', 'First clause'],
  ['tts_first_audio', 'TTS first audio'],
  ['first_audio_sent', 'First audio sent'],
  ['barge_in_stop', 'Barge-in stop'],
];

export class ConversationView {
  constructor(logEl, captionEl) {
    this.logEl = logEl;
    this.captionEl = captionEl;
    this.callers = new Map(); // itemId -> <li>
    this.agents = new Map(); // itemId -> {li, text, done}
    this.pendingMetrics = new Map(); // itemId -> latency_ms, for metrics that beat the item
    this.agentName = '';
    this.tools = new Map(); // callId -> tool entry
  }

  // ---- caller ---------------------------------------------------------------------------------

  /** Reserves the caller's place in the log (hidden until its transcript arrives). */
  reserveCaller(itemId) {
    if (!itemId || this.callers.has(itemId)) return;
    const li = this.#line('caller', 'You');
    li.classList.add('turn--pending');
    li.dataset.itemId = itemId;
    this.callers.set(itemId, li);
    this.#append(li);
  }

  callerFinal(itemId, transcript) {
    const text = (transcript ?? '').trim();
    let li = itemId ? this.callers.get(itemId) : null;
    if (!text) {
      if (li) li.remove();
      if (itemId) this.callers.delete(itemId);
      this.clearCaption();
      return;
    }
    if (!li) {
      const id = itemId ?? `local-${this.callers.size}`;
      this.reserveCaller(id);
      li = this.callers.get(id);
    }
    li.classList.remove('turn--pending');
    li.querySelector('.turn__text').textContent = text;
    this.setCaption(text, true);
    this.#scroll();
  }

  callerFailed(itemId) {
    const li = this.callers.get(itemId);
    if (li && li.classList.contains('turn--pending')) {
      li.remove();
      this.callers.delete(itemId);
    }
    this.clearCaption();
  }

  /** A message the user typed. */
  callerTyped(text) {
    const li = this.#line('caller', 'You');
    li.classList.add('turn--typed');
    li.querySelector('.turn__text').textContent = text;
    this.#append(li);
  }

  // ---- caption --------------------------------------------------------------------------------

  setCaption(text, final = false) {
    this.captionEl.textContent = text;
    this.captionEl.classList.toggle('caption--final', final);
    this.captionEl.classList.toggle('caption--empty', !text);
  }

  clearCaption() {
    this.setCaption('');
  }

  // ---- agent ----------------------------------------------------------------------------------

  setAgentName(name) {
    this.agentName = name || '';
  }

  /** Ensures an agent line exists for itemId; returns its record. */
  agent(itemId, responseId) {
    let rec = this.agents.get(itemId);
    if (rec) return rec;
    const who = this.agentName ? `Agent · ${this.agentName}` : 'Agent';
    const li = this.#line('agent', who);
    li.dataset.itemId = itemId;
    if (responseId) li.dataset.responseId = responseId;
    li.setAttribute('aria-busy', 'true');
    rec = { li, text: '', done: false, responseId };
    this.agents.set(itemId, rec);
    this.#append(li);
    const metrics = this.pendingMetrics.get(itemId);
    if (metrics) {
      this.pendingMetrics.delete(itemId);
      this.setMetrics(itemId, metrics);
    }
    return rec;
  }

  agentDelta(itemId, responseId, delta) {
    const rec = this.agent(itemId, responseId);
    if (rec.done) return;
    rec.text += delta;
    this.#setAgentText(rec, rec.text);
  }

  agentDone(itemId, responseId, transcript) {
    const rec = this.agent(itemId, responseId);
    if (typeof transcript === 'string' && !rec.li.classList.contains('turn--interrupted')) {
      rec.text = transcript;
      this.#setAgentText(rec, transcript);
    }
    this.#finish(rec);
  }

  /** The caller interrupted this item; heardMs (optional) is how much of it they heard. */
  agentInterrupted(itemId, heardMs) {
    const rec = this.agents.get(itemId);
    if (!rec) return;
    rec.li.classList.add('turn--interrupted');
    let note = rec.li.querySelector('.turn__note');
    if (!note) {
      note = document.createElement('span');
      note.className = 'turn__note';
      rec.li.querySelector('.turn__meta').append(note);
    }
    note.textContent = typeof heardMs === 'number'
      ? `interrupted after ${(heardMs / 1000).toFixed(1)} s` : 'interrupted';
    this.#finish(rec);
  }

  /** The server cut the item to what was heard; `transcript` replaces the text when given. */
  agentTruncated(itemId, transcript) {
    const rec = this.agents.get(itemId);
    if (!rec) return;
    if (typeof transcript === 'string') {
      rec.text = transcript;
      this.#setAgentText(rec, transcript);
    }
  }

  itemsOfResponse(responseId) {
    const ids = [];
    for (const [id, rec] of this.agents) if (rec.responseId === responseId) ids.push(id);
    return ids;
  }

  // ---- latency --------------------------------------------------------------------------------

  /** Shows a turn's latency (artagent.turn.metrics latency_ms) on its agent line. */
  setMetrics(itemId, latency) {
    const rec = this.agents.get(itemId);
    if (!rec) {
      this.pendingMetrics.set(itemId, latency);
      return;
    }
    rec.li.querySelector('.latency')?.remove();
    const details = document.createElement('details');
    details.className = 'latency';
    const summary = document.createElement('summary');
    const v2v = latency?.voice_to_voice;
    const label = document.createElement('span');
    label.className = 'latency__label';
    summary.append(label);
    if (typeof v2v === 'number') {
      label.textContent = 'voice-to-voice';
      const badge = document.createElement('span');
      badge.className = 'latency__v2v';
      badge.textContent = `${Math.round(v2v)} ms`;
      summary.append(badge);
      rec.li.dataset.voiceToVoiceMs = String(v2v);
      summary.setAttribute('aria-label',
        `Voice-to-voice latency ${Math.round(v2v)} milliseconds; show breakdown`);
    } else {
      label.textContent = 'timings';
      summary.setAttribute('aria-label', 'Show latency breakdown');
    }
    const dl = document.createElement('dl');
    const lines = [];
    const known = new Set();
    for (const [key, label] of LATENCY_LABELS) {
      known.add(key);
      if (typeof latency?.[key] === 'number') lines.push([label, latency[key]]);
    }
    for (const [key, value] of Object.entries(latency ?? {})) {
      if (!known.has(key) && typeof value === 'number') lines.push([key.replaceAll('_', ' '), value]);
    }
    for (const [label, value] of lines) {
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
      dl.append(dt, dd);
    }
    summary.title = lines.map(([l, v]) => `${l}: ${Math.round(v * 10) / 10} ms`).join('\n');
    details.append(summary, dl);
    rec.li.querySelector('.turn__meta').append(details);
  }

  /** Keys the caller pressed on the keypad (a conversation item marked artagent_dtmf). */
  callerDtmf(itemId, digits) {
    if (itemId && this.callers.has(itemId)) return;
    const li = this.#line('caller', 'You');
    li.classList.add('turn--dtmf');
    if (itemId) {
      li.dataset.itemId = itemId;
      this.callers.set(itemId, li);
    }
    li.querySelector('.turn__text').textContent = digits;
    this.#append(li);
  }

  // ---- what the agent does besides talking ----------------------------------------------------

  /** A tool call began: a compact entry whose details (arguments, output) expand on demand. */
  toolStarted(callId, { name, agent, args }) {
    const rec = this.#tool(callId, name);
    if (agent) rec.li.dataset.agent = agent;
    rec.args.textContent = formatJson(args);
    return rec;
  }

  /** A tool call ended: status (completed, failed, timeout, cancelled), duration, output. */
  toolFinished(callId, { name, status, durationMs, output, agent, args }) {
    const rec = this.#tool(callId, name);
    if (agent) rec.li.dataset.agent = agent;
    if (args !== undefined && !rec.args.textContent) rec.args.textContent = formatJson(args);
    rec.li.dataset.status = status || 'completed';
    rec.li.setAttribute('aria-busy', 'false');
    rec.status.textContent = status || 'completed';
    rec.duration.textContent = typeof durationMs === 'number' ? `${formatMs(durationMs)}` : '';
    rec.output.textContent = formatJson(output);
    rec.outputBlock.hidden = false;
    this.#scroll();
  }

  /** Another agent took over: "auth_agent → fnol_agent (announced)". */
  handoff({ from, to, type, reason }) {
    const li = document.createElement('li');
    li.className = 'turn turn--note turn--handoff';
    li.dataset.role = 'handoff';
    li.dataset.from = from ?? '';
    li.dataset.to = to ?? '';
    const text = `${from || 'agent'} → ${to || 'agent'}${type ? ` (${type})` : ''}`;
    li.textContent = text;
    if (reason) li.title = reason;
    li.setAttribute('aria-label', `Hand-off: ${text}${reason ? `, ${reason}` : ''}`);
    this.#append(li);
  }

  // ---- notes ----------------------------------------------------------------------------------

  /** A system line: hand-off, new session, ... */
  note(text) {
    const li = document.createElement('li');
    li.className = 'turn turn--note';
    li.textContent = text;
    this.#append(li);
  }

  // ---- helpers --------------------------------------------------------------------------------

  #tool(callId, name) {
    let rec = this.tools.get(callId);
    if (rec) return rec;
    const li = document.createElement('li');
    li.className = 'turn turn--tool';
    li.dataset.role = 'tool';
    li.dataset.callId = callId ?? '';
    li.dataset.tool = name ?? '';
    li.dataset.status = 'running';
    li.setAttribute('aria-busy', 'true');
    const details = document.createElement('details');
    details.className = 'tool';
    const summary = document.createElement('summary');
    const icon = document.createElement('span');
    icon.className = 'tool__icon';
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = '⚙';
    const nameEl = document.createElement('span');
    nameEl.className = 'tool__name';
    nameEl.textContent = name ?? 'tool';
    const status = document.createElement('span');
    status.className = 'tool__status';
    status.textContent = 'running…';
    const duration = document.createElement('span');
    duration.className = 'tool__duration';
    summary.append(icon, nameEl, status, duration);
    const body = document.createElement('div');
    body.className = 'tool__body';
    const argsTitle = document.createElement('h4');
    argsTitle.textContent = 'Arguments';
    const args = document.createElement('pre');
    args.className = 'tool__args';
    const outputBlock = document.createElement('div');
    outputBlock.hidden = true;
    const outTitle = document.createElement('h4');
    outTitle.textContent = 'Output';
    const output = document.createElement('pre');
    output.className = 'tool__output';
    outputBlock.append(outTitle, output);
    body.append(argsTitle, args, outputBlock);
    details.append(summary, body);
    li.append(details);
    rec = { li, status, duration, args, output, outputBlock };
    this.tools.set(callId, rec);
    this.#append(li);
    return rec;
  }

  #line(role, who) {
    const li = document.createElement('li');
    li.className = `turn turn--${role}`;
    li.dataset.role = role;
    const meta = document.createElement('div');
    meta.className = 'turn__meta';
    const whoEl = document.createElement('span');
    whoEl.className = 'turn__who';
    whoEl.textContent = who;
    meta.append(whoEl);
    const text = document.createElement('p');
    text.className = 'turn__text';
    li.append(meta, text);
    return li;
  }

  #setAgentText(rec, text) {
    rec.li.querySelector('.turn__text').textContent = text;
    this.#scroll();
  }

  #finish(rec) {
    rec.done = true;
    rec.li.setAttribute('aria-busy', 'false');
  }

  #append(li) {
    const stick = this.#nearBottom();
    this.logEl.append(li);
    if (stick) this.logEl.scrollTop = this.logEl.scrollHeight;
  }

  #scroll() {
    if (this.#nearBottom(120)) this.logEl.scrollTop = this.logEl.scrollHeight;
  }

  #nearBottom(slack = 80) {
    const el = this.logEl;
    return el.scrollHeight - el.scrollTop - el.clientHeight < slack;
  }
}

/** A JSON value for people: strings as they are, the rest pretty-printed. */
export function formatJson(value) {
  if (value === undefined || value === null || value === '') return '—';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

function formatMs(ms) {
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 10_000 ? `${Math.round(ms)} ms`
    : `${(ms / 1000).toFixed(1)} s`;
}

// The console's OpenAI Realtime protocol client: one WebSocket to /v1/realtime carrying JSON
// events. It knows the wire format (JSON framing, base64 PCM16) and nothing about the page.
//
// Events from the server are dispatched by their `type` to handlers registered with on(type, fn);
// on('*', fn) sees every event. Types nobody listens to are ignored, as the protocol asks.

/** ws(s)://<same host>/v1/realtime for the page at `location` (?scenario=NAME if given). */
export function realtimeUrl(location = window.location, scenario = '') {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const query = scenario ? `?scenario=${encodeURIComponent(scenario)}` : '';
  return `${scheme}//${location.host}/v1/realtime${query}`;
}

// Above this many bytes waiting in the socket's send buffer, microphone audio is dropped rather
// than queued: late audio is worse than lost audio in a live conversation.
const MAX_BUFFERED_AUDIO_BYTES = 256 * 1024;

export class RealtimeClient {
  constructor(url) {
    this.url = url;
    this.socket = null;
    this.state = 'idle'; // idle | connecting | open | closed
    this.handlers = new Map();
    this.stats = { eventsReceived: 0, eventsSent: 0, audioChunksSent: 0, audioChunksDropped: 0 };
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
    return this;
  }

  /**
   * Opens the socket with the `realtime` subprotocol. Resolves once open; rejects if the socket
   * closes or fails first. After that, 'close' handlers get {code, reason, wasClean}.
   */
  connect() {
    if (this.state === 'open' || this.state === 'connecting') return this.opening;
    this.state = 'connecting';
    this.opening = new Promise((resolve, reject) => {
      let socket;
      try {
        socket = new WebSocket(this.url, ['realtime']);
      } catch (err) {
        this.state = 'closed';
        reject(err);
        return;
      }
      this.socket = socket;
      let opened = false;
      socket.addEventListener('open', () => {
        opened = true;
        this.state = 'open';
        resolve();
      });
      socket.addEventListener('message', (message) => this.#receive(message));
      socket.addEventListener('close', (ev) => {
        this.state = 'closed';
        const info = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean, opened };
        if (!opened) {
          const err = new Error(`could not connect to ${this.url} (close code ${ev.code})`);
          err.closeInfo = info;
          reject(err);
        }
        this.#dispatch('close', info);
      });
    });
    return this.opening;
  }

  close(code = 1000, reason = 'client closed') {
    if (this.socket && this.state !== 'closed') this.socket.close(code, reason);
  }

  /** Sends one client event. Returns false if the socket is not open. */
  send(event) {
    if (this.state !== 'open') return false;
    this.socket.send(JSON.stringify(event));
    this.stats.eventsSent++;
    return true;
  }

  /** Sends PCM16 mono 24 kHz samples as input_audio_buffer.append. */
  appendAudio(int16Samples) {
    if (this.state !== 'open') return false;
    if (this.socket.bufferedAmount > MAX_BUFFERED_AUDIO_BYTES) {
      this.stats.audioChunksDropped++;
      return false;
    }
    this.send({ type: 'input_audio_buffer.append', audio: encodePcm16Base64(int16Samples) });
    this.stats.audioChunksSent++;
    return true;
  }

  #receive(message) {
    if (typeof message.data !== 'string') return; // the protocol is JSON text only
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      console.warn('realtime: ignoring a frame that is not JSON');
      return;
    }
    if (!event || typeof event.type !== 'string') return;
    this.stats.eventsReceived++;
    this.#dispatch('*', event);
    this.#dispatch(event.type, event);
  }

  #dispatch(type, payload) {
    const list = this.handlers.get(type);
    if (!list) return;
    for (const handler of list) {
      try {
        handler(payload);
      } catch (err) {
        console.error(`realtime: handler for ${type} failed`, err);
      }
    }
  }
}

/** Int16Array -> base64 of its little-endian bytes. */
export function encodePcm16Base64(int16Samples) {
  const bytes = new Uint8Array(int16Samples.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < int16Samples.length; i++) view.setInt16(i * 2, int16Samples[i], true);
  let binary = '';
  const step = 0x8000; // String.fromCharCode argument limit stays well clear of the stack size
  for (let i = 0; i < bytes.length; i += step) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + step));
  }
  return btoa(binary);
}

/** base64 of little-endian PCM16 -> Float32Array in [-1, 1). */
export function decodePcm16Base64(b64) {
  const binary = atob(b64);
  const count = binary.length >> 1;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    let v = binary.charCodeAt(2 * i) | (binary.charCodeAt(2 * i + 1) << 8);
    if (v >= 0x8000) v -= 0x10000;
    out[i] = v / 32768;
  }
  return out;
}

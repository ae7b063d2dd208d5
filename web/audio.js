// The page's audio: one AudioContext (at whatever rate the browser picks), a capture worklet that
// turns the microphone into 24 kHz PCM16 chunks, and a playback worklet that plays agent audio and
// keeps the playout clock (what was actually heard, per item).

const SOURCE_RATE = 24000;
const FLUSH_REPLY_TIMEOUT_MS = 250;

/** The browser cannot run AudioWorklets here (old browser, or a page that is not a secure context). */
export class AudioUnsupportedError extends Error {}

/** getUserMedia failed. kind: 'denied' | 'not-found' | 'busy' | 'insecure' | 'unknown'. */
export class MicrophoneError extends Error {
  constructor(kind, message, cause) {
    super(message);
    this.kind = kind;
    this.cause = cause;
  }
}

export class AudioEngine {
  /**
   * callbacks: onMicChunk(Int16Array, level), onProgress({totalPlayed, current, queued}),
   * onItemDone(itemId, playedMs), onUnderrun(count). All on the main thread.
   */
  constructor(callbacks = {}, { prebufferMs = 60, chunkMs = 20 } = {}) {
    this.callbacks = callbacks;
    this.prebufferMs = prebufferMs;
    this.chunkMs = chunkMs;
    this.context = null;
    this.playback = null;
    this.capture = null;
    this.stream = null;
    this.micEnabled = false;
    this.playedByItem = new Map(); // itemId -> 24 kHz samples heard (last report)
    this.current = null; // item being played, per the last report
    this.totalPlayed = 0;
    this.flushRequests = new Map();
    this.nextFlushId = 1;
    this.starting = null;
  }

  /** Creates (once) and resumes the AudioContext. Call from a user gesture. */
  start() {
    if (!this.starting) this.starting = this.#create();
    return this.starting.then(() => this.context.resume());
  }

  async #create() {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) throw new AudioUnsupportedError('This browser has no Web Audio API.');
    const context = new Ctx({ latencyHint: 'interactive' });
    if (!context.audioWorklet) {
      context.close();
      throw new AudioUnsupportedError(window.isSecureContext
        ? 'This browser does not support AudioWorklet.'
        : 'AudioWorklet is only available on secure pages (https, or http on localhost).');
    }
    await Promise.all([
      context.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url)),
      context.audioWorklet.addModule(new URL('./playback-worklet.js', import.meta.url)),
    ]);
    const playback = new AudioWorkletNode(context, 'artagent-playback', {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { prebufferMs: this.prebufferMs },
    });
    playback.port.onmessage = (e) => this.#onPlaybackMessage(e.data);
    playback.connect(context.destination);
    this.context = context;
    this.playback = playback;
  }

  get sampleRate() {
    return this.context ? this.context.sampleRate : 0;
  }

  get micActive() {
    return this.stream != null && this.micEnabled;
  }

  /** Opens the microphone and starts posting chunks. Throws MicrophoneError. */
  async startMicrophone() {
    await this.start();
    if (this.stream) {
      this.setMicrophoneEnabled(true);
      return;
    }
    if (!navigator.mediaDevices?.getUserMedia) {
      throw new MicrophoneError('insecure', 'The microphone is only available on secure pages.');
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          echoCancellation: true,
          noiseSuppression: true,
          autoGainControl: true,
          channelCount: 1,
        },
      });
    } catch (err) {
      throw classifyMicrophoneError(err);
    }
    const source = this.context.createMediaStreamSource(stream);
    const capture = new AudioWorkletNode(this.context, 'artagent-capture', {
      numberOfInputs: 1,
      numberOfOutputs: 0, // an automatic pull node: rendered without a path to the speakers
      processorOptions: { chunkMs: this.chunkMs },
    });
    capture.port.onmessage = (e) => {
      if (e.data?.type === 'chunk' && this.micEnabled) {
        this.callbacks.onMicChunk?.(e.data.samples, e.data.level);
      }
    };
    source.connect(capture);
    for (const track of stream.getAudioTracks()) {
      track.addEventListener('ended', () => this.callbacks.onMicEnded?.());
    }
    this.stream = stream;
    this.source = source;
    this.capture = capture;
    this.setMicrophoneEnabled(true);
  }

  /** Mute / unmute: a muted microphone sends nothing (the track is disabled too). */
  setMicrophoneEnabled(enabled) {
    this.micEnabled = enabled;
    if (this.stream) for (const track of this.stream.getAudioTracks()) track.enabled = enabled;
    this.capture?.port.postMessage({ type: 'enable', value: enabled });
  }

  microphoneLabel() {
    return this.stream?.getAudioTracks()[0]?.label ?? '';
  }

  /** Queues agent audio (Float32Array of 24 kHz samples) for `itemId`. */
  play(itemId, samples) {
    if (!this.playback) return;
    this.playback.port.postMessage({ type: 'push', itemId, samples }, [samples.buffer]);
  }

  /** No more audio will come for `itemId`. */
  endItem(itemId) {
    this.playback?.port.postMessage({ type: 'end', itemId });
  }

  /**
   * Drops all queued agent audio now. Resolves to {itemId, playedMs, queuedMs}: the item that was
   * playing (null if none) and how much of it was heard, from the worklet's own count.
   */
  flush() {
    if (!this.playback) return Promise.resolve({ itemId: null, playedMs: 0, queuedMs: 0 });
    const requestId = this.nextFlushId++;
    const fallback = { itemId: this.current, played: this.playedByItem.get(this.current) ?? 0 };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // The rendering thread did not answer (suspended context): use the last report.
        this.flushRequests.delete(requestId);
        resolve({ itemId: fallback.itemId, playedMs: fallback.played / 24, queuedMs: 0 });
      }, FLUSH_REPLY_TIMEOUT_MS);
      this.flushRequests.set(requestId, (reply) => {
        clearTimeout(timer);
        resolve({ itemId: reply.itemId, playedMs: reply.played / 24, queuedMs: reply.queued / 24 });
      });
      this.playback.port.postMessage({ type: 'flush', requestId });
    });
  }

  /** Milliseconds of `itemId` heard so far (as of the last report, ≤ 50 ms old). */
  heardMs(itemId) {
    return (this.playedByItem.get(itemId) ?? 0) / (SOURCE_RATE / 1000);
  }

  get playedItems() {
    let n = 0;
    for (const samples of this.playedByItem.values()) if (samples > 0) n++;
    return n;
  }

  #onPlaybackMessage(msg) {
    switch (msg?.type) {
      case 'progress':
        for (const [id, played] of msg.items) this.playedByItem.set(id, played);
        this.totalPlayed = msg.totalPlayed;
        this.current = msg.current;
        this.callbacks.onProgress?.(msg);
        break;
      case 'flushed': {
        if (msg.itemId != null) this.playedByItem.set(msg.itemId, msg.played);
        this.current = null;
        const done = this.flushRequests.get(msg.requestId);
        this.flushRequests.delete(msg.requestId);
        done?.(msg);
        break;
      }
      case 'item_done':
        this.playedByItem.set(msg.itemId, msg.played);
        this.callbacks.onItemDone?.(msg.itemId, msg.played / (SOURCE_RATE / 1000));
        break;
      case 'underrun':
        this.callbacks.onUnderrun?.(msg.count);
        break;
    }
  }

  async close() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    if (this.context) await this.context.close();
    this.context = null;
  }
}

function classifyMicrophoneError(err) {
  const name = err?.name ?? '';
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') {
    return new MicrophoneError('denied', 'Microphone access was denied.', err);
  }
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' ||
      name === 'OverconstrainedError') {
    return new MicrophoneError('not-found', 'No microphone was found.', err);
  }
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
    return new MicrophoneError('busy', 'The microphone could not be started.', err);
  }
  return new MicrophoneError('unknown', `The microphone could not be opened (${name || err}).`, err);
}

// Microphone capture on the audio rendering thread: downmix to mono, resample from the
// AudioContext's rate (44.1 or 48 kHz usually) to 24 kHz with a windowed-sinc low-pass, convert to
// PCM16 and post fixed-size chunks to the main thread.
//
// Messages posted: {type:'chunk', samples: Int16Array (transferred), level: RMS 0..1}.
// Messages accepted: {type:'enable', value: bool} — while disabled nothing is posted.

const OUTPUT_RATE = 24000;
const ZERO_CROSSINGS = 12; // kernel half-width, in output samples
const TABLE_RESOLUTION = 256; // kernel table entries per input sample

// Streaming resampler: output sample n sits at input position n * step; it is the input convolved
// with a Blackman-windowed sinc whose cut-off is just below the lower of the two Nyquist rates.
class StreamingResampler {
  constructor(inputRate, outputRate) {
    this.step = inputRate / outputRate;
    this.passthrough = inputRate === outputRate;
    this.cutoff = Math.min(1, outputRate / inputRate) * 0.94; // of the input Nyquist rate
    this.halfWidth = Math.ceil(ZERO_CROSSINGS / this.cutoff); // in input samples
    const size = this.halfWidth * TABLE_RESOLUTION + 2;
    this.table = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const d = i / TABLE_RESOLUTION;
      this.table[i] = d >= this.halfWidth ? 0 : this.cutoff * sinc(this.cutoff * d) *
        blackman(d / this.halfWidth);
    }
    // Input history: halfWidth zeros first so that the first output has a full left wing.
    this.buffer = new Float32Array(4096);
    this.length = this.halfWidth;
    this.position = this.halfWidth;
    this.output = new Float32Array(0);
  }

  /** Consumes `input`, returns a view of the output samples that are now complete. */
  push(input) {
    if (this.passthrough) return input;
    if (this.length + input.length > this.buffer.length) {
      const bigger = new Float32Array((this.length + input.length) * 2);
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    this.buffer.set(input, this.length);
    this.length += input.length;

    const maxOut = Math.ceil(input.length / this.step) + 2;
    if (this.output.length < maxOut) this.output = new Float32Array(maxOut);
    const w = this.halfWidth;
    const buf = this.buffer;
    const table = this.table;
    let produced = 0;
    while (Math.floor(this.position) + w < this.length) {
      const center = this.position;
      const base = Math.floor(center);
      let acc = 0;
      for (let i = base - w + 1; i <= base + w; i++) {
        const t = Math.abs(center - i) * TABLE_RESOLUTION;
        const k = t | 0;
        const frac = t - k;
        acc += buf[i] * (table[k] + (table[k + 1] - table[k]) * frac);
      }
      this.output[produced++] = acc;
      this.position += this.step;
    }
    const drop = Math.floor(this.position) - w;
    if (drop > 0) {
      buf.copyWithin(0, drop, this.length);
      this.length -= drop;
      this.position -= drop;
    }
    return this.output.subarray(0, produced);
  }
}

function sinc(x) {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

// Symmetric Blackman window over [-1, 1].
function blackman(x) {
  const a = Math.PI * (x + 1); // 0 .. 2π
  return 0.42 - 0.5 * Math.cos(a) + 0.08 * Math.cos(2 * a);
}

class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const chunkMs = options?.processorOptions?.chunkMs ?? 20;
    this.chunkSize = Math.round((OUTPUT_RATE * chunkMs) / 1000);
    this.resampler = new StreamingResampler(sampleRate, OUTPUT_RATE);
    this.enabled = true;
    this.mono = new Float32Array(128);
    this.#newChunk();
    this.port.onmessage = (e) => {
      if (e.data?.type === 'enable') {
        this.enabled = !!e.data.value;
        this.#newChunk();
      }
    };
  }

  #newChunk() {
    this.chunk = new Int16Array(this.chunkSize);
    this.filled = 0;
    this.sumSquares = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!this.enabled || !input || input.length === 0) return true;
    const frames = input[0].length;
    if (this.mono.length !== frames) this.mono = new Float32Array(frames);
    const mono = this.mono;
    const channels = input.length;
    for (let i = 0; i < frames; i++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += input[c][i];
      mono[i] = sum / channels;
    }
    const out = this.resampler.push(mono);
    for (let i = 0; i < out.length; i++) {
      const s = Math.max(-1, Math.min(1, out[i]));
      this.sumSquares += s * s;
      this.chunk[this.filled++] = s < 0 ? s * 32768 : s * 32767;
      if (this.filled === this.chunkSize) {
        const level = Math.sqrt(this.sumSquares / this.chunkSize);
        this.port.postMessage({ type: 'chunk', samples: this.chunk, level }, [this.chunk.buffer]);
        this.#newChunk();
      }
    }
    return true;
  }
}

registerProcessor('artagent-capture', CaptureProcessor);

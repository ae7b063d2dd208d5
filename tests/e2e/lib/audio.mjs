// Caller audio made at test time: flite speaks the sentence, sox converts it and pads it with
// silence (0.5 s before, 2 s after) so that the server's VAD sees a start and an end of turn.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function run(tool, args) {
  try {
    execFileSync(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if (err.code === 'ENOENT') {
      throw new Error(`${tool} is not installed (scripts/install-deps installs flite and sox)`);
    }
    throw new Error(`${tool} ${args.join(' ')} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

/** Writes `<dir>/<name>.wav`: the sentence spoken by flite's slt voice, mono PCM16 at `rate`. */
export function synthesizeCaller(dir, sentence, { rate = 48000, name = 'caller' } = {}) {
  const raw = path.join(dir, `${name}.flite.wav`);
  const out = path.join(dir, `${name}.wav`);
  run('flite', ['-voice', 'slt', '-t', sentence, '-o', raw]);
  run('sox', [raw, '-r', String(rate), '-c', '1', '-b', '16', '-e', 'signed-integer', out,
    'pad', '0.5', '2.0']);
  return out;
}

/** Reads a PCM16 WAV file: {sampleRate, channels, samples: Int16Array (interleaved)}. */
export function readWav(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error(`${file}: not a RIFF/WAVE file`);
  }
  let offset = 12;
  let format = null;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = {
        audioFormat: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (!format) throw new Error(`${file}: data chunk before fmt chunk`);
      if (format.bitsPerSample !== 16) throw new Error(`${file}: expected 16-bit PCM`);
      const bytes = Math.min(size, buf.length - body);
      const samples = new Int16Array(bytes >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(body + 2 * i);
      return { sampleRate: format.sampleRate, channels: format.channels, samples };
    }
    offset = body + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

// Starts the real artagent server for an end-to-end test and stops it afterwards.
//
//   const server = await startServer({ tls: true });
//   ... server.url (e.g. "https://127.0.0.1:40123/") ...
//   await server.stop();
//
// The binary comes from $ARTAGENT_BIN (required). It is run from the repository root as
//   $ARTAGENT_BIN serve --listen 127.0.0.1:0 [--tls-cert F --tls-key K] [extraArgs...]
// with ARTAGENT_STORE__PATH pointing into a fresh temporary directory, and no --config (defaults:
// the embedded offline stack). Readiness is the stdout line "artagent listening on <url>".

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is tests/e2e/lib/server.mjs). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const READY_LINE = /artagent listening on (https?:\/\/\S+)/;
const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const TAIL_BYTES = 8192;

/** $ARTAGENT_BIN, made absolute; throws with a usage hint when unset or missing. */
export function artagentBin() {
  const bin = process.env.ARTAGENT_BIN;
  if (!bin) {
    throw new Error('ARTAGENT_BIN is not set. Run e.g. ' +
      '`ARTAGENT_BIN=build/app/artagent node tests/e2e/console.test.mjs` from the repository root.');
  }
  const abs = path.resolve(process.cwd(), bin);
  if (!fs.existsSync(abs)) throw new Error(`ARTAGENT_BIN=${bin}: no such file (resolved to ${abs})`);
  return abs;
}

/** A fresh temporary directory, removed by the returned cleanup unless ARTAGENT_E2E_KEEP=1. */
export function makeTempDir(prefix = 'artagent-e2e-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const cleanup = () => {
    if (process.env.ARTAGENT_E2E_KEEP === '1') {
      process.stderr.write(`kept ${dir}\n`);
      return;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return { dir, cleanup };
}

/** `$ARTAGENT_BIN gen-cert --cert F --key K`: a self-signed development certificate. */
export function generateCertificate(dir) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const result = spawnSync(artagentBin(), ['gen-cert', '--cert', cert, '--key', key], {
    cwd: repoRoot, encoding: 'utf8', timeout: 30_000,
  });
  if (result.status !== 0 || !fs.existsSync(cert) || !fs.existsSync(key)) {
    throw new Error(`artagent gen-cert failed (status ${result.status}): ` +
      `${result.error ?? ''}${result.stderr ?? ''}${result.stdout ?? ''}`);
  }
  return { cert, key };
}

/**
 * Starts the server. Options: tls (bool), extraArgs (string[]), env (object, merged over the
 * inherited environment). Resolves to {url, process, dir, stderrTail(), stop()}.
 */
export async function startServer({ tls = false, extraArgs = [], env = {} } = {}) {
  const bin = artagentBin();
  const { dir, cleanup } = makeTempDir('artagent-server-');
  const args = ['serve', '--listen', '127.0.0.1:0'];
  if (tls) {
    const { cert, key } = generateCertificate(dir);
    args.push('--tls-cert', cert, '--tls-key', key);
  }
  args.push(...extraArgs);

  const child = spawn(bin, args, {
    cwd: repoRoot,
    env: {
      ...process.env,
      ARTAGENT_STORE__PATH: path.join(dir, 'a.db'),
      // Blobs and the upload outbox are per process: servers of parallel tests must not share them.
      ARTAGENT_STORAGE__LOCAL_DIR: path.join(dir, 'blobs'),
      ARTAGENT_STORAGE__OUTBOX_DIR: path.join(dir, 'outbox'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const verbose = process.env.ARTAGENT_E2E_VERBOSE === '1';
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-TAIL_BYTES);
    if (verbose) process.stderr.write(chunk);
  });
  child.stdout.setEncoding('utf8');

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
  });
  // If the test process dies first, do not leave the server behind.
  const killOnExit = () => { if (!exited) child.kill('SIGKILL'); };
  process.on('exit', killOnExit);

  const url = await new Promise((resolve, reject) => {
    let pending = '';
    const fail = (why) => {
      clearTimeout(timer);
      if (!exited) child.kill('SIGKILL');
      reject(new Error(`${why}\ncommand: ${bin} ${args.join(' ')}\n` +
        `--- server stderr (tail) ---\n${stderr}\n--- server stdout (tail) ---\n${stdout}`));
    };
    const timer = setTimeout(
      () => fail(`the server did not print "artagent listening on ..." within ${READY_TIMEOUT_MS / 1000} s`),
      READY_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      stdout = (stdout + chunk).slice(-TAIL_BYTES);
      if (verbose) process.stderr.write(chunk);
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const m = READY_LINE.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].endsWith('/') ? m[1] : `${m[1]}/`);
        }
      }
    });
    child.on('error', (err) => fail(`could not start ${bin}: ${err.message}`));
    exitPromise.then(({ code, signal }) =>
      fail(`the server exited before it was ready (code ${code}, signal ${signal})`));
  });

  let stopping = null;
  const stop = () => {
    if (!stopping) {
      stopping = (async () => {
        if (!exited) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, STOP_GRACE_MS);
          await exitPromise;
          clearTimeout(timer);
        }
        process.off('exit', killOnExit);
        cleanup();
        return exited;
      })();
    }
    return stopping;
  };

  return { url, process: child, dir, stderrTail: () => stderr, stop };
}

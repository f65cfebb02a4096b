// Integration harness: start asc-mock and asc on port 0, write temp configs,
// collect output, stop processes and check they exit cleanly.
//
// ASC_BUILD selects the binary dir (default `build`); with a sanitizer build
// (name containing "asan") every timeout is multiplied by 4 (ASC_TEST_SCALE
// overrides). ASC_TEST_VERBOSE=1 copies child output to this process's stderr.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rename, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { toYaml } from './yaml.mjs';
import { recordingFetch, record } from './transcript.mjs';

export { toYaml } from './yaml.mjs';
export { recordingFetch, transcriptText } from './transcript.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUILD = path.resolve(ROOT, process.env.ASC_BUILD || 'build');
export const SCALE = Number(process.env.ASC_TEST_SCALE) || (/asan|san/i.test(path.basename(BUILD)) ? 4 : 1);
const VERBOSE = !!process.env.ASC_TEST_VERBOSE;
const KEEP_TMP = !!process.env.ASC_TEST_KEEP_TMP;

/** Scale a duration (ms) for slow builds. */
export const ms = (n) => Math.round(n * SCALE);

export const ascBin = () => path.join(BUILD, 'asc');
export const mockBin = () => path.join(BUILD, 'asc-mock');

let clkTck = 0;
function ticksPerSecond() {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** Deterministic mock text (mock contract): token i is WORDS[i % 16]. */
export const WORDS =
  'Lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et'.split(' ');
export function mockText(n) {
  return Array.from({ length: n }, (_, i) => WORDS[i % WORDS.length]).join(' ');
}
/** prompt_tokens the mock reports: ceil(UTF-8 bytes of all message text / 4), at least 1. */
export function mockPromptTokens(messages) {
  let bytes = 0;
  for (const m of messages) {
    if (typeof m.content === 'string') bytes += Buffer.byteLength(m.content);
    else if (Array.isArray(m.content))
      for (const p of m.content) if (p.type === 'text') bytes += Buffer.byteLength(p.text);
  }
  return Math.max(1, Math.ceil(bytes / 4));
}

export function sha256(s) {
  return createHash('sha256').update(s).digest('hex');
}
/** A fresh random virtual key. */
export function newKey() {
  return 'sk-asc-test-' + randomBytes(18).toString('hex');
}
/** A unique random string to plant as a secret and search for later. */
export function canary(tag = 'canary') {
  return `${tag}-${randomBytes(16).toString('hex')}`;
}

/** Resolve with pred()'s truthy value, polling every `every` ms; reject after timeout. */
export async function waitUntil(pred, { timeout = ms(10000), every = 25, what = 'condition' } = {}) {
  const deadline = performance.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await pred();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

function childEnv(extra = {}) {
  const env = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ']) if (process.env[k] !== undefined) env[k] = process.env[k];
  for (const [k, v] of Object.entries(process.env)) if (/^(ASAN|UBSAN|LSAN|MSAN|TSAN)_OPTIONS$/.test(k)) env[k] = v;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

/** A child process whose output is collected for assertions. */
export class Proc {
  constructor(name, file, args, { env, cwd } = {}) {
    if (!existsSync(file)) throw new Error(`${file} does not exist (build it, or set ASC_BUILD)`);
    this.name = name;
    this.file = file;
    this.args = args;
    this.stdout = '';
    this.stderr = '';
    this.exit = null; // {code, signal}
    this.waiters = new Set();
    this.child = spawn(file, args, { env: childEnv(env), cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (d) => {
      this.stdout += d;
      if (VERBOSE) process.stderr.write(`[${name} out] ${d}`);
      this.notify();
    });
    this.child.stderr.on('data', (d) => {
      this.stderr += d;
      if (VERBOSE) process.stderr.write(`[${name} err] ${d}`);
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
    this.child.on('error', (e) => {
      this.spawnError = e;
      this.notify();
    });
  }

  notify() {
    for (const w of [...this.waiters]) w();
  }

  tail(n = 2000) {
    const s = `--- ${this.name} stderr ---\n${this.stderr.slice(-n)}\n--- ${this.name} stdout ---\n${this.stdout.slice(-n)}`;
    return s;
  }

  /** Resolve with pred()'s truthy value (re-checked on every output chunk); reject on timeout or exit. */
  waitFor(pred, { timeout = ms(15000), what = 'condition', allowExit = false } = {}) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = pred(this);
        if (v) {
          cleanup();
          resolve(v);
        } else if ((this.exit && !allowExit) || this.spawnError) {
          cleanup();
          reject(
            new Error(
              `${this.name} exited (${JSON.stringify(this.exit)}${this.spawnError ? ' ' + this.spawnError.message : ''}) while waiting for ${what}\n${this.tail()}`,
            ),
          );
        }
      };
      const t = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: timed out after ${timeout} ms waiting for ${what}\n${this.tail()}`));
      }, timeout);
      const cleanup = () => {
        clearTimeout(t);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Wait for a regex to match stream ('stderr' | 'stdout'), starting at offset `from`. */
  waitForOutput(re, { stream = 'stderr', from = 0, timeout, what } = {}) {
    return this.waitFor((p) => p[stream].slice(from).match(re), { timeout, what: what ?? `${stream} ~ ${re}` });
  }

  /** Wait for the process to exit; returns {code, signal}. */
  async waitExit(timeout = ms(15000)) {
    if (this.exit) return this.exit;
    return this.waitFor((p) => p.exit, { timeout, what: 'exit', allowExit: true });
  }

  signal(sig) {
    if (!this.exit) this.child.kill(sig);
  }

  /**
   * SIGTERM and wait for exit. Returns {code, signal}; SIGKILLs and throws if
   * it does not exit within timeout.
   */
  async stop(timeout = ms(15000)) {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    try {
      return await this.waitExit(timeout);
    } catch (e) {
      this.child.kill('SIGKILL');
      await this.closed;
      throw new Error(`${this.name} did not exit within ${timeout} ms of SIGTERM\n${this.tail()}`);
    }
  }

  /** user+system CPU seconds of the whole process so far (Linux /proc). */
  cpuSeconds() {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'latin1');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // rest[0] is field 3 (state); utime is field 14, stime field 15
    return (Number(rest[11]) + Number(rest[12])) / ticksPerSecond();
  }
}

/** A running asc-mock. */
export class Mock {
  constructor(proc, url, port) {
    this.proc = proc;
    this.url = url; // http://127.0.0.1:PORT
    this.port = port;
  }
  /** The mock's request log (last 64, oldest first). Not recorded in the transcript. */
  async requests() {
    const r = await fetch(`${this.url}/__mock/requests`);
    if (r.status !== 200) throw new Error(`GET /__mock/requests: ${r.status}`);
    return r.json();
  }
  async clear() {
    const r = await fetch(`${this.url}/__mock/requests`, { method: 'DELETE' });
    if (r.status >= 300) throw new Error(`DELETE /__mock/requests: ${r.status}`);
    await r.arrayBuffer();
  }
  /** Requests the mock received, excluding its own inspection endpoints. */
  async apiRequests() {
    return (await this.requests()).filter((r) => !r.path.startsWith('/__mock'));
  }
  stop() {
    return this.proc.stop();
  }
}

/** Start asc-mock on 127.0.0.1:0 (extra CLI args in `args`). */
export async function startMock({ args = [], name = 'asc-mock' } = {}) {
  const proc = new Proc(name, mockBin(), ['--listen', '127.0.0.1:0', ...args]);
  let m;
  try {
    m = await proc.waitForOutput(/asc-mock listening on (http:\/\/(\S+?):(\d+))\s/, {
      stream: 'stdout',
      what: 'the asc-mock listening line',
    });
  } catch (e) {
    proc.signal('SIGKILL');
    await proc.closed;
    throw e;
  }
  return new Mock(proc, m[1], Number(m[3]));
}

/** A running asc. */
export class Asc {
  constructor({ proc, host, port, adminPort, dir, ownsDir, configPath, accessLogPath, dataDir }) {
    Object.assign(this, { proc, host, port, adminPort, dir, ownsDir, configPath, accessLogPath, dataDir });
    this.baseURL = `http://${host}:${port}`;
    this.reloads = 0;
  }

  /** OpenAI SDK client for this asc with `key` (retries off, recording fetch). */
  client(key, opts = {}) {
    return new OpenAI({
      apiKey: key,
      baseURL: `${this.baseURL}/v1`,
      maxRetries: 0,
      timeout: ms(30000),
      fetch: recordingFetch,
      ...opts,
    });
  }

  /** The admin API: admin(method, '/admin/v1/...', {token, body, headers}) ->
   * {status, headers, text, json}. */
  async admin(method, p, { token, headers = {}, body } = {}) {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let b = body;
    if (b !== undefined && typeof b !== 'string') {
      b = JSON.stringify(b);
      h['content-type'] ??= 'application/json';
    }
    const res = await fetch(`http://127.0.0.1:${this.adminPort}${p}`, { method, headers: h, body: b, redirect: 'manual' });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  /** Run the asc CLI against this asc's admin API: {code, stdout, stderr}. */
  cli(args, { token, env = {}, input } = {}) {
    return new Promise((resolve) => {
      const child = spawn(ascBin(), args, {
        env: childEnv({ ASC_ADMIN_URL: `http://127.0.0.1:${this.adminPort}`, ...(token ? { ASC_ADMIN_TOKEN: token } : {}), ...env }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input ?? '');
    });
  }

  /** fetch against asc, recorded. Returns {status, headers, text, json}. */
  async request(method, p, { key, headers = {}, body, signal } = {}) {
    const h = { ...headers };
    if (key) h.authorization = `Bearer ${key}`;
    let b = body;
    if (b !== undefined && typeof b !== 'string' && !Buffer.isBuffer(b) && !(b instanceof Uint8Array)) {
      b = JSON.stringify(b);
      h['content-type'] ??= 'application/json';
    }
    const res = await recordingFetch(`${this.baseURL}${p}`, { method, headers: h, body: b, signal });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  /** Parsed access log lines (file access log only). */
  async accessLog() {
    if (!this.accessLogPath) throw new Error('this asc has no file access log');
    let s;
    try {
      s = await readFile(this.accessLogPath, 'utf8');
    } catch (e) {
      if (e.code === 'ENOENT') return [];
      throw e;
    }
    const out = [];
    for (const line of s.split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line));
      } catch {
        // a partly written last line; ignore until complete
        if (line !== s.split('\n').filter(Boolean).pop()) throw new Error(`access log line is not JSON: ${line}`);
      }
    }
    return out;
  }

  /** Raw access log text (for substring searches). */
  async accessLogText() {
    if (!this.accessLogPath) return '';
    try {
      return await readFile(this.accessLogPath, 'utf8');
    } catch (e) {
      if (e.code === 'ENOENT') return '';
      throw e;
    }
  }

  /** Wait for an access log entry matching pred; returns it. */
  waitAccess(pred, { timeout = ms(10000), what = 'an access log entry' } = {}) {
    return waitUntil(async () => (await this.accessLog()).find(pred), { timeout, what });
  }

  /** Write a config object (or YAML text) to the config file atomically. */
  async writeConfig(config) {
    const text = typeof config === 'string' ? config : toYaml(config);
    const tmp = `${this.configPath}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, text);
    await rename(tmp, this.configPath);
  }

  /**
   * Write the config, send SIGHUP and wait for the outcome line.
   * Returns {ok: true, revision} or {ok: false, line}.
   */
  async reload(config) {
    await this.writeConfig(config);
    const from = this.proc.stderr.length;
    this.proc.signal('SIGHUP');
    const m = await this.proc.waitForOutput(
      /asc: info: reloaded config \(revision (\d+)\)|asc: error: reload failed: ([^\n]*)/,
      { from, what: 'the reload outcome line' },
    );
    if (m[1] !== undefined) return { ok: true, revision: Number(m[1]) };
    return { ok: false, line: m[0] };
  }

  stop(timeout) {
    return this.proc.stop(timeout);
  }

  async cleanup() {
    if (!KEEP_TMP && this.ownsDir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** Default `server:` section for test configs (access log to a file in the temp dir). */
export function serverSection(overrides = {}) {
  return {
    listen: '127.0.0.1:0',
    workers: 2,
    max_body_bytes: 1048576,
    header_timeout_ms: ms(5000),
    body_timeout_ms: ms(5000),
    max_connections: 1000,
    ...overrides,
  };
}

/**
 * Start `asc serve`. With `config` (object or YAML text) it is written to a
 * temp file and passed with --config; with config === null no --config is
 * given (built-in default). The access log goes to DIR/access.log unless the
 * config sets server.access_log. Returns an Asc once the listening line
 * appeared on stderr.
 */
export async function startAsc({ config, env = {}, args = [], dataDir, dir, listen } = {}) {
  const ownDir = dir ?? (await mkdtemp(path.join(tmpdir(), 'asc-it-')));
  const configPath = path.join(ownDir, 'asc.yaml');
  let accessLogPath = null;
  const argv = ['serve'];
  if (config !== null && config !== undefined) {
    let cfg = config;
    if (typeof cfg !== 'string') {
      cfg = structuredClone(cfg);
      cfg.server ??= serverSection();
      if (cfg.server.access_log === undefined) cfg.server.access_log = path.join(ownDir, 'access.log');
      const al = cfg.server.access_log;
      if (al && !['stdout', 'stderr', 'off'].includes(al)) accessLogPath = al;
      cfg = toYaml(cfg);
    }
    await writeFile(configPath, cfg);
    argv.push('--config', configPath);
  }
  if (listen) argv.push('--listen', listen);
  const dd = dataDir ?? path.join(ownDir, 'data');
  await mkdir(dd, { recursive: true });
  argv.push('--data-dir', dd);
  if (!args.includes('--admin-listen')) argv.push('--admin-listen', '127.0.0.1:0');
  argv.push(...args);
  const proc = new Proc('asc', ascBin(), argv, { env, cwd: ownDir });
  let m;
  try {
    m = await proc.waitForOutput(/asc: info: listening on http:\/\/(\[[^\]]+\]|[^\s:]+):(\d+)/, {
      what: 'the asc listening line',
    });
  } catch (e) {
    proc.signal('SIGKILL');
    await proc.closed;
    throw e;
  }
  const am = /asc: info: admin API on http:\/\/(\[[^\]]+\]|[^\s:]+):(\d+)/.exec(proc.stderr + proc.stdout);
  return new Asc({
    proc,
    host: m[1],
    port: Number(m[2]),
    adminPort: am ? Number(am[2]) : null,
    dir: ownDir,
    ownsDir: !dir,
    configPath,
    accessLogPath,
    dataDir: dd,
  });
}

/**
 * Stop processes (SIGTERM) and assert each exited with code 0. Collects all
 * failures into one error.
 */
export async function stopAll(...procs) {
  const errors = [];
  for (const p of procs) {
    if (!p) continue;
    const proc = p.proc ?? p;
    try {
      const ex = await proc.stop();
      if (ex.code !== 0) errors.push(`${proc.name} exited with ${JSON.stringify(ex)}\n${proc.tail()}`);
    } catch (e) {
      errors.push(e.message);
    }
  }
  for (const p of procs) if (p && p.cleanup) await p.cleanup();
  if (errors.length) throw new Error(errors.join('\n\n'));
}

/**
 * A TCP proxy in front of `targetPort`: lets a test see exactly when asc
 * opens and closes its upstream connections.
 */
export async function startTcpProxy(targetPort, targetHost = '127.0.0.1') {
  const conns = [];
  const waiters = new Set();
  const notify = () => {
    for (const w of [...waiters]) w();
  };
  const sockets = new Set();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const c = { openedAt: performance.now(), closedAt: 0, bytesUp: 0, bytesDown: 0, closed: false, upData: '' };
    conns.push(c);
    const up = net.connect({ port: targetPort, host: targetHost });
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    client.on('data', (d) => {
      c.bytesUp += d.length;
      if (c.upData.length < 65536) c.upData += d.toString('latin1');
      up.write(d);
      notify();
    });
    up.on('data', (d) => {
      c.bytesDown += d.length;
      client.write(d);
      notify();
    });
    const closeBoth = () => {
      if (!c.closed) {
        c.closed = true;
        c.closedAt = performance.now();
        notify();
      }
      client.destroy();
      up.destroy();
    };
    client.on('close', closeBoth);
    client.on('error', closeBoth);
    up.on('close', closeBoth);
    up.on('error', closeBoth);
    notify();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    url: `http://127.0.0.1:${server.address().port}`,
    conns,
    /** Resolve with pred()'s value once truthy (checked on every proxy event). */
    waitFor(pred, timeout = ms(10000), what = 'proxy condition') {
      return new Promise((resolve, reject) => {
        const check = () => {
          const v = pred(conns);
          if (v) {
            cleanup();
            resolve(v);
          }
        };
        const t = setTimeout(() => {
          cleanup();
          reject(new Error(`proxy: timed out after ${timeout} ms waiting for ${what}`));
        }, timeout);
        const cleanup = () => {
          clearTimeout(t);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      });
    },
  };
}

/** Await a promise that must reject; returns the error. */
export async function rejects(p, what = 'promise') {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error(`expected ${what} to fail, but it succeeded`);
}

/** Drain an SDK stream with for-await; returns {text, chunks, error}. */
export async function drainStream(stream) {
  const chunks = [];
  let text = '';
  let error = null;
  try {
    for await (const c of stream) {
      chunks.push(c);
      text += c.choices?.[0]?.delta?.content ?? '';
    }
  } catch (e) {
    error = e;
  }
  return { text, chunks, error };
}

/** Everything a process printed plus its access log, for secret searches. */
export async function allOutput(asc) {
  return `${asc.proc.stdout}\n${asc.proc.stderr}\n${await asc.accessLogText()}`;
}

export { record };

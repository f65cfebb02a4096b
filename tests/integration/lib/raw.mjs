// Raw HTTP/1.1 over node:net for protocol and attack cases that fetch or the
// SDKs would normalise away (pipelining, odd paths, partial headers, ...).
import net from 'node:net';
import { record } from './transcript.mjs';

/**
 * Parse one HTTP response at the start of `buf`.
 * Returns null when more bytes are needed, otherwise
 * { status, reason, headers, rawHead, body, chunked, consumed, complete }.
 * `closed` says the peer closed, so a close-delimited body is complete.
 */
export function parseResponse(buf, { closed = false, head = false } = {}) {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const rawHead = buf.subarray(0, end).toString('latin1');
  const lines = rawHead.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
  const status = Number(m[2]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) throw new Error(`bad header line: ${JSON.stringify(l)}`);
    const name = l.slice(0, i).trim().toLowerCase();
    const value = l.slice(i + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let pos = end + 4;
  const res = { status, reason: m[3] ?? '', headers, rawHead, chunked: false, complete: false };
  const noBody = head || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (noBody) {
    return { ...res, body: Buffer.alloc(0), consumed: pos, complete: true };
  }
  const te = (headers['transfer-encoding'] || '').toLowerCase();
  if (te.includes('chunked')) {
    res.chunked = true;
    const parts = [];
    for (;;) {
      const le = buf.indexOf('\r\n', pos);
      if (le < 0) break;
      const size = parseInt(buf.subarray(pos, le).toString('latin1').split(';')[0], 16);
      if (Number.isNaN(size)) throw new Error('bad chunk size');
      if (size === 0) {
        // trailers end with an empty line
        const te2 = buf.indexOf('\r\n\r\n', le);
        if (buf.subarray(le, le + 4).toString('latin1') === '\r\n\r\n') {
          return { ...res, body: Buffer.concat(parts), consumed: le + 4, complete: true };
        }
        if (te2 >= 0) return { ...res, body: Buffer.concat(parts), consumed: te2 + 4, complete: true };
        break;
      }
      if (buf.length < le + 2 + size + 2) break;
      parts.push(buf.subarray(le + 2, le + 2 + size));
      pos = le + 2 + size + 2;
    }
    if (!closed) return null;
    // peer closed before the terminating chunk: a truncated transfer
    return { ...res, body: Buffer.concat(parts), consumed: buf.length, complete: false };
  }
  if ('content-length' in headers) {
    const n = Number(headers['content-length']);
    if (buf.length - pos < n) {
      if (!closed) return null;
      return { ...res, body: buf.subarray(pos), consumed: buf.length, complete: false };
    }
    return { ...res, body: buf.subarray(pos, pos + n), consumed: pos + n, complete: true };
  }
  if (!closed) return null;
  return { ...res, body: buf.subarray(pos), consumed: buf.length, complete: true };
}

/** A raw client connection. Every byte received is kept (all) and recorded in the transcript. */
export class RawConn {
  constructor(sock) {
    this.sock = sock;
    this.buf = Buffer.alloc(0); // unparsed bytes
    this.all = []; // every received chunk
    this.closed = false;
    this.error = null;
    this.closedAt = 0;
    this.waiters = new Set();
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.all.push(d);
      this.notify();
    });
    sock.on('error', (e) => {
      this.error = e;
      this.notify();
    });
    sock.on('close', () => {
      this.closed = true;
      this.closedAt = performance.now();
      record({ kind: 'raw', data: Buffer.concat(this.all).toString('latin1') });
      this.notify();
    });
  }

  static open(port, host = '127.0.0.1', { timeout = 10000 } = {}) {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ port, host });
      sock.setNoDelay(true);
      const t = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeout);
      sock.once('connect', () => {
        clearTimeout(t);
        sock.removeListener('error', reject);
        resolve(new RawConn(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  notify() {
    for (const w of [...this.waiters]) w();
  }

  /** Resolve with pred()'s value once it is truthy (checked after every event); reject after timeout ms. */
  waitFor(pred, timeout, what = 'condition') {
    return new Promise((resolve, reject) => {
      const check = () => {
        let v;
        try {
          v = pred();
        } catch (e) {
          cleanup();
          reject(e);
          return;
        }
        if (v) {
          cleanup();
          resolve(v);
        }
      };
      const t = setTimeout(() => {
        cleanup();
        reject(
          new Error(
            `raw: timed out after ${timeout} ms waiting for ${what}; received so far: ` +
              JSON.stringify(this.text().slice(0, 600)),
          ),
        );
      }, timeout);
      const cleanup = () => {
        clearTimeout(t);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  write(data) {
    if (this.sock.destroyed) return false;
    try {
      return this.sock.write(data);
    } catch {
      return false;
    }
  }

  /** Everything received so far, as latin1 text. */
  text() {
    return Buffer.concat(this.all).toString('latin1');
  }

  /** Wait for and consume the next complete response. */
  async readResponse(timeout = 10000, { head = false } = {}) {
    const r = await this.waitFor(
      () => {
        const p = parseResponse(this.buf, { closed: this.closed, head });
        if (p) return p;
        if (this.closed) return { closedEmpty: true };
        return null;
      },
      timeout,
      'a response',
    );
    if (r.closedEmpty) {
      throw new Error(
        `raw: connection closed without a (complete) response; received: ${JSON.stringify(this.text().slice(0, 300))}` +
          (this.error ? ` (${this.error.code || this.error.message})` : ''),
      );
    }
    this.buf = this.buf.subarray(r.consumed);
    r.text = r.body.toString('utf8');
    return r;
  }

  /** Wait until the peer closed the connection. */
  waitClose(timeout = 10000) {
    return this.waitFor(() => this.closed, timeout, 'the connection to close');
  }

  end() {
    try {
      this.sock.end();
    } catch {
      /* already gone */
    }
  }

  destroy() {
    this.sock.destroy();
  }
}

/** Open a connection, write `data`, read one response, close. */
export async function rawRequest(port, data, { timeout = 10000, host = '127.0.0.1', head = false } = {}) {
  const c = await RawConn.open(port, host, { timeout });
  try {
    c.write(data);
    return await c.readResponse(timeout, { head });
  } finally {
    c.destroy();
  }
}

/** Build request bytes. body may be a string or Buffer; Content-Length is added unless given or chunked. */
export function buildRequest(method, target, { headers = {}, body, host = 'localhost' } = {}) {
  const h = { host, ...headers };
  const names = Object.keys(h).map((k) => k.toLowerCase());
  let bodyBuf = body === undefined ? null : Buffer.isBuffer(body) ? body : Buffer.from(body);
  if (bodyBuf && !names.includes('content-length') && !names.includes('transfer-encoding')) {
    h['content-length'] = String(bodyBuf.length);
  }
  let head = `${method} ${target} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(h)) {
    if (v === null || v === undefined) continue;
    head += `${k}: ${v}\r\n`;
  }
  head += '\r\n';
  return bodyBuf ? Buffer.concat([Buffer.from(head, 'latin1'), bodyBuf]) : Buffer.from(head, 'latin1');
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const lines = block.split(/\r?\n/).filter((l) => l.startsWith('data:'));
    if (lines.length === 0) continue;
    out.push(lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n'));
  }
  return out;
}

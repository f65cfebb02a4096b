// ADVERSARIAL.md row 16: slowloris, slow bodies, header bombs, oversized
// bodies and connection floods → 408 / 431 / 413 / 503 while others are served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startAsc, stopAll, serverSection, newKey, sha256, mockText, ms, waitUntil } from './lib/harness.mjs';
import { RawConn, buildRequest, rawRequest } from './lib/raw.mjs';

const key = newKey();
const T = { timeout: ms(90000) };
const HEADER_TIMEOUT = ms(1000);
const BODY_TIMEOUT = ms(1000);
const MAX_CONN = 20;
const MAX_BODY = 1048576;

let mock;
let asc;

before(async () => {
  mock = await startMock();
  asc = await startAsc({
    config: {
      server: serverSection({
        header_timeout_ms: HEADER_TIMEOUT,
        body_timeout_ms: BODY_TIMEOUT,
        max_connections: MAX_CONN,
        max_body_bytes: MAX_BODY,
      }),
      providers: [{ name: 'up', kind: 'openai-compatible', base_url: `${mock.url}/v1`, api_key: 'env:UP_KEY' }],
      models: { m1: { provider: 'up', model: 'mock-fast@tokens=2' } },
      keys: [{ name: 'k', key: `sha256:${sha256(key)}`, models: ['*'] }],
    },
    env: { UP_KEY: 'upstream-key' },
  });
});

after(async () => {
  await stopAll(asc, mock);
});

const chatBody = JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
const chatReq = () =>
  buildRequest('POST', '/v1/chat/completions', {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: chatBody,
  });

/** A normal request on a fresh connection must succeed. */
async function assertServed(what) {
  const r = await rawRequest(asc.port, chatReq(), { timeout: ms(10000) });
  assert.equal(r.status, 200, `${what}: ${r.status} ${r.text}`);
  assert.equal(JSON.parse(r.text).choices[0].message.content, mockText(2));
}

function errCode(r) {
  try {
    return JSON.parse(r.text).error.code;
  } catch {
    return undefined;
  }
}

test('adversarial #16: slowloris headers → 408 within header_timeout, others still served', T, async () => {
  const c = await RawConn.open(asc.port);
  const t0 = performance.now();
  c.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n');
  let n = 0;
  const trickle = setInterval(() => {
    if (n < 90) c.write(`X-Trickle-${n++}: y\r\n`);
  }, Math.max(50, Math.floor(HEADER_TIMEOUT / 20)));
  try {
    await assertServed('during slowloris');
    const r = await c.readResponse(HEADER_TIMEOUT + ms(5000));
    const dt = performance.now() - t0;
    assert.equal(r.status, 408, r.text);
    assert.equal(errCode(r), 'request_timeout');
    assert.ok(dt >= HEADER_TIMEOUT * 0.9, `408 after ${dt} ms, before header_timeout ${HEADER_TIMEOUT}`);
    assert.ok(dt < HEADER_TIMEOUT + ms(3000), `408 after ${dt} ms`);
    await c.waitClose(ms(5000));
  } finally {
    clearInterval(trickle);
    c.destroy();
  }
  await assertServed('after slowloris');
});

test('adversarial #16: slow body → 408 within body_timeout', T, async () => {
  const c = await RawConn.open(asc.port);
  const head = buildRequest('POST', '/v1/chat/completions', {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': '1000' },
  });
  c.write(head);
  c.write(chatBody.slice(0, 10));
  const t0 = performance.now();
  let i = 10;
  const trickle = setInterval(() => {
    if (i < 900) c.write(' ');
    i++;
  }, Math.max(50, Math.floor(BODY_TIMEOUT / 20)));
  try {
    const r = await c.readResponse(BODY_TIMEOUT + ms(5000));
    const dt = performance.now() - t0;
    assert.equal(r.status, 408, r.text);
    assert.equal(errCode(r), 'request_timeout');
    assert.ok(dt >= BODY_TIMEOUT * 0.8, `408 after ${dt} ms, before body_timeout ${BODY_TIMEOUT}`);
    assert.ok(dt < BODY_TIMEOUT + ms(3000), `408 after ${dt} ms`);
    await c.waitClose(ms(5000));
  } finally {
    clearInterval(trickle);
    c.destroy();
  }
  await assertServed('after slow body');
});

test('adversarial #16: header bombs → 431 (101 headers; 70 KiB header); 100 headers are fine', T, async () => {
  const many = (n) => {
    const h = {};
    for (let i = 0; i < n; i++) h[`x-h-${i}`] = 'v';
    return h;
  };
  // Host + 99 = 100 headers: allowed
  let r = await rawRequest(asc.port, buildRequest('GET', '/healthz', { headers: many(99) }));
  assert.equal(r.status, 200, `100 headers: ${r.status} ${r.text}`);
  // Host + 100 = 101 headers
  r = await rawRequest(asc.port, buildRequest('GET', '/healthz', { headers: many(100) }));
  assert.equal(r.status, 431, `101 headers: ${r.status} ${r.text}`);
  assert.equal(errCode(r), 'headers_too_large');
  // one 70 KiB header
  r = await rawRequest(asc.port, buildRequest('GET', '/healthz', { headers: { 'x-big': 'a'.repeat(70 * 1024) } }));
  assert.equal(r.status, 431, `70 KiB header: ${r.status} ${r.text}`);
  assert.equal(errCode(r), 'headers_too_large');
  // many medium headers adding up to more than 64 KiB
  const medium = {};
  for (let i = 0; i < 40; i++) medium[`x-m-${i}`] = 'b'.repeat(1800);
  r = await rawRequest(asc.port, buildRequest('GET', '/healthz', { headers: medium }));
  assert.equal(r.status, 431, `72 KB in 40 headers: ${r.status}`);
  // a 70 KiB request line
  r = await rawRequest(asc.port, Buffer.from(`GET /healthz?${'q'.repeat(70 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`));
  assert.ok([414, 431].includes(r.status), `70 KiB request line: ${r.status}`);
  await assertServed('after header bombs');
});

test('adversarial #16: oversized body with Content-Length → 413 before the body is sent', T, async () => {
  const c = await RawConn.open(asc.port);
  try {
    c.write(
      buildRequest('POST', '/v1/chat/completions', {
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'content-length': String(2 * MAX_BODY),
        },
      }),
    );
    // no body byte sent: the answer must come from Content-Length alone
    const r = await c.readResponse(ms(5000));
    assert.equal(r.status, 413, r.text);
    assert.equal(errCode(r), 'request_too_large');
  } finally {
    c.destroy();
  }
  // a Content-Length far beyond any integer type
  const r2 = await rawRequest(
    asc.port,
    buildRequest('POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}`, 'content-length': '99999999999999999999999999' },
    }),
  );
  assert.ok([400, 413].includes(r2.status), `huge Content-Length: ${r2.status}`);
  await assertServed('after 413');
});

test('adversarial #16: oversized chunked body → 413 while it streams in', T, async () => {
  const c = await RawConn.open(asc.port);
  let sent = 0;
  try {
    c.write(
      buildRequest('POST', '/v1/chat/completions', {
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      }),
    );
    const piece = Buffer.alloc(64 * 1024, 0x20);
    const chunk = Buffer.concat([Buffer.from(piece.length.toString(16) + '\r\n'), piece, Buffer.from('\r\n')]);
    c.write(Buffer.from('1\r\n{\r\n'));
    // keep sending until asc answers (it must, after ~1 MiB) or 4 MiB went out
    while (!c.all.length && !c.closed && sent < 4 * MAX_BODY) {
      const ok = c.write(chunk);
      sent += piece.length;
      if (!ok) await Promise.race([new Promise((r) => c.sock.once('drain', r)), c.waitFor(() => c.all.length || c.closed, ms(10000))]);
    }
    let r;
    try {
      r = await c.readResponse(ms(10000));
    } catch (e) {
      if (c.all.length === 0 && c.error?.code === 'ECONNRESET') {
        // RFC 9112 §9.6: a server that closes at once while the client is
        // still sending makes the kernel reset the connection, and the
        // client never reads the response; servers close in stages
        // (lingering close) to avoid this.
        assert.fail(
          `no 413 reached the client: the connection was reset after ${sent} bytes sent (asc closed without a lingering close?)`,
        );
      }
      throw e;
    }
    assert.equal(r.status, 413, r.text);
    assert.equal(errCode(r), 'request_too_large');
    assert.ok(sent >= MAX_BODY * 0.9, `413 after only ${sent} bytes`);
  } finally {
    c.destroy();
  }
  await assertServed('after chunked 413');
});

test('adversarial #16: connection flood beyond max_connections → 503 for the extras, existing connection served', T, async (t) => {
  const existing = await RawConn.open(asc.port);
  const flood = [];
  try {
    existing.write(chatReq());
    let r = await existing.readResponse(ms(10000));
    assert.equal(r.status, 200);

    const statuses = [];
    const EXTRA = MAX_CONN + 10;
    for (let i = 0; i < EXTRA; i++) {
      const c = await RawConn.open(asc.port);
      flood.push(c);
      c.write(buildRequest('GET', '/healthz'));
      try {
        const x = await c.readResponse(ms(10000));
        statuses.push(x.status);
        if (x.status === 503) assert.equal(errCode(x), 'server_busy');
      } catch (e) {
        statuses.push(`no response (${e.message.slice(0, 80)})`);
      }
    }
    const ok = statuses.filter((s) => s === 200).length;
    const busy = statuses.filter((s) => s === 503).length;
    t.diagnostic(`flood of ${EXTRA} with max_connections ${MAX_CONN} and 1 open: ${ok} served, ${busy} got 503`);
    assert.equal(ok + busy, EXTRA, `unexpected outcomes: ${JSON.stringify(statuses)}`);
    assert.ok(ok <= MAX_CONN - 1, `${ok} connections served beyond the limit of ${MAX_CONN}`);
    assert.ok(busy >= EXTRA - (MAX_CONN - 1), `only ${busy} of ${EXTRA} got 503: ${JSON.stringify(statuses)}`);
    // the first 503 comes only after the allowed ones
    assert.equal(statuses.indexOf(503), ok, `order: ${JSON.stringify(statuses)}`);

    // the existing keep-alive connection still gets served
    existing.write(chatReq());
    r = await existing.readResponse(ms(10000));
    assert.equal(r.status, 200, r.text);
  } finally {
    for (const c of flood) c.destroy();
    existing.destroy();
  }
  // once the flood is gone, new connections are accepted again
  await waitUntil(
    async () => {
      const r = await rawRequest(asc.port, buildRequest('GET', '/healthz'), { timeout: ms(5000) });
      return r.status === 200;
    },
    { what: 'a new connection to be served after the flood' },
  );
  await assertServed('after the flood');
});

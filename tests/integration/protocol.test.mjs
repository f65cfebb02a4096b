// HTTP/1.1 behaviour on raw sockets: keep-alive, pipelining, chunked request
// bodies, client disconnect mid-stream (upstream cancelled), graceful SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  startMock,
  startAsc,
  stopAll,
  serverSection,
  newKey,
  sha256,
  mockText,
  ms,
  waitUntil,
  startTcpProxy,
} from './lib/harness.mjs';
import { RawConn, buildRequest, sseData } from './lib/raw.mjs';

const key = newKey();
const T = { timeout: ms(90000) };

let mock;
let proxy;
let asc;

function config(extraServer = {}) {
  return {
    server: serverSection(extraServer),
    providers: [
      { name: 'up', kind: 'openai-compatible', base_url: `${mock.url}/v1`, api_key: 'env:UP_KEY' },
      { name: 'upx', kind: 'openai-compatible', base_url: `${proxy.url}/v1`, api_key: 'env:UP_KEY' },
    ],
    models: {
      m1: { provider: 'up', model: 'mock-fast@tokens=1' },
      m2: { provider: 'up', model: 'mock-fast@tokens=2' },
    },
    keys: [{ name: 'k', key: `sha256:${sha256(key)}`, models: ['*'] }],
  };
}

before(async () => {
  mock = await startMock();
  proxy = await startTcpProxy(mock.port);
  asc = await startAsc({ config: config(), env: { UP_KEY: 'upstream-key' } });
});

after(async () => {
  try {
    await stopAll(asc, mock);
  } finally {
    await proxy.close();
  }
});

const auth = () => ({ authorization: `Bearer ${key}`, 'content-type': 'application/json' });
const chat = (model, extra = {}, headers = {}) =>
  buildRequest('POST', '/v1/chat/completions', {
    headers: { ...auth(), ...headers },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], ...extra }),
  });
const content = (r) => JSON.parse(r.text).choices[0].message.content;

test('keep-alive: several requests on one connection', T, async () => {
  const c = await RawConn.open(asc.port);
  try {
    const local = c.sock.localPort;
    for (let i = 0; i < 5; i++) {
      c.write(chat(i % 2 ? 'm2' : 'm1', {}, { 'x-request-id': `ka-${i}` }));
      const r = await c.readResponse(ms(10000));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers['x-request-id'], `ka-${i}`);
      assert.equal(content(r), mockText(i % 2 ? 2 : 1));
      assert.notEqual((r.headers.connection ?? '').toLowerCase(), 'close');
      assert.equal(c.closed, false, `connection closed after request ${i}`);
    }
    c.write(buildRequest('GET', '/v1/models', { headers: auth() }));
    const r = await c.readResponse(ms(10000));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).object, 'list');
    assert.equal(c.sock.localPort, local);
    // an error response keeps the connection too
    c.write(chat('no-such-model'));
    const e = await c.readResponse(ms(10000));
    assert.equal(e.status, 404);
    c.write(chat('m1'));
    assert.equal((await c.readResponse(ms(10000))).status, 200);
  } finally {
    c.destroy();
  }
});

test('pipelining: 3 requests written at once → 3 responses in order', T, async () => {
  const c = await RawConn.open(asc.port);
  try {
    // the first one is the slowest, so out-of-order answering would show
    const all = Buffer.concat([
      buildRequest('POST', '/v1/chat/completions', {
        headers: { ...auth(), 'x-request-id': 'pipe-1' },
        body: JSON.stringify({ model: 'up/mock-fast@tokens=3,latency_ms=300', messages: [{ role: 'user', content: 'a' }] }),
      }),
      buildRequest('GET', '/v1/models', { headers: { ...auth(), 'x-request-id': 'pipe-2' } }),
      chat('m2', {}, { 'x-request-id': 'pipe-3' }),
    ]);
    c.write(all);
    const r1 = await c.readResponse(ms(10000));
    const r2 = await c.readResponse(ms(10000));
    const r3 = await c.readResponse(ms(10000));
    assert.deepEqual(
      [r1.headers['x-request-id'], r2.headers['x-request-id'], r3.headers['x-request-id']],
      ['pipe-1', 'pipe-2', 'pipe-3'],
    );
    assert.equal(r1.status, 200);
    assert.equal(content(r1), mockText(3));
    assert.equal(JSON.parse(r2.text).object, 'list');
    assert.equal(content(r3), mockText(2));
  } finally {
    c.destroy();
  }
});

test('pipelining: a streamed response followed by a pipelined request', T, async () => {
  const c = await RawConn.open(asc.port);
  try {
    c.write(Buffer.concat([chat('m2', { stream: true }, { 'x-request-id': 'ps-1' }), chat('m1', {}, { 'x-request-id': 'ps-2' })]));
    const r1 = await c.readResponse(ms(10000));
    assert.equal(r1.headers['x-request-id'], 'ps-1');
    assert.equal(sseData(r1.text).at(-1), '[DONE]');
    const r2 = await c.readResponse(ms(10000));
    assert.equal(r2.headers['x-request-id'], 'ps-2');
    assert.equal(content(r2), mockText(1));
  } finally {
    c.destroy();
  }
});

test('chunked request body is reassembled', T, async () => {
  await mock.clear();
  const marker = `chunked-${randomBytes(6).toString('hex')}`;
  const body = Buffer.from(JSON.stringify({ model: 'm2', messages: [{ role: 'user', content: `${marker} ✓ ü` }] }));
  const c = await RawConn.open(asc.port);
  try {
    c.write(buildRequest('POST', '/v1/chat/completions', { headers: { ...auth(), 'transfer-encoding': 'chunked' } }));
    // split into 7-byte chunks, written separately, with a chunk extension on one
    for (let i = 0; i < body.length; i += 7) {
      const part = body.subarray(i, i + 7);
      c.write(Buffer.concat([Buffer.from(part.length.toString(16) + (i === 0 ? ';ext=1' : '') + '\r\n'), part, Buffer.from('\r\n')]));
    }
    c.write('0\r\n\r\n');
    const r = await c.readResponse(ms(10000));
    assert.equal(r.status, 200, r.text);
    assert.equal(content(r), mockText(2));
    // the JSON body received by the mock has the exact message
    const reqs = (await mock.apiRequests()).filter((x) => x.path === '/v1/chat/completions');
    assert.equal(reqs.length, 1);
    assert.equal(JSON.parse(reqs[0].body).messages[0].content, `${marker} ✓ ü`);
    // the connection is reusable after a chunked body
    c.write(chat('m1'));
    assert.equal((await c.readResponse(ms(10000))).status, 200);
  } finally {
    c.destroy();
  }
});

test('HTTP/1.0 request: answered and closed', T, async () => {
  const c = await RawConn.open(asc.port);
  try {
    const body = JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
    c.write(
      `POST /v1/chat/completions HTTP/1.0\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    const r = await c.readResponse(ms(10000));
    assert.equal(r.status, 200);
    assert.equal(content(r), mockText(1));
    await c.waitClose(ms(5000));
  } finally {
    c.destroy();
  }
});

test('client disconnect mid-stream cancels the upstream request promptly', T, async () => {
  const marker = `disc-${randomBytes(6).toString('hex')}`;
  const reqId = `disc-${randomBytes(4).toString('hex')}`;
  // 200 tokens at 100 ms: the full stream would take 20 s
  const c = await RawConn.open(asc.port);
  let cutAt;
  try {
    c.write(
      buildRequest('POST', '/v1/chat/completions', {
        headers: { ...auth(), 'x-request-id': reqId },
        body: JSON.stringify({
          model: 'upx/mock-fast@tokens=200,itl_ms=100',
          messages: [{ role: 'user', content: marker }],
          stream: true,
        }),
      }),
    );
    await c.waitFor(() => /"content":\s*" ipsum"/.test(c.text()), ms(10000), 'the second token');
  } finally {
    c.destroy();
    cutAt = performance.now();
  }
  const upstream = proxy.conns.find((x) => x.upData.includes(marker));
  assert.ok(upstream, 'the stream went through the proxy');
  await proxy.waitFor(() => upstream.closed, ms(3000), 'asc to close its upstream connection');
  const lag = upstream.closedAt - cutAt;
  assert.ok(lag < ms(2000), `upstream closed ${lag} ms after the client left`);
  // the access log records the request (with an abort, not a success after 20 s)
  const e = await asc.waitAccess((x) => x.request_id === reqId, { timeout: ms(5000) });
  assert.ok(e.duration_ms < 10000, `access log duration ${e.duration_ms} ms`);
  assert.equal(e.stream, true);
});

test('graceful SIGTERM: in-flight stream completes, idle connections closed, new connections refused, exit 0', T, async () => {
  const g = await startAsc({ config: config({ shutdown_timeout_ms: ms(20000) }), env: { UP_KEY: 'upstream-key' } });
  let s;
  let idle;
  try {
    idle = await RawConn.open(g.port);
    idle.write(buildRequest('GET', '/healthz'));
    assert.equal((await idle.readResponse(ms(5000))).status, 200);

    s = await RawConn.open(g.port);
    s.write(
      buildRequest('POST', '/v1/chat/completions', {
        headers: auth(),
        body: JSON.stringify({
          model: 'up/mock-fast@tokens=30,itl_ms=100',
          messages: [{ role: 'user', content: 'long' }],
          stream: true,
        }),
      }),
    );
    await s.waitFor(() => /"content":\s*"Lorem"/.test(s.text()), ms(10000), 'the first token');
    g.proc.signal('SIGTERM');

    // new connections are refused while the stream is still running
    let refusedAt = 0;
    await waitUntil(
      () =>
        new Promise((resolve) => {
          const sock = net.connect({ port: g.port, host: '127.0.0.1' });
          sock.once('connect', () => {
            sock.destroy();
            resolve(false);
          });
          sock.once('error', (e) => {
            if (e.code === 'ECONNREFUSED') refusedAt = performance.now();
            resolve(e.code === 'ECONNREFUSED');
          });
        }),
      { timeout: ms(5000), what: 'new connections to be refused' },
    );
    await idle.waitClose(ms(5000));

    const r = await s.readResponse(ms(20000));
    const endAt = performance.now();
    assert.equal(r.status, 200);
    assert.equal(r.complete, true, 'the stream was cut');
    const data = sseData(r.text);
    assert.equal(data.at(-1), '[DONE]');
    let text = '';
    for (const d of data.slice(0, -1)) text += JSON.parse(d).choices?.[0]?.delta?.content ?? '';
    assert.equal(text, mockText(30));
    assert.ok(refusedAt > 0 && refusedAt < endAt, 'new connections were still accepted until the stream ended');

    const ex = await g.proc.waitExit(ms(15000));
    assert.deepEqual(ex, { code: 0, signal: null }, g.proc.tail());
  } finally {
    s?.destroy();
    idle?.destroy();
    await stopAll(g);
  }
});

test('SIGTERM with a stream longer than shutdown_timeout_ms: exits 0 within the timeout', T, async () => {
  const SHUT = ms(1500);
  const g = await startAsc({ config: config({ shutdown_timeout_ms: SHUT }), env: { UP_KEY: 'upstream-key' } });
  const s = await RawConn.open(g.port);
  try {
    s.write(
      buildRequest('POST', '/v1/chat/completions', {
        headers: auth(),
        body: JSON.stringify({
          model: 'up/mock-fast@tokens=1000,itl_ms=100',
          messages: [{ role: 'user', content: 'long' }],
          stream: true,
        }),
      }),
    );
    await s.waitFor(() => /"content":\s*"Lorem"/.test(s.text()), ms(10000), 'the first token');
    const t0 = performance.now();
    g.proc.signal('SIGTERM');
    const ex = await g.proc.waitExit(SHUT + ms(10000));
    const dt = performance.now() - t0;
    assert.deepEqual(ex, { code: 0, signal: null }, g.proc.tail());
    assert.ok(dt >= SHUT * 0.8, `exited after ${dt} ms, before shutdown_timeout_ms`);
    await s.waitClose(ms(5000));
    assert.ok(!s.text().includes('[DONE]'), 'an aborted stream must not look complete');
  } finally {
    s.destroy();
    await stopAll(g);
  }
});

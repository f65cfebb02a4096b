// ADVERSARIAL.md rows 11 (upstream stalls) and 12 (overload / error events
// inside a stream, no busy loop), checked on the wire with raw sockets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
} from './lib/harness.mjs';
import { RawConn, buildRequest, sseData } from './lib/raw.mjs';

const key = newKey();
const T = { timeout: ms(90000) };
const USER = [{ role: 'user', content: 'hi' }];
const FIRST_BYTE = ms(500);
const IDLE = ms(500);

let mock;
let asc;

before(async () => {
  mock = await startMock();
  const base = `${mock.url}/v1`;
  asc = await startAsc({
    config: {
      server: serverSection(),
      providers: [
        { name: 'up', kind: 'openai-compatible', base_url: base, api_key: 'env:UP_KEY' },
        {
          name: 'upslow',
          kind: 'openai-compatible',
          base_url: base,
          api_key: 'env:UP_KEY',
          first_byte_timeout_ms: FIRST_BYTE,
          idle_timeout_ms: IDLE,
        },
      ],
      models: { m1: { provider: 'up', model: 'mock-fast@tokens=3' } },
      keys: [{ name: 'k', key: `sha256:${sha256(key)}`, models: ['*'] }],
    },
    env: { UP_KEY: 'upstream-key' },
  });
});

after(async () => {
  await stopAll(asc, mock);
});

function chatBytes(model, { stream = false, extra = {}, headers = {} } = {}) {
  return buildRequest('POST', '/v1/chat/completions', {
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, messages: USER, stream, ...extra }),
  });
}

/** Send one chat request on a fresh connection and read the whole response. */
async function chat(model, opts = {}, timeout = ms(20000)) {
  const c = await RawConn.open(asc.port);
  try {
    const t0 = performance.now();
    c.write(chatBytes(model, opts));
    const r = await c.readResponse(timeout);
    r.elapsed = performance.now() - t0;
    return r;
  } finally {
    c.destroy();
  }
}

/** Content of the SSE chunks, the error payloads and whether [DONE] came. */
function parseStream(text) {
  const data = sseData(text);
  let content = '';
  const errors = [];
  let done = false;
  for (const d of data) {
    if (d === '[DONE]') {
      done = true;
      continue;
    }
    const j = JSON.parse(d);
    if (j.error) errors.push(j.error);
    else content += j.choices?.[0]?.delta?.content ?? '';
  }
  return { content, errors, done, data };
}

test('adversarial #11: stall before the first byte → 504 with no upstream body bytes', T, async () => {
  // the mock would answer after 6 first-byte timeouts; asc must not wait for it
  const late = `upslow/mock-fast@latency_ms=${FIRST_BYTE * 6}`;
  for (const [model, stream] of [
    [late, false],
    [late, true],
    ['upslow/mock-fast@fault=stall', false],
    ['upslow/mock-fast@fault=stall', true],
  ]) {
    const r = await chat(model, { stream });
    assert.equal(r.status, 504, `${model} stream=${stream}: ${r.status} ${r.text}`);
    const j = JSON.parse(r.text);
    assert.equal(j.error.code, 'upstream_timeout');
    assert.equal(j.error.type, 'api_error');
    assert.ok(!/chatcmpl|Lorem|data:/.test(r.text), `upstream bytes in the 504: ${r.text}`);
    assert.ok(r.elapsed >= FIRST_BYTE * 0.9, `504 after ${r.elapsed} ms < first_byte_timeout`);
    assert.ok(r.elapsed < FIRST_BYTE * 5 + ms(3000), `504 took ${r.elapsed} ms`);
  }
});

test('adversarial #11: stall between chunks → terminal SSE error event, never a clean-looking end', T, async () => {
  for (const model of [
    'upslow/mock-fast@fault=stall_mid,fault_after=3',
    `upslow/mock-fast@tokens=10,itl_ms=${IDLE * 6},ttft_ms=0`,
  ]) {
    const r = await chat(model, { stream: true });
    assert.equal(r.status, 200, `${model}: ${r.status}`);
    assert.match(r.headers['content-type'] ?? '', /text\/event-stream/);
    const s = parseStream(r.text);
    assert.equal(s.done, false, `${model}: [DONE] after a stall`);
    assert.equal(s.errors.length, 1, `${model}: expected one error event in ${JSON.stringify(s.data)}`);
    assert.equal(s.errors[0].code, 'upstream_timeout');
    assert.equal(s.errors[0].type, 'api_error');
    if (model.includes('stall_mid')) assert.equal(s.content, mockText(3));
    else assert.equal(s.content, mockText(1));
    assert.ok(r.elapsed < IDLE * 5 + ms(3000), `${model}: took ${r.elapsed} ms`);
  }
});

test('adversarial #11: the idle timeout is per chunk, not a total timeout', T, async () => {
  const itl = Math.floor(IDLE / 3);
  const r = await chat(`upslow/mock-fast@tokens=8,itl_ms=${itl}`, { stream: true }, ms(30000));
  assert.equal(r.status, 200);
  const s = parseStream(r.text);
  assert.deepEqual(s.errors, []);
  assert.equal(s.done, true);
  assert.equal(s.content, mockText(8));
  assert.ok(r.elapsed > IDLE, 'the whole stream took longer than the idle timeout');
});

test('adversarial #12: overloaded error event inside a stream → clean termination with an error', T, async () => {
  const r = await chat('up/mock-fast@fault=error_event,fault_after=2', { stream: true });
  assert.equal(r.status, 200);
  assert.equal(r.complete, true, 'the chunked response was not terminated properly');
  const s = parseStream(r.text);
  assert.equal(s.content, mockText(2));
  assert.equal(s.done, false, '[DONE] after an in-stream error');
  assert.equal(s.errors.length, 1, JSON.stringify(s.data));
  assert.equal(typeof s.errors[0].message, 'string');
  // the error is the last event
  assert.ok(JSON.parse(s.data.at(-1)).error, 'events after the error');
});

test('adversarial #12: 429 / 503 / 529-style overload before the stream starts → clean error status', T, async () => {
  let r = await chat('up/mock-fast@fault=429,retry_after=3', { stream: true });
  assert.equal(r.status, 429);
  assert.equal(r.headers['retry-after'], '3');
  assert.equal(JSON.parse(r.text).error.code, 'rate_limited');
  for (const f of ['503', '529']) {
    r = await chat(`up/mock-fast@fault=${f}`, { stream: true });
    assert.equal(r.status, 503, `fault=${f}: ${r.status} ${r.text}`);
    const j = JSON.parse(r.text);
    assert.ok(['overloaded', 'no_healthy_target'].includes(j.error.code), `fault=${f}: ${r.text}`);
    assert.equal(j.error.type, 'api_error');
  }
  r = await chat('up/mock-fast@fault=malformed', { stream: true });
  assert.ok(r.status === 502 || (r.status === 200 && parseStream(r.text).errors.length === 1), `malformed: ${r.status} ${r.text}`);
  if (r.status === 200) assert.equal(parseStream(r.text).done, false);
  r = await chat('up/mock-fast@fault=malformed', { stream: false });
  assert.equal(r.status, 502, r.text);
  r = await chat('up/mock-fast@fault=reset', { stream: true });
  assert.equal(r.status, 502, r.text);
});

test('adversarial #12: no busy loop while streams are stalled or after error events', T, async (t) => {
  // several finished error-event streams first
  for (let i = 0; i < 5; i++) {
    const r = await chat('up/mock-fast@fault=error_event,fault_after=1', { stream: true });
    assert.equal(r.status, 200);
  }
  await mock.clear();
  // two open stalls: one mid-stream (after 3 tokens), one before the first byte
  const a = await RawConn.open(asc.port);
  const b = await RawConn.open(asc.port);
  try {
    a.write(chatBytes('up/mock-fast@fault=stall_mid,fault_after=3', { stream: true }));
    b.write(chatBytes('up/mock-fast@fault=stall', { stream: true }));
    // wait until the stall is real: both reached the mock, a got its 3 tokens
    await waitUntil(async () => (await mock.apiRequests()).length >= 2, { what: 'both requests at the mock' });
    await a.waitFor(() => /"content":\s*" dolor"/.test(a.text()), ms(10000), 'the first 3 tokens');
    const cpu0 = asc.proc.cpuSeconds();
    const t0 = performance.now();
    // the measurement window: 3 s of wall time with both streams stalled
    await new Promise((r) => setTimeout(r, 3000));
    const cpu = asc.proc.cpuSeconds() - cpu0;
    const wall = (performance.now() - t0) / 1000;
    t.diagnostic(`asc CPU during ${wall.toFixed(2)} s with two stalled streams: ${cpu.toFixed(3)} s`);
    assert.equal(a.closed, false, 'the mid-stream stall ended early (idle timeout is 60 s by default)');
    assert.ok(cpu < 0.5, `asc used ${cpu.toFixed(3)} s CPU in ${wall.toFixed(2)} s with stalled streams (busy loop?)`);
    // and it still answers others meanwhile
    const r = await chat('m1');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).choices[0].message.content, mockText(3));
  } finally {
    a.destroy();
    b.destroy();
  }
  // after the clients vanished asc stays idle too
  const ok = await chat('m1');
  assert.equal(ok.status, 200);
});

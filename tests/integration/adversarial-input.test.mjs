// ADVERSARIAL.md rows 2 (client-chosen upstream), 3 (upstream redirect),
// 4 (path tricks) and 15 (hostile JSON) against the real binary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  startMock,
  startAsc,
  stopAll,
  serverSection,
  newKey,
  sha256,
  canary,
  mockText,
  ms,
  SCALE,
  allOutput,
  transcriptText,
} from './lib/harness.mjs';
import { rawRequest, buildRequest } from './lib/raw.mjs';

const UP_KEY = canary('upkey');
const key = newKey();
const T = { timeout: ms(60000) };
const USER = [{ role: 'user', content: 'hi' }];

let mock;
let asc;

before(async () => {
  mock = await startMock({ args: ['--require-key', UP_KEY] });
  asc = await startAsc({
    config: {
      server: serverSection(),
      providers: [{ name: 'up', kind: 'openai-compatible', base_url: `${mock.url}/v1`, api_key: 'env:UP_KEY' }],
      models: {
        m1: { provider: 'up', model: 'mock-fast@tokens=2' },
        redir: { provider: 'up', model: 'mock-fast@fault=redirect' },
      },
      keys: [{ name: 'k', key: `sha256:${sha256(key)}`, models: ['*'] }],
    },
    env: { UP_KEY },
  });
});

after(async () => {
  await stopAll(asc, mock);
});

async function chatRequests() {
  return (await mock.apiRequests()).filter((r) => r.method === 'POST');
}

test('adversarial #2: client-chosen upstream fields → 400 and the mock never received the request', T, async () => {
  const fields = [
    'api_base',
    'base_url',
    'api_key',
    'api_version',
    'custom_llm_provider',
    'host',
    'endpoint',
    'azure_endpoint',
  ];
  const evil = 'http://127.0.0.2:1/stolen';
  const bodies = [];
  for (const f of fields) bodies.push([`top-level ${f}`, { model: 'm1', messages: USER, [f]: evil }]);
  for (const container of ['provider', 'routing', 'extra_body', 'metadata']) {
    for (const f of ['api_base', 'base_url', 'api_key', 'host']) {
      bodies.push([`${container}.${f}`, { model: 'm1', messages: USER, [container]: { [f]: evil } }]);
    }
  }
  for (const [name, body] of bodies) {
    await mock.clear();
    const r = await asc.request('POST', '/v1/chat/completions', { key, body });
    assert.equal(r.status, 400, `${name}: status ${r.status} ${r.text}`);
    assert.equal(r.json?.error?.code, 'invalid_request', name);
    assert.equal(r.json?.error?.type, 'invalid_request_error', name);
    assert.deepEqual(await chatRequests(), [], `${name}: the mock received the request`);
  }
  // the same on the embeddings endpoint
  await mock.clear();
  const r = await asc.request('POST', '/v1/embeddings', { key, body: { model: 'm1', input: 'x', api_base: evil } });
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(await chatRequests(), []);
});

test('adversarial #2: the same words inside message content and tool schemas are legitimate', T, async () => {
  await mock.clear();
  const body = {
    model: 'm1',
    messages: [{ role: 'user', content: 'what are api_base, base_url and host? {"api_key":"x"}' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'connect',
          description: 'connect to a host',
          parameters: {
            type: 'object',
            properties: { base_url: { type: 'string' }, host: { type: 'string' }, api_key: { type: 'string' } },
            required: ['base_url'],
          },
        },
      },
    ],
    tool_choice: 'none',
  };
  const r = await asc.request('POST', '/v1/chat/completions', { key, body });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.choices[0].message.content, mockText(2));
  assert.equal((await chatRequests()).length, 1);
});

test('adversarial #2: Host / X-Forwarded-Host games do not change the upstream', T, async () => {
  await mock.clear();
  const body = JSON.stringify({ model: 'm1', messages: USER });
  const r = await rawRequest(
    asc.port,
    buildRequest('POST', '/v1/chat/completions', {
      host: '127.0.0.2:1',
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        'x-forwarded-host': '127.0.0.2:1',
        'x-forwarded-proto': 'https',
        forwarded: 'host=127.0.0.2:1',
        'x-host': '127.0.0.2:1',
      },
      body,
    }),
    { timeout: ms(10000) },
  );
  assert.equal(r.status, 200, r.text);
  const reqs = await chatRequests();
  assert.equal(reqs.length, 1, 'the configured upstream got the request');
  assert.equal(reqs[0].headers.host, `127.0.0.1:${mock.port}`);
  for (const h of ['x-forwarded-host', 'forwarded', 'x-host']) {
    assert.ok(!(reqs[0].headers[h] ?? '').includes('127.0.0.2'), `${h} forwarded upstream`);
  }
});

test('adversarial #3: upstream redirect (302) → 502 and the Location is not followed', T, async (t) => {
  // If we may bind 127.0.0.2:1 (root), prove nobody connects there.
  let hits = 0;
  let trap = null;
  try {
    trap = net.createServer((s) => {
      hits++;
      s.destroy();
    });
    await new Promise((resolve, reject) => {
      trap.once('error', reject);
      trap.listen(1, '127.0.0.2', resolve);
    });
  } catch (e) {
    t.diagnostic(`cannot bind the trap on 127.0.0.2:1 (${e.code}); checking status and Location only`);
    trap = null;
  }
  try {
    await mock.clear();
    for (const stream of [false, true]) {
      const r = await asc.request('POST', '/v1/chat/completions', {
        key,
        body: { model: 'redir', messages: USER, stream },
      });
      assert.equal(r.status, 502, `stream=${stream}: ${r.status} ${r.text}`);
      assert.equal(r.json?.error?.code, 'upstream_error');
      assert.ok(!r.text.includes('stolen'), 'the redirect target leaked into the response');
      assert.equal(r.headers.get('location'), null, 'Location relayed to the client');
    }
    assert.equal((await chatRequests()).length, 2, 'exactly one upstream attempt per request');
    if (trap) {
      assert.equal(hits, 0, 'asc connected to the redirect target');
      t.diagnostic('no connection reached the trap on 127.0.0.2:1');
    }
  } finally {
    if (trap) await new Promise((r) => trap.close(r));
  }
});

// Row 4. Each variant must either be served exactly like the canonical path
// (with the same auth) or be refused (400/404); without auth it is never
// served. Outcomes are printed as diagnostics and documented in docs/testing.md.
test('adversarial #4: path tricks are authenticated like the canonical route or 404', T, async (t) => {
  const body = JSON.stringify({ model: 'm1', messages: USER });
  const canonical = await rawRequest(
    asc.port,
    buildRequest('POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
    }),
  );
  assert.equal(canonical.status, 200, canonical.text);
  const want = JSON.parse(canonical.text).choices[0].message.content;
  assert.equal(want, mockText(2));

  const targets = [
    '//v1/chat/completions',
    '/v1//chat/completions',
    '/v1/chat/completions/',
    '/V1/Chat/Completions',
    '/v1/%63hat/completions',
    '/v1/chat%2Fcompletions',
    '/v1/%2e%2e/v1/chat/completions',
    '/v1/../v1/chat/completions',
    '/v1/./chat/completions',
    '/x/../v1/chat/completions',
    '/../v1/chat/completions',
    '/v1/chat/completions?x=1',
    '/v1/chat/completions;x=1',
    '/v1/chat/completions%00',
    '/v1/chat/completions%20',
    `http://127.0.0.1:${asc.port}/v1/chat/completions`,
    'http://evil.example/v1/chat/completions',
    '*',
  ];
  const outcomes = [];
  for (const target of targets) {
    await mock.clear();
    const noauth = await rawRequest(
      asc.port,
      buildRequest('POST', target, { headers: { 'content-type': 'application/json' }, body }),
    );
    assert.ok(
      [400, 401, 404, 405].includes(noauth.status),
      `${target} without auth: ${noauth.status} ${noauth.text.slice(0, 200)}`,
    );
    assert.deepEqual(await chatRequests(), [], `${target} without auth reached the upstream`);
    const withauth = await rawRequest(
      asc.port,
      buildRequest('POST', target, {
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      }),
    );
    if (withauth.status === 200) {
      assert.equal(JSON.parse(withauth.text).choices[0].message.content, want, target);
      // served like the canonical route: without auth it must have been 401
      assert.equal(noauth.status, 401, `${target}: served with auth but ${noauth.status} without`);
      outcomes.push(`${target} → served (401 without key)`);
    } else {
      assert.ok([400, 404, 405].includes(withauth.status), `${target} with auth: ${withauth.status} ${withauth.text}`);
      outcomes.push(`${target} → ${withauth.status} (${noauth.status} without key)`);
    }
  }
  // Host header games on the canonical path
  for (const host of ['evil.example', '', 'localhost:1', '127.0.0.1:1@evil']) {
    const noauth = await rawRequest(
      asc.port,
      buildRequest('POST', '/v1/chat/completions', { host, headers: { 'content-type': 'application/json' }, body }),
    );
    assert.ok([400, 401].includes(noauth.status), `Host ${JSON.stringify(host)} without auth: ${noauth.status}`);
    outcomes.push(`Host: ${JSON.stringify(host)} → ${noauth.status} without key`);
  }
  // GET /v1/models variants without auth never list models
  for (const target of ['/v1/models/', '//v1/models', '/V1/MODELS', '/v1/%6dodels', '/v1/models/../models']) {
    const r = await rawRequest(asc.port, buildRequest('GET', target));
    assert.ok([400, 401, 404].includes(r.status), `GET ${target} without auth: ${r.status}`);
    assert.ok(!r.text.includes('"m1"'), `GET ${target} without auth listed models`);
  }
  for (const o of outcomes) t.diagnostic(o);
});

// Row 15: each body must be refused with 400 quickly, never reach the
// upstream, and the batch must cost bounded CPU.
test('adversarial #15: hostile JSON → 400 quickly, nothing sent upstream, bounded CPU', T, async (t) => {
  const deep = (n) => '['.repeat(n) + ']'.repeat(n);
  const deepObj = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  const cases = [
    ['malformed JSON', Buffer.from('{"model":"m1","messages":[{"role":"user","content":"hi"}]')],
    ['trailing garbage', Buffer.from('{"model":"m1","messages":[{"role":"user","content":"hi"}]} x')],
    ['not an object', Buffer.from('[1,2,3]')],
    ['empty body', Buffer.alloc(0)],
    ['10,000-deep array nesting as a field', Buffer.from(`{"model":"m1","messages":[{"role":"user","content":"hi"}],"x":${deep(10000)}}`)],
    ['10,000-deep object nesting as a field', Buffer.from(`{"model":"m1","messages":[{"role":"user","content":"hi"}],"x":${deepObj(10000)}}`)],
    ['10,000-deep nesting as the whole body', Buffer.from(deep(10000))],
    ['129-deep nesting (just over the limit)', Buffer.from(`{"model":"m1","messages":[{"role":"user","content":"hi"}],"x":${deep(128)}}`)],
    ['max_tokens 1e999', Buffer.from('{"model":"m1","messages":[{"role":"user","content":"hi"}],"max_tokens":1e999}')],
    ['max_tokens as a string', Buffer.from('{"model":"m1","messages":[{"role":"user","content":"hi"}],"max_tokens":"5"}')],
    [
      'invalid UTF-8 in content',
      Buffer.concat([
        Buffer.from('{"model":"m1","messages":[{"role":"user","content":"h'),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
        Buffer.from('"}]}'),
      ]),
    ],
    [
      'overlong UTF-8 (C0 AF)',
      Buffer.concat([
        Buffer.from('{"model":"m1","messages":[{"role":"user","content":"'),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from('"}]}'),
      ]),
    ],
    [
      'UTF-8 surrogate (ED A0 80)',
      Buffer.concat([
        Buffer.from('{"model":"m1","messages":[{"role":"user","content":"'),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}]}'),
      ]),
    ],
    [
      'raw NUL inside a string',
      Buffer.concat([
        Buffer.from('{"model":"m1","messages":[{"role":"user","content":"h'),
        Buffer.from([0]),
        Buffer.from('i"}]}'),
      ]),
    ],
    [
      'raw NUL after the object',
      Buffer.concat([Buffer.from('{"model":"m1","messages":[{"role":"user","content":"hi"}]}'), Buffer.from([0])]),
    ],
    ['duplicate model keys', Buffer.from('{"model":"m1","messages":[{"role":"user","content":"hi"}],"model":"redir"}')],
    ['duplicate keys in a message', Buffer.from('{"model":"m1","messages":[{"role":"user","content":"hi","content":"x"}]}')],
    ['missing model', Buffer.from('{"messages":[{"role":"user","content":"hi"}]}')],
    ['missing messages', Buffer.from('{"model":"m1"}')],
    ['model is a number', Buffer.from('{"model":1,"messages":[{"role":"user","content":"hi"}]}')],
    ['messages is an object', Buffer.from('{"model":"m1","messages":{"role":"user"}}')],
  ];
  await mock.clear();
  const cpu0 = asc.proc.cpuSeconds();
  for (const [name, body] of cases) {
    const t0 = performance.now();
    const r = await asc.request('POST', '/v1/chat/completions', {
      key,
      headers: { 'content-type': 'application/json' },
      body,
    });
    const dt = performance.now() - t0;
    assert.equal(r.status, 400, `${name}: ${r.status} ${r.text.slice(0, 300)}`);
    assert.equal(r.json?.error?.code, 'invalid_request', `${name}: ${r.text.slice(0, 300)}`);
    assert.ok(dt < ms(2000), `${name}: took ${Math.round(dt)} ms`);
  }
  const cpu = asc.proc.cpuSeconds() - cpu0;
  t.diagnostic(`asc CPU for ${cases.length} hostile bodies: ${cpu.toFixed(3)} s`);
  assert.ok(cpu < 1.5 * SCALE, `the batch of hostile bodies cost ${cpu.toFixed(3)} s CPU`);
  assert.deepEqual(await chatRequests(), [], 'a hostile body reached the upstream');
  // still serving
  const ok = await asc.request('POST', '/v1/chat/completions', { key, body: { model: 'm1', messages: USER } });
  assert.equal(ok.status, 200, ok.text);
});

test('adversarial #15: a huge (but under the body limit) JSON string of escapes is handled in bounded time', T, async () => {
  const big = '\\u0041'.repeat(100000); // 600 KB of escapes
  const t0 = performance.now();
  const r = await asc.request('POST', '/v1/chat/completions', {
    key,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(`{"model":"m1","messages":[{"role":"user","content":"${big}"}],"model":"m1"}`),
  });
  assert.equal(r.status, 400, r.text.slice(0, 200));
  assert.ok(performance.now() - t0 < ms(3000));
});

test('secrets: provider key and virtual key never appear in output or responses', T, async () => {
  const out = await allOutput(asc);
  const responses = transcriptText();
  for (const [name, s] of [
    ['provider key', UP_KEY],
    ['virtual key', key],
  ]) {
    assert.ok(!out.includes(s), `${name} in asc output`);
    assert.ok(!responses.includes(s), `${name} in a response`);
  }
});

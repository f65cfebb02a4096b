// asc through the official openai SDK against asc-mock: pass-through,
// streaming, errors, embeddings, models, allow-lists, request ids, the access
// log, and (last) the provider-key canary / virtual-key leak check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import {
  startMock,
  startAsc,
  stopAll,
  serverSection,
  newKey,
  sha256,
  canary,
  mockText,
  mockPromptTokens,
  drainStream,
  rejects,
  ms,
  allOutput,
  transcriptText,
} from './lib/harness.mjs';

const UP_KEY = canary('upkey'); // provider key: must reach the mock, nothing else
const PROMPT_CANARY = canary('prompt'); // prompt text: must not be logged
const k1 = newKey(); // models: ["*"]
const k2 = newKey(); // models: ["m1", "up/*"] (from env)
const k3 = newKey(); // models: ["m1", "emb*"]
const T = { timeout: ms(60000) };

let mock;
let asc;

before(async () => {
  mock = await startMock({ args: ['--require-key', UP_KEY] });
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
          first_byte_timeout_ms: ms(500),
          idle_timeout_ms: ms(500),
        },
      ],
      models: {
        m1: { provider: 'up', model: 'mock-fast' },
        m3: { provider: 'up', model: 'mock-fast@tokens=3' },
        emb: { provider: 'up', model: 'mock-embed', type: 'embedding' },
        emb16: { provider: 'up', model: 'mock-embed@dims=16', type: 'embedding' },
        stallfirst: { provider: 'upslow', model: 'mock-fast@fault=stall' },
        stallmid: { provider: 'upslow', model: 'mock-fast@fault=stall_mid,fault_after=3' },
      },
      keys: [
        { name: 'k1', key: `sha256:${sha256(k1)}`, models: ['*'] },
        { name: 'k2', key: 'env:K2_KEY', models: ['m1', 'up/*'] },
        { name: 'k3', key: `sha256:${sha256(k3)}`, models: ['m1', 'emb*'] },
      ],
    },
    env: { UP_KEY, K2_KEY: k2 },
  });
});

after(async () => {
  await stopAll(asc, mock);
});

const USER = [{ role: 'user', content: 'Say hello to the integration suite' }];

test('chat non-streaming: deterministic mock text and usage', T, async () => {
  const c = asc.client(k1);
  const r = await c.chat.completions.create({ model: 'm1', messages: USER });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, mockText(16));
  assert.equal(r.choices[0].finish_reason, 'stop');
  const pt = mockPromptTokens(USER);
  assert.deepEqual(
    { p: r.usage.prompt_tokens, c: r.usage.completion_tokens, t: r.usage.total_tokens },
    { p: pt, c: 16, t: pt + 16 },
  );
});

test('chat non-streaming: max_tokens caps the answer (finish_reason length)', T, async () => {
  const c = asc.client(k1);
  const r = await c.chat.completions.create({ model: 'm1', messages: USER, max_tokens: 5 });
  assert.equal(r.choices[0].message.content, mockText(5));
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 5);
});

test('chat streaming: concatenated deltas equal the text, no usage chunk unless asked', T, async () => {
  const c = asc.client(k1);
  const stream = await c.chat.completions.create({ model: 'm1', messages: USER, stream: true });
  const { text, chunks, error } = await drainStream(stream);
  assert.equal(error, null, `stream threw: ${error}`);
  assert.equal(text, mockText(16));
  assert.ok(chunks.length >= 17, `expected >= 17 chunks, got ${chunks.length}`);
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  assert.ok(chunks.some((ch) => ch.choices[0]?.finish_reason === 'stop'), 'a chunk with finish_reason stop');
  for (const ch of chunks) {
    assert.ok(!ch.usage, `unexpected usage in chunk ${JSON.stringify(ch)}`);
    assert.ok(ch.choices.length > 0, `unexpected usage-only chunk ${JSON.stringify(ch)}`);
  }
});

test('chat streaming with stream_options.include_usage: final usage chunk arrives', T, async () => {
  const c = asc.client(k1);
  const stream = await c.chat.completions.create({
    model: 'm3',
    messages: USER,
    stream: true,
    stream_options: { include_usage: true },
  });
  const { text, chunks, error } = await drainStream(stream);
  assert.equal(error, null, `stream threw: ${error}`);
  assert.equal(text, mockText(3));
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  const pt = mockPromptTokens(USER);
  assert.equal(last.usage.prompt_tokens, pt);
  assert.equal(last.usage.completion_tokens, 3);
  assert.equal(last.usage.total_tokens, pt + 3);
  assert.equal(chunks.filter((ch) => ch.usage).length, 1, 'exactly one usage chunk');
});

test('upstream request: model rewritten, include_usage added, provider key sent, virtual key not', T, async () => {
  await mock.clear();
  const c = asc.client(k1);
  const stream = await c.chat.completions.create({ model: 'm1', messages: USER, stream: true });
  const { error } = await drainStream(stream);
  assert.equal(error, null);
  const reqs = (await mock.apiRequests()).filter((r) => r.path === '/v1/chat/completions');
  assert.equal(reqs.length, 1, `mock saw ${reqs.length} chat requests`);
  const up = reqs[0];
  assert.equal(up.method, 'POST');
  const body = JSON.parse(up.body);
  assert.equal(body.model, 'mock-fast');
  assert.equal(body.stream, true);
  assert.equal(body.stream_options?.include_usage, true);
  assert.deepEqual(body.messages, USER);
  assert.equal(up.headers.authorization, `Bearer ${UP_KEY}`);
  const all = JSON.stringify(up);
  assert.ok(!all.includes(k1), 'the client virtual key reached the upstream');
  assert.ok(!('x-api-key' in up.headers), 'x-api-key forwarded upstream');
});

test('upstream request: non-streaming request is not given stream_options', T, async () => {
  await mock.clear();
  const c = asc.client(k1);
  await c.chat.completions.create({ model: 'm1', messages: USER });
  const reqs = (await mock.apiRequests()).filter((r) => r.path === '/v1/chat/completions');
  assert.equal(reqs.length, 1);
  const body = JSON.parse(reqs[0].body);
  assert.equal(body.model, 'mock-fast');
  assert.ok(!body.stream, 'stream set upstream for a non-streaming request');
});

test('embeddings: SDK default (base64) decodes to the same floats as encoding_format float', T, async () => {
  const c = asc.client(k1);
  const a = await c.embeddings.create({ model: 'emb', input: 'hello world' });
  assert.equal(a.object, 'list');
  assert.equal(a.data.length, 1);
  const v = a.data[0].embedding;
  assert.ok(Array.isArray(v), 'embedding decoded to an array');
  assert.equal(v.length, 8);
  assert.ok(v.every((x) => Number.isFinite(x)));
  assert.ok(v.some((x) => x !== 0), 'all-zero vector');
  assert.equal(a.usage.prompt_tokens, Math.ceil(Buffer.byteLength('hello world') / 4));

  const f = await c.embeddings.create({ model: 'emb', input: 'hello world', encoding_format: 'float' });
  assert.deepEqual(
    v,
    f.data[0].embedding.map((x) => Math.fround(x)),
  );

  const b = await c.embeddings.create({ model: 'emb', input: ['hello world', 'something else'] });
  assert.equal(b.data.length, 2);
  assert.deepEqual(b.data[0].embedding, v, 'deterministic for the same input');
  assert.notDeepEqual(b.data[1].embedding, v, 'different input, different vector');

  await mock.clear();
  const d = await c.embeddings.create({ model: 'emb16', input: 'dims please' });
  assert.equal(d.data[0].embedding.length, 16);
  const reqs = (await mock.apiRequests()).filter((r) => r.path === '/v1/embeddings');
  assert.equal(reqs.length, 1);
  const body = JSON.parse(reqs[0].body);
  assert.equal(body.model, 'mock-embed@dims=16');
  assert.equal(body.encoding_format, 'base64');
});

test('models.list(): exactly the models the key may use', T, async () => {
  const list = async (key) => {
    const ids = [];
    for await (const m of asc.client(key).models.list()) {
      assert.equal(m.object, 'model');
      assert.equal(typeof m.created, 'number');
      ids.push(m.id);
    }
    return ids.sort();
  };
  assert.deepEqual(await list(k1), ['emb', 'emb16', 'm1', 'm3', 'stallfirst', 'stallmid']);
  assert.deepEqual(await list(k3), ['emb', 'emb16', 'm1']);
  const page = await asc.client(k3).models.list();
  const m1 = page.data.find((m) => m.id === 'm1');
  assert.equal(m1.owned_by, 'up');
});

test('<provider>/<model> direct addressing goes upstream verbatim', T, async () => {
  await mock.clear();
  const r = await asc.client(k2).chat.completions.create({ model: 'up/mock-fast@tokens=4', messages: USER });
  assert.equal(r.choices[0].message.content, mockText(4));
  const reqs = (await mock.apiRequests()).filter((x) => x.path === '/v1/chat/completions');
  assert.equal(reqs.length, 1);
  assert.equal(JSON.parse(reqs[0].body).model, 'mock-fast@tokens=4');
});

test('allow-list denial: 403 PermissionDeniedError, nothing sent upstream', T, async () => {
  await mock.clear();
  // k3 may use m1 and emb*, not up/*
  let e = await rejects(asc.client(k3).chat.completions.create({ model: 'up/mock-fast', messages: USER }));
  assert.ok(e instanceof OpenAI.PermissionDeniedError, `got ${e}`);
  assert.equal(e.status, 403);
  assert.equal(e.code, 'model_not_allowed');
  assert.equal(e.type, 'permission_error');
  // k2 may use m1 and up/*, not m3 (a public name mapped to the same provider)
  e = await rejects(asc.client(k2).chat.completions.create({ model: 'm3', messages: USER }));
  assert.ok(e instanceof OpenAI.PermissionDeniedError, `got ${e}`);
  // the allow-list is applied to provider/model exactly as to public names
  e = await rejects(asc.client(k2).chat.completions.create({ model: 'upslow/mock-fast', messages: USER }));
  assert.ok(e instanceof OpenAI.PermissionDeniedError, `got ${e}`);
  assert.deepEqual(await mock.apiRequests(), [], 'a denied request reached the upstream');
});

test('AuthenticationError for a bad key, a missing key, and x-api-key auth works', T, async () => {
  await mock.clear();
  let e = await rejects(asc.client(newKey()).chat.completions.create({ model: 'm1', messages: USER }));
  assert.ok(e instanceof OpenAI.AuthenticationError, `got ${e}`);
  assert.equal(e.status, 401);
  assert.equal(e.code, 'invalid_api_key');
  assert.equal(e.type, 'authentication_error');
  // a key that differs only in the last character
  e = await rejects(asc.client(k1.slice(0, -1) + (k1.endsWith('a') ? 'b' : 'a')).models.list());
  assert.ok(e instanceof OpenAI.AuthenticationError, `got ${e}`);
  const r = await asc.request('POST', '/v1/chat/completions', { body: { model: 'm1', messages: USER } });
  assert.equal(r.status, 401);
  assert.equal(r.json?.error?.code, 'invalid_api_key');
  assert.deepEqual(await mock.apiRequests(), [], 'an unauthenticated request reached the upstream');
  const ok = await asc.request('POST', '/v1/chat/completions', {
    headers: { 'x-api-key': k1 },
    body: { model: 'm3', messages: USER },
  });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.choices[0].message.content, mockText(3));
});

test('RateLimitError for an upstream 429 (retries off), Retry-After relayed', T, async () => {
  await mock.clear();
  const e = await rejects(
    asc.client(k1).chat.completions.create({ model: 'up/mock-fast@fault=429,retry_after=7', messages: USER }),
  );
  assert.ok(e instanceof OpenAI.RateLimitError, `got ${e}`);
  assert.equal(e.status, 429);
  assert.equal(e.code, 'rate_limited');
  assert.equal(e.headers.get('retry-after'), '7');
});

test('upstream 500 → APIError status 502 upstream_error', T, async () => {
  const e = await rejects(asc.client(k1).chat.completions.create({ model: 'up/mock-fast@fault=500', messages: USER }));
  assert.ok(e instanceof OpenAI.APIError, `got ${e}`);
  assert.equal(e.status, 502);
  assert.equal(e.code, 'upstream_error');
  assert.equal(e.type, 'api_error');
});

test('upstream 401 (bad provider key) → 502, not a 401 for the client', T, async () => {
  const e = await rejects(asc.client(k1).chat.completions.create({ model: 'up/mock-fast@fault=401', messages: USER }));
  assert.ok(e instanceof OpenAI.APIError, `got ${e}`);
  assert.equal(e.status, 502);
  assert.equal(e.code, 'upstream_error');
});

test('upstream 400 → 400 relayed with the upstream message', T, async () => {
  const e = await rejects(asc.client(k1).chat.completions.create({ model: 'up/mock-fast@fault=400', messages: USER }));
  assert.ok(e instanceof OpenAI.BadRequestError, `got ${e}`);
  assert.equal(e.status, 400);
  assert.equal(e.type, 'invalid_request_error');
});

test('upstream stall before the first byte → 504 upstream_timeout after first_byte_timeout', T, async () => {
  const t0 = performance.now();
  const e = await rejects(asc.client(k1).chat.completions.create({ model: 'stallfirst', messages: USER }));
  const dt = performance.now() - t0;
  assert.ok(e instanceof OpenAI.APIError, `got ${e}`);
  assert.equal(e.status, 504);
  assert.equal(e.code, 'upstream_timeout');
  assert.ok(dt >= ms(500) * 0.9, `504 after ${dt} ms, before the ${ms(500)} ms first-byte timeout`);
  assert.ok(dt < ms(500) + ms(5000), `504 took ${dt} ms`);
});

test('mid-stream error_event → the for-await throws (no clean truncated success)', T, async () => {
  const stream = await asc.client(k1).chat.completions.create({
    model: 'up/mock-fast@fault=error_event,fault_after=3',
    messages: USER,
    stream: true,
  });
  const { text, error } = await drainStream(stream);
  assert.ok(error instanceof OpenAI.APIError, `expected APIError, got ${error} (text ${JSON.stringify(text)})`);
  assert.equal(text, mockText(3));
});

test('mid-stream reset_mid → the for-await throws upstream_error', T, async () => {
  const stream = await asc.client(k1).chat.completions.create({
    model: 'up/mock-fast@fault=reset_mid,fault_after=3',
    messages: USER,
    stream: true,
  });
  const { text, error } = await drainStream(stream);
  assert.ok(error, `stream ended cleanly after ${JSON.stringify(text)}`);
  assert.ok(error instanceof OpenAI.APIError, `expected APIError, got ${error}`);
  assert.equal(error.code, 'upstream_error');
  assert.equal(text, mockText(3));
});

test('mid-stream stall_mid with idle_timeout → the for-await throws upstream_timeout', T, async () => {
  const t0 = performance.now();
  const stream = await asc.client(k1).chat.completions.create({ model: 'stallmid', messages: USER, stream: true });
  const { text, error } = await drainStream(stream);
  const dt = performance.now() - t0;
  assert.ok(error, `stream ended cleanly after ${JSON.stringify(text)}`);
  assert.ok(error instanceof OpenAI.APIError, `expected APIError, got ${error}`);
  assert.equal(error.code, 'upstream_timeout');
  assert.equal(text, mockText(3));
  assert.ok(dt < ms(500) + ms(5000), `idle timeout took ${dt} ms`);
});

test('404 model_not_found for unknown models and providers', T, async () => {
  for (const model of ['no-such-model', 'nosuchprovider/mock-fast']) {
    const e = await rejects(asc.client(k1).chat.completions.create({ model, messages: USER }));
    assert.ok(e instanceof OpenAI.NotFoundError, `${model}: got ${e}`);
    assert.equal(e.code, 'model_not_found', model);
    assert.equal(e.type, 'invalid_request_error', model);
  }
  const e = await rejects(asc.client(k1).embeddings.create({ model: 'no-such-embedder', input: 'x' }));
  assert.ok(e instanceof OpenAI.NotFoundError, `got ${e}`);
});

test('unknown path → 404 not_found; wrong method → 405; healthz/readyz', T, async () => {
  let r = await asc.request('POST', '/v1/nothing-here', { key: k1, body: {} });
  assert.equal(r.status, 404);
  assert.equal(r.json?.error?.code, 'not_found');
  r = await asc.request('GET', '/v1/chat/completions', { key: k1 });
  assert.equal(r.status, 405);
  assert.equal(r.json?.error?.code, 'method_not_allowed');
  r = await asc.request('GET', '/healthz');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ok' });
  r = await asc.request('GET', '/readyz');
  assert.equal(r.status, 200);
});

test('x-request-id: valid inbound echoed, invalid replaced, generated ids unique, on errors too', T, async () => {
  const c = asc.client(k1);
  const mine = 'it-req.1:AbC_z-9';
  const { response } = await c.chat.completions
    .create({ model: 'm3', messages: USER }, { headers: { 'x-request-id': mine } })
    .withResponse();
  assert.equal(response.headers.get('x-request-id'), mine);

  const valid = /^[A-Za-z0-9._:-]{1,128}$/;
  for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', 'quote"d']) {
    const r = await asc.request('GET', '/v1/models', { key: k1, headers: { 'x-request-id': bad } });
    const id = r.headers.get('x-request-id');
    assert.ok(id && valid.test(id), `invalid inbound ${JSON.stringify(bad)} gave ${JSON.stringify(id)}`);
    assert.notEqual(id, bad);
  }
  const a = await asc.request('GET', '/v1/models', { key: k1 });
  const b = await asc.request('GET', '/v1/models', { key: k1 });
  const ia = a.headers.get('x-request-id');
  const ib = b.headers.get('x-request-id');
  assert.ok(valid.test(ia) && valid.test(ib));
  assert.notEqual(ia, ib, 'generated request ids repeat');
  // errors carry it too, and the SDK exposes it
  const e = await rejects(
    c.chat.completions.create({ model: 'no-such-model', messages: USER }, { headers: { 'x-request-id': 'err-id-1' } }),
  );
  assert.equal(e.requestID, 'err-id-1');
  const u = await asc.request('GET', '/nowhere', { headers: { 'x-request-id': 'err-id-2' } });
  assert.equal(u.status, 404);
  assert.equal(u.headers.get('x-request-id'), 'err-id-2');
});

test('access log: one JSON line per request with names, usage and events, no prompt or key', T, async () => {
  const id = `acc-${Date.now()}`;
  const msgs = [{ role: 'user', content: `please ignore ${PROMPT_CANARY}` }];
  await asc.client(k1).chat.completions.create({ model: 'm3', messages: msgs }, { headers: { 'x-request-id': id } });
  const e = await asc.waitAccess((x) => x.request_id === id);
  assert.equal(e.method, 'POST');
  assert.equal(e.path, '/v1/chat/completions');
  assert.equal(e.status, 200);
  assert.equal(e.key, 'k1');
  assert.equal(e.model, 'm3');
  assert.equal(e.provider, 'up');
  assert.equal(e.upstream_model, 'mock-fast@tokens=3');
  assert.equal(e.stream, false);
  assert.ok(['number', 'string'].includes(typeof e.ts), `ts: ${JSON.stringify(e.ts)}`);
  assert.equal(typeof e.duration_ms, 'number');
  assert.equal(e.usage.completion_tokens, 3);
  assert.equal(e.usage.prompt_tokens, mockPromptTokens(msgs));
  assert.equal(e.usage.total_tokens, mockPromptTokens(msgs) + 3);
  assert.ok(Array.isArray(e.events), 'events is an array');
  const evs = e.events.map((x) => x.ev);
  for (const want of ['auth', 'model', 'attempt', 'upstream_status', 'done']) {
    assert.ok(evs.includes(want), `events lack ${want}: ${JSON.stringify(evs)}`);
  }
  for (const x of e.events) assert.equal(typeof x.t_ms, 'number');

  const id2 = `acc2-${Date.now()}`;
  await rejects(asc.client(k1).chat.completions.create({ model: 'up/mock-fast@fault=500', messages: USER }, { headers: { 'x-request-id': id2 } }));
  const e2 = await asc.waitAccess((x) => x.request_id === id2);
  assert.equal(e2.status, 502);
  assert.equal(e2.error, 'upstream_error');

  const out = await allOutput(asc);
  assert.ok(!out.includes(PROMPT_CANARY), 'prompt text appears in asc output or the access log');
});

// Keep this last: it checks everything the file did.
test('secrets: provider key canary and virtual keys never leak (logs, access log, responses)', T, async () => {
  // exercise paths that mention keys: bad key, upstream auth failure, errors
  await rejects(asc.client(`${k1}x`).models.list());
  await rejects(asc.client(k1).chat.completions.create({ model: 'up/mock-fast@fault=401', messages: USER }));
  await asc.request('POST', '/v1/chat/completions', { headers: { 'x-api-key': k2 }, body: '{bad json' });
  const out = await allOutput(asc);
  const responses = transcriptText();
  assert.ok(responses.length > 1000, 'the transcript recorded the responses of this file');
  for (const [name, secret] of [
    ['provider key', UP_KEY],
    ['k1', k1],
    ['k2', k2],
    ['k3', k3],
  ]) {
    assert.ok(!out.includes(secret), `${name} appears in asc stdout/stderr/access log`);
    assert.ok(!responses.includes(secret), `${name} appears in a response`);
  }
  // and the mock's own log is not the thing leaking: it saw the key (sanity check that the canary is real)
  const reqs = await mock.apiRequests();
  assert.ok(reqs.some((r) => r.headers.authorization === `Bearer ${UP_KEY}`));
});

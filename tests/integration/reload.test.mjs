// ADVERSARIAL.md row 21: SIGHUP config reload under load. Every request in
// flight succeeds and is answered entirely by the old or entirely by the new
// config; an invalid config keeps the old one.
//
// Old config: model `r` → provider `upa` (mock A, key A) with 4 tokens.
// New config: model `r` → provider `upb` (mock B, key B) with 7 tokens; `upa`
// is gone. Each mock demands its own key, so any mix of old and new (model
// table vs provider table vs credential) fails or shows up as a mismatch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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
  waitUntil,
  recordingFetch,
} from './lib/harness.mjs';

const KA = canary('keya');
const KB = canary('keyb');
const key = newKey();
const T = { timeout: ms(180000) };

let mockA;
let mockB;
let asc;

const OLD = () => ({
  server: serverSection({ max_connections: 2000, access_log: asc?.accessLogPath }),
  providers: [{ name: 'upa', kind: 'openai-compatible', base_url: `${mockA.url}/v1`, api_key: 'env:KA' }],
  models: {
    r: { provider: 'upa', model: 'mock-fast@tokens=4,latency_ms=200' },
    stable: { provider: 'upa', model: 'mock-fast@tokens=2' },
  },
  keys: [{ name: 'k', key: `sha256:${sha256(key)}`, models: ['*'] }],
});
const NEW = () => ({
  server: serverSection({ max_connections: 2000, access_log: asc.accessLogPath }),
  providers: [{ name: 'upb', kind: 'openai-compatible', base_url: `${mockB.url}/v1`, api_key: 'env:KB' }],
  models: {
    r: { provider: 'upb', model: 'mock-fast@tokens=7,latency_ms=200' },
    stable: { provider: 'upb', model: 'mock-fast@tokens=2' },
  },
  keys: [{ name: 'k', key: `sha256:${sha256(key)}`, models: ['*'] }],
});

before(async () => {
  mockA = await startMock({ args: ['--require-key', KA], name: 'asc-mock-A' });
  mockB = await startMock({ args: ['--require-key', KB], name: 'asc-mock-B' });
  const cfg = OLD();
  delete cfg.server.access_log; // startAsc puts it in its temp dir
  asc = await startAsc({ config: cfg, env: { KA, KB } });
});

after(async () => {
  await stopAll(asc, mockA, mockB);
});

let seq = 0;
async function ask(model = 'r') {
  const id = `rl-${++seq}`;
  try {
    const res = await recordingFetch(`${asc.baseURL}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'x-request-id': id },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: `request ${id}` }] }),
    });
    const text = await res.text();
    return { id, status: res.status, text, provider: res.headers.get('x-asc-provider') };
  } catch (e) {
    // a broken response (e.g. an invalid header) is a failed request, not a test crash
    const cause = e.cause ? ` (${e.cause.code ?? ''} ${e.cause.message ?? e.cause})` : '';
    return { id, status: 'error', text: `${e.message}${cause}` };
  }
}

function classify(r) {
  if (r.status !== 200) return `status ${r.status}: ${r.text.slice(0, 200)}`;
  const c = JSON.parse(r.text).choices[0].message.content;
  let kind;
  if (c === mockText(4)) kind = 'old';
  else if (c === mockText(7)) kind = 'new';
  else return `mixed content ${JSON.stringify(c)}`;
  // asc names the provider in x-asc-provider; when present it must belong to
  // the same config as the answer
  const want = kind === 'old' ? 'upa' : 'upb';
  if (r.provider !== null && r.provider !== undefined && r.provider !== want) {
    return `${kind} answer with x-asc-provider ${JSON.stringify(r.provider)}`;
  }
  return kind;
}

test('adversarial #21: SIGHUP reload with 200 requests in flight — all succeed, each old or new', T, async () => {
  // warm-up: old mapping in effect
  assert.equal(classify(await ask()), 'old');

  await mockA.clear();
  const wave1 = Array.from({ length: 200 }, () => ask());
  // reload only once the old config's requests are really in flight upstream
  await waitUntil(async () => (await mockA.apiRequests()).length >= 20, {
    timeout: ms(20000),
    what: 'requests in flight at mock A',
  });
  const from = asc.proc.stderr.length;
  await asc.writeConfig(NEW());
  asc.proc.signal('SIGHUP');
  // a second wave races the reload itself
  const wave2 = Array.from({ length: 200 }, () => ask());
  const m = await asc.proc.waitForOutput(/asc: info: reloaded config \(revision (\d+)\)|asc: error: reload failed[^\n]*/, {
    from,
    timeout: ms(20000),
  });
  assert.ok(m[1], `reload failed: ${m[0]}`);
  const results = await Promise.all([...wave1, ...wave2]);
  const kinds = results.map(classify);
  const bad = kinds.filter((k) => k !== 'old' && k !== 'new');
  assert.deepEqual(bad.slice(0, 3), [], `${bad.length} of ${results.length} requests failed or mixed`);
  const w1 = kinds.slice(0, 200);
  assert.ok(w1.filter((k) => k === 'old').length >= 20, 'requests in flight before the reload were served by the old config');

  // the access log agrees, request by request: provider and upstream model
  // belong to the same config as the answer
  const entries = await waitUntil(
    async () => {
      const log = await asc.accessLog();
      const byId = new Map(log.map((e) => [e.request_id, e]));
      return results.every((r) => byId.has(r.id)) ? byId : null;
    },
    { timeout: ms(20000), what: 'access log entries for all 400 requests' },
  );
  for (let i = 0; i < results.length; i++) {
    const e = entries.get(results[i].id);
    const want =
      kinds[i] === 'old'
        ? { provider: 'upa', upstream_model: 'mock-fast@tokens=4,latency_ms=200' }
        : { provider: 'upb', upstream_model: 'mock-fast@tokens=7,latency_ms=200' };
    assert.deepEqual({ provider: e.provider, upstream_model: e.upstream_model }, want, `request ${results[i].id}`);
  }

  // after the reload line, everything is new
  for (let i = 0; i < 5; i++) assert.equal(classify(await ask()), 'new');
  await mockA.clear();
  await ask('stable');
  assert.deepEqual(await mockA.apiRequests(), [], 'the removed provider still receives traffic');
});

test('adversarial #21: an invalid config + SIGHUP keeps the old config', T, async () => {
  // the current (new) config is in effect
  assert.equal(classify(await ask()), 'new');
  const invalid = [
    ['YAML syntax error', 'server: { listen: [\n  models: ::: {'],
    [
      'model pointing at an unknown provider',
      (() => {
        const c = NEW();
        c.models.r.provider = 'nope';
        return c;
      })(),
    ],
    [
      'plaintext key',
      (() => {
        const c = NEW();
        c.keys[0].key = key;
        return c;
      })(),
    ],
    ['empty file', ''],
  ];
  for (const [name, cfg] of invalid) {
    const inflight = Array.from({ length: 20 }, () => ask());
    const out = await asc.reload(cfg);
    assert.equal(out.ok, false, `${name}: reloaded an invalid config`);
    const results = await Promise.all(inflight);
    for (const r of results) assert.equal(classify(r), 'new', `${name}: in-flight request`);
    for (let i = 0; i < 3; i++) assert.equal(classify(await ask()), 'new', `${name}: after the failed reload`);
  }
  assert.ok(!asc.proc.stderr.includes(key), 'the plaintext key from the invalid config was echoed');
  // and a valid config after failures applies
  const back = await asc.reload(OLD());
  assert.equal(back.ok, true);
  assert.equal(classify(await ask()), 'old');
});

// Routing and resilience end to end, with the official openai SDK as the
// client and asc-mock (faults by model name and runtime overrides) as every
// provider: weighted split and stickiness (checked statistically), fallback
// sequences (429 + Retry-After, 500, 529, reset, stall before the first
// byte, error event before content, context length), no fallback after the
// first byte, retry budgets, circuit breakers, the canary guard, residency,
// shadows, /v1/route/explain and the x-asc-* headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMock,
  startAsc,
  stopAll,
  serverSection,
  newKey,
  sha256,
  mockPromptTokens,
  drainStream,
  rejects,
  ms,
  waitUntil,
} from './lib/harness.mjs';

const kAll = newKey(); // any region
const kEu = newKey(); // regions: [eu]
const T = { timeout: ms(120000) };

let mock;
let asc;
let config;
let client;
let clientEu;

// |observed - n p| within 5 binomial standard deviations (a correct router
// fails this about once in 3.5 million runs)
function assertShare(observed, n, p, what) {
  const sd = Math.sqrt(n * p * (1 - p));
  const d = Math.abs(observed - n * p);
  assert.ok(d <= 5 * sd + 1, `${what}: ${observed} of ${n}, expected ${(n * p).toFixed(1)} ± ${(5 * sd).toFixed(1)}`);
}

async function override(name, params) {
  const r = await fetch(`${mock.url}/__mock/overrides/${encodeURIComponent(name)}`, {
    method: params === null ? 'DELETE' : 'PUT',
    body: params === null ? undefined : params,
  });
  assert.ok(r.status === 204 || (params === null && r.status === 404), `override ${name}: ${r.status}`);
}

async function mockModels() {
  return (await mock.apiRequests()).map((r) => JSON.parse(r.body ?? '{}').model);
}

const MSG = [{ role: 'user', content: 'route me' }];

async function chat(model, { c = client, stream = false, user } = {}) {
  const body = { model, messages: MSG };
  if (user) body.user = user;
  if (stream) body.stream = true;
  const { data, response } = await c.chat.completions.create(body).withResponse();
  const h = (n) => response.headers.get(n);
  if (stream) {
    const r = await drainStream(data);
    return { ...r, target: h('x-asc-target'), attempts: Number(h('x-asc-attempts')), route: h('x-asc-route'), response };
  }
  return { data, target: h('x-asc-target'), attempts: Number(h('x-asc-attempts')), route: h('x-asc-route'), response };
}

async function entryFor(requestId) {
  return asc.waitAccess((e) => e.request_id === requestId && !e.shadow, { what: `access entry ${requestId}` });
}

before(async () => {
  mock = await startMock({ args: ['--workers', '2'] });
  const v1 = `${mock.url}/v1`;
  const quick = { first_byte_timeout_ms: ms(600), idle_timeout_ms: ms(600) };
  config = {
    server: serverSection({ workers: 2 }),
    providers: [
      { name: 'eu', kind: 'openai-compatible', base_url: v1, region: 'eu', ...quick },
      { name: 'us', kind: 'openai-compatible', base_url: v1, region: 'us', ...quick },
      { name: 'anth', kind: 'anthropic', base_url: mock.url, region: 'eu', ...quick },
    { name: 'patient', kind: 'openai-compatible', base_url: v1, region: 'eu' },
    ],
    models: {
      split: {
        targets: [
          { provider: 'eu', model: 'split-a', weight: 70 },
          { provider: 'eu', model: 'split-b', weight: 28 },
          { provider: 'eu', model: 'split-c', weight: 2 },
        ],
        fallbacks: [{ provider: 'us', model: 'split-fallback' }],
      },
      sticky: {
        sticky: 'user',
        targets: [
          { provider: 'eu', model: 'sticky-base', weight: 80 },
          { provider: 'eu', model: 'sticky-variant', weight: 20 },
        ],
      },
      'fb-429': {
        retries: 1,
        max_retry_after_ms: 3000,
        targets: [{ provider: 'eu', model: 'r429@fault=429,retry_after=1' }],
        fallbacks: [{ provider: 'eu', model: 'after-429' }],
      },
      'fb-long-retry-after': {
        retries: 3,
        max_retry_after_ms: 2000,
        targets: [{ provider: 'eu', model: 'r429long@fault=429,retry_after=30' }],
        fallbacks: [{ provider: 'eu', model: 'after-long' }],
      },
      'fb-500': {
        targets: [{ provider: 'eu', model: 'r500@fault=500' }],
        fallbacks: [{ provider: 'anth', model: 'claude-fallback' }],
      },
      'fb-529': {
        targets: [{ provider: 'anth', model: 'r529@fault=529' }],
        fallbacks: [{ provider: 'eu', model: 'after-529' }],
      },
      'fb-reset': {
        targets: [{ provider: 'eu', model: 'rreset@fault=reset' }],
        fallbacks: [{ provider: 'eu', model: 'after-reset' }],
      },
      'fb-stall': {
        targets: [{ provider: 'eu', model: 'rstall@fault=stall' }],
        fallbacks: [{ provider: 'eu', model: 'after-stall' }],
      },
      'fb-stall-mid': {
        targets: [{ provider: 'eu', model: 'rstallmid@fault=stall_mid,fault_after=3' }],
        fallbacks: [{ provider: 'eu', model: 'after-stall-mid' }],
      },
      'fb-error-event': {
        targets: [{ provider: 'eu', model: 'revent@fault=error_event,fault_after=0' }],
        fallbacks: [{ provider: 'eu', model: 'after-event' }],
      },
      'fb-context': {
        targets: [{ provider: 'eu', model: 'small@fault=context' }],
        fallbacks: [{ provider: 'eu', model: 'large-context' }],
      },
      'fb-400': {
        targets: [{ provider: 'eu', model: 'bad@fault=400' }],
        fallbacks: [{ provider: 'eu', model: 'never-400' }],
      },
      budget: {
        retries: 10,
        backoff_ms: 50,
        timeout_ms: 1500, // not scaled: the test counts the attempts that fit
        targets: [{ provider: 'eu', model: 'rbudget@fault=429,retry_after=1' }],
      },
      breaker: {
        breaker: { failures: 3, error_rate: 0, cooldown_ms: ms(1500) },
        targets: [{ provider: 'eu', model: 'flaky' }],
        fallbacks: [{ provider: 'eu', model: 'breaker-backup' }],
      },
      dead: {
        breaker: { failures: 2, error_rate: 0, cooldown_ms: 60000 },
        targets: [{ provider: 'eu', model: 'dead@fault=503,retry_after=0' }],
      },
      canary: {
        breaker: { failures: 0, error_rate: 0 },
        canary_guard: { window_ms: 60000, min_requests: 20, max_error_rate_delta: 0.1 },
        targets: [
          { provider: 'eu', model: 'canary-base', weight: 70 },
          { provider: 'eu', model: 'canary-new@fault=500,fault_rate=0.3', weight: 30, canary: true },
        ],
      },
      resid: {
        targets: [{ provider: 'eu', model: 'resid-eu@fault=500' }],
        fallbacks: [{ provider: 'us', model: 'resid-us' }],
      },
      usonly: { provider: 'us', model: 'us-model' },
    thinker: { provider: 'patient', model: 'thinker@ttft_ms=6000,tokens=2' },
      shadowed: {
        targets: [{ provider: 'eu', model: 'primary' }],
        shadow: [
          { provider: 'us', model: 'shadow-ok@latency_ms=30' },
          { provider: 'eu', model: 'shadow-fail@fault=500' },
        ],
      },
    },
    keys: [
      { name: 'all', key: `sha256:${sha256(kAll)}` },
      { name: 'eu-only', key: `sha256:${sha256(kEu)}`, regions: ['eu'] },
    ],
  };
  asc = await startAsc({ config });
  client = asc.client(kAll);
  clientEu = asc.client(kEu);
});

after(async () => {
  await stopAll(asc, mock);
});

test('weighted split: 10,000 requests honour 70/28/2 within binomial tolerance', T, async () => {
  const n = 10000;
  const counts = {};
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const r = await chat('split');
      assert.equal(r.attempts, 1);
      assert.equal(r.route, 'split');
      counts[r.target] = (counts[r.target] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  assert.deepEqual(Object.keys(counts).sort(), ['eu/split-a', 'eu/split-b', 'eu/split-c']);
  assertShare(counts['eu/split-a'], n, 0.7, 'split-a');
  assertShare(counts['eu/split-b'], n, 0.28, 'split-b');
  assertShare(counts['eu/split-c'], n, 0.02, 'split-c');
});

test('sticky by user: each user always gets the same variant, 80/20 across users', T, async () => {
  const users = 1500;
  const seen = new Map();
  for (let round = 0; round < 3; round++) {
    const order = Array.from({ length: users }, (_, i) => i);
    if (round === 1) order.reverse();
    let next = 0;
    const worker = async () => {
      while (next < users) {
        const u = order[next++];
        const r = await chat('sticky', { user: `user-${u}` });
        const prev = seen.get(u);
        if (prev === undefined) seen.set(u, r.target);
        else assert.equal(r.target, prev, `user-${u} moved from ${prev} to ${r.target}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  }
  const variant = [...seen.values()].filter((t) => t === 'eu/sticky-variant').length;
  assertShare(variant, users, 0.2, 'sticky-variant users');
  // the streaming and Responses paths choose the same way
  const s = await chat('sticky', { user: 'user-7', stream: true });
  assert.equal(s.target, seen.get(7));
});

test('429 with Retry-After: retried after the delay, then the fallback answers', T, async () => {
  await mock.clear();
  const t0 = Date.now();
  const r = await chat('fb-429');
  const elapsed = Date.now() - t0;
  assert.equal(r.target, 'eu/after-429');
  assert.equal(r.attempts, 3);
  assert.ok(elapsed >= 1000, `the retry waited for Retry-After (${elapsed} ms)`);
  assert.deepEqual(await mockModels(), ['r429@fault=429,retry_after=1', 'r429@fault=429,retry_after=1', 'after-429']);
  const e = await entryFor(r.response.headers.get('x-request-id'));
  const ends = e.events.filter((x) => x.ev === 'attempt_end').map((x) => `${x.outcome}:${x.next}`);
  assert.deepEqual(ends, ['rate_limit:retry', 'rate_limit:fallback', 'ok:answer']);
  assert.equal(e.route, 'fb-429');
  assert.equal(e.target, 'eu/after-429');
  assert.equal(e.attempts, 3);
  // each attempt is counted once: usage is the answering attempt's
  assert.equal(e.usage.prompt_tokens, mockPromptTokens(MSG));
  assert.equal(e.usage.estimated, false);
});

test('a Retry-After beyond max_retry_after_ms falls back at once', T, async () => {
  const t0 = Date.now();
  const r = await chat('fb-long-retry-after');
  assert.equal(r.target, 'eu/after-long');
  assert.equal(r.attempts, 2);
  assert.ok(Date.now() - t0 < ms(5000), 'no 30 s wait');
});

test('500 falls back to a provider of another kind (anthropic), translated for the client', T, async () => {
  const r = await chat('fb-500');
  assert.equal(r.target, 'anth/claude-fallback');
  assert.equal(r.attempts, 2);
  assert.equal(r.data.object, 'chat.completion');
  assert.ok(r.data.choices[0].message.content.length > 0);
  const s = await chat('fb-500', { stream: true });
  assert.equal(s.error, null);
  assert.equal(s.target, 'anth/claude-fallback');
  assert.ok(s.text.length > 0);
});

test('529 overloaded, connection reset and a stall before the first byte fall back', T, async () => {
  for (const [model, target] of [
    ['fb-529', 'eu/after-529'],
    ['fb-reset', 'eu/after-reset'],
    ['fb-stall', 'eu/after-stall'],
  ]) {
    const r = await chat(model);
    assert.equal(r.target, target, model);
    assert.equal(r.attempts, 2, model);
    const s = await chat(model, { stream: true });
    assert.equal(s.error, null, model);
    assert.equal(s.target, target, model);
  }
  const e = await entryFor((await chat('fb-stall')).response.headers.get('x-request-id'));
  assert.equal(e.events.find((x) => x.ev === 'attempt_end').outcome, 'timeout');
});

test('an error event before any content falls back; the client sees one clean stream', T, async () => {
  const s = await chat('fb-error-event', { stream: true });
  assert.equal(s.error, null);
  assert.equal(s.target, 'eu/after-event');
  assert.equal(s.attempts, 2);
  assert.ok(s.text.length > 0);
  assert.equal(s.chunks.filter((c) => c.choices?.[0]?.delta?.role === 'assistant').length, 1);
});

test('a stall mid-stream (after content) is not switched: it ends with an error event', T, async () => {
  await mock.clear();
  const s = await chat('fb-stall-mid', { stream: true });
  assert.ok(s.error, 'the stream failed');
  assert.match(String(s.error.message), /timeout|idle/i);
  assert.equal(s.text, 'Lorem ipsum dolor');
  assert.equal(s.attempts, 1);
  assert.ok(!(await mockModels()).includes('after-stall-mid'), 'no fallback after the first byte');
});

test('a slow first token: the stream starts after at most 3 s of holding, then completes', T, async () => {
  const t0 = Date.now();
  const { data, response } = await client.chat.completions
    .create({ model: 'thinker', messages: MSG, stream: true })
    .withResponse();
  const headersAt = Date.now() - t0;
  const r = await drainStream(data);
  const doneAt = Date.now() - t0;
  assert.equal(response.status, 200);
  assert.ok(headersAt >= 2500 && headersAt < 5500, `headers after ${headersAt} ms`);
  assert.ok(doneAt >= 6000, `content after the 6 s think (${doneAt} ms)`);
  assert.equal(r.error, null);
  assert.equal(r.text, 'Lorem ipsum');
});

test('context length exceeded falls back to a larger model; another 400 does not', T, async () => {
  const r = await chat('fb-context');
  assert.equal(r.target, 'eu/large-context');
  assert.equal(r.attempts, 2);
  await mock.clear();
  const err = await rejects(chat('fb-400'));
  assert.equal(err.status, 400);
  assert.equal(err.headers.get('x-asc-attempts'), '1');
  assert.equal(err.headers.get('x-asc-target'), 'eu/bad@fault=400');
  assert.ok(!(await mockModels()).includes('never-400'));
});

test('retry budget: retries stop when the route time budget cannot cover the next wait', T, async () => {
  await mock.clear();
  const t0 = Date.now();
  const err = await rejects(chat('budget'));
  const elapsed = Date.now() - t0;
  assert.equal(err.status, 429);
  assert.equal(err.headers.get('retry-after'), '1');
  // attempt, 1 s Retry-After, attempt; a third would end past 1.5 s
  assert.equal(err.headers.get('x-asc-attempts'), '2');
  assert.equal((await mockModels()).length, 2);
  assert.ok(elapsed >= 1000 && elapsed < 1500 + ms(1000), `elapsed ${elapsed} ms`);
});

test('circuit breaker: opens after 3 failures, skips the target, probes after the cooldown, closes', T, async () => {
  await override('flaky', 'fault=500');
  for (let i = 0; i < 3; i++) {
    const r = await chat('breaker');
    assert.equal(r.target, 'eu/breaker-backup');
    assert.equal(r.attempts, 2);
  }
  await mock.clear();
  const skipped = await chat('breaker');
  assert.equal(skipped.target, 'eu/breaker-backup');
  assert.equal(skipped.attempts, 1, 'the open circuit costs no attempt');
  assert.deepEqual(await mockModels(), ['breaker-backup']);
  const ex = await asc.request('POST', '/v1/route/explain', { key: kAll, body: { model: 'breaker', messages: MSG } });
  assert.equal(ex.json.targets[0].circuit, 'open');
  assert.match(ex.json.targets[0].why, /^circuit open: retried in \d+ ms$/);
  // the provider recovers; after the cooldown one probe goes through and closes it
  await override('flaky', null);
  const probe = await waitUntil(
    async () => {
      const r = await chat('breaker');
      return r.target === 'eu/flaky' ? r : null;
    },
    { timeout: ms(10000), every: 100, what: 'the half-open probe' },
  );
  assert.equal(probe.attempts, 1);
  for (let i = 0; i < 5; i++) assert.equal((await chat('breaker')).target, 'eu/flaky');
});

test('every target open: 503 no_healthy_target with Retry-After, fast', T, async () => {
  for (let i = 0; i < 2; i++) assert.equal((await rejects(chat('dead'))).status, 503);
  await mock.clear();
  const t0 = Date.now();
  const err = await rejects(chat('dead'));
  assert.equal(err.status, 503);
  assert.equal(err.error?.code ?? err.code, 'no_healthy_target');
  assert.ok(Number(err.headers.get('retry-after')) > 0);
  assert.ok(Date.now() - t0 < ms(1000));
  assert.equal((await mockModels()).length, 0);
});

test('direct <provider>/<model> addressing has a breaker too (created by its first failure)', T, async () => {
  const model = 'eu/directdead@fault=503,retry_after=0';
  for (let i = 0; i < 5; i++) assert.equal((await rejects(chat(model))).status, 503);
  await mock.clear();
  const err = await rejects(chat(model));
  assert.equal(err.status, 503);
  assert.equal(err.error?.code ?? err.code, 'no_healthy_target');
  assert.equal(err.headers.get('x-asc-route'), 'direct');
  assert.equal((await mockModels()).length, 0);
  // an unknown direct name that never failed has nothing to trip
  const ok = await chat('eu/direct-healthy');
  assert.equal(ok.route, 'direct');
  assert.equal(ok.target, 'eu/direct-healthy');
});

test('canary guard: a canary failing 30% is rolled back automatically; clients keep being served', T, async () => {
  const start = Date.now();
  let canaryAttempts = 0;
  let i = 0;
  await waitUntil(
    async () => {
      const r = await chat('canary');
      i++;
      assert.equal(r.data.object, 'chat.completion', 'every client request is answered');
      if (r.target === 'eu/canary-new@fault=500,fault_rate=0.3' || r.attempts > 1) canaryAttempts++;
      const ex = await asc.request('POST', '/v1/route/explain', { key: kAll, body: { model: 'canary', messages: MSG } });
      return ex.json.targets[1].effective_weight === 0 ? ex : null;
    },
    { timeout: ms(60000), every: 0, what: 'the canary rollback' },
  );
  assert.ok(Date.now() - start < 60000, 'rolled back within the guard window');
  assert.ok(canaryAttempts >= 1);
  const ex = await asc.request('POST', '/v1/route/explain', { key: kAll, body: { model: 'canary', messages: MSG } });
  const t = ex.json.targets[1];
  assert.equal(t.kept, false);
  assert.match(t.why, /^canary rolled back: error rate \d+\.\d% over \d+ attempts vs baseline 0\.0%/);
  assert.equal(ex.json.plan.length, 1);
  assert.ok(ex.json.canary_rollbacks_total >= 1);
  await waitUntil(() => /canary rolled back: route canary target eu\/canary-new/.test(asc.proc.stderr), {
    what: 'the rollback log line',
  });
  // the baseline serves everything from now on
  await mock.clear();
  for (let k = 0; k < 40; k++) assert.equal((await chat('canary')).target, 'eu/canary-base');
  assert.ok((await mockModels()).every((m) => m === 'canary-base'));
});

test('residency: a key allowed only eu never leaves eu, not even on fallback', T, async () => {
  await mock.clear();
  const err = await rejects(chat('resid', { c: clientEu }));
  assert.equal(err.status, 502);
  assert.equal(err.headers.get('x-asc-attempts'), '1');
  assert.ok(!(await mockModels()).includes('resid-us'), 'the us fallback was never called');
  // a key without the restriction falls back to us
  assert.equal((await chat('resid')).target, 'us/resid-us');
  // a route with no eu target at all is a 403 naming the allowed regions
  const denied = await rejects(chat('usonly', { c: clientEu }));
  assert.equal(denied.status, 403);
  assert.equal(denied.code ?? denied.error?.code, 'residency_violation');
  assert.match(denied.message, /\(eu\)/);
  // direct addressing obeys it too
  const direct = await rejects(chat('us/anything', { c: clientEu }));
  assert.equal(direct.status, 403);
  const ex = await asc.request('POST', '/v1/route/explain', { key: kEu, body: { model: 'resid', messages: MSG } });
  assert.deepEqual(ex.json.allowed_regions, ['eu']);
  assert.equal(ex.json.targets[1].kept, false);
  assert.equal(ex.json.targets[1].why, 'residency: region us is not in eu');
});

test('shadow targets get a copy; their outcome is recorded, never returned', T, async () => {
  await mock.clear();
  const r = await chat('shadowed');
  assert.equal(r.target, 'eu/primary');
  const id = r.response.headers.get('x-request-id');
  const shadows = await waitUntil(
    async () => {
      const s = (await asc.accessLog()).filter((e) => e.request_id === id && e.shadow);
      return s.length === 2 ? s : null;
    },
    { what: 'two shadow records' },
  );
  const ok = shadows.find((e) => e.target === 'us/shadow-ok@latency_ms=30');
  const bad = shadows.find((e) => e.target === 'eu/shadow-fail@fault=500');
  assert.equal(ok.status, 200);
  assert.equal(ok.usage.prompt_tokens, mockPromptTokens(MSG));
  assert.ok(ok.duration_ms >= 30);
  assert.equal(bad.status, 500);
  assert.equal(bad.error, 'upstream_error');
  const models = await mockModels();
  assert.ok(models.includes('shadow-ok@latency_ms=30') && models.includes('shadow-fail@fault=500'));
  // the eu-only key does not mirror to us
  await mock.clear();
  await chat('shadowed', { c: clientEu });
  await waitUntil(async () => (await mockModels()).includes('shadow-fail@fault=500'), { what: 'the eu shadow' });
  assert.ok(!(await mockModels()).includes('shadow-ok@latency_ms=30'));
});

test('POST /v1/route/explain: the plan without calling a provider; same auth and policy as chat', T, async () => {
  await mock.clear();
  const ex = await asc.request('POST', '/v1/route/explain', { key: kAll, body: { model: 'split', messages: MSG } });
  assert.equal(ex.status, 200);
  assert.equal(ex.json.object, 'route.explain');
  assert.equal(ex.json.route, 'split');
  assert.equal(ex.json.choice, 'weighted');
  assert.deepEqual(
    ex.json.targets.map((t) => [t.target, t.group, t.share, t.kept]),
    [
      ['eu/split-a', 0, 0.7, true],
      ['eu/split-b', 0, 0.28, true],
      ['eu/split-c', 0, 0.02, true],
      ['us/split-fallback', 1, 1, true],
    ],
  );
  assert.equal(ex.json.plan.length, 4);
  assert.equal(ex.json.plan[3].target, 'us/split-fallback');
  assert.equal((await mockModels()).length, 0, 'no provider was called');
  assert.equal((await asc.request('POST', '/v1/route/explain', { body: { model: 'split', messages: MSG } })).status, 401);
  assert.equal((await asc.request('POST', '/v1/route/explain', { key: kAll, body: { model: 'nope', messages: MSG } })).status, 404);
  assert.equal((await asc.request('POST', '/v1/route/explain', { key: kAll, body: { model: 'split' } })).status, 400);
  assert.equal((await asc.request('GET', '/v1/route/explain', { key: kAll })).status, 405);
  const ex403 = await asc.request('POST', '/v1/route/explain', { key: kEu, body: { model: 'usonly', messages: MSG } });
  assert.equal(ex403.status, 200);
  assert.deepEqual(ex403.json.outcome, { status: 403, code: 'residency_violation' });
});

test('routes change on reload without dropping requests; weights apply at once', T, async () => {
  const inflight = Array.from({ length: 20 }, () => chat('split', { stream: true }));
  const next = structuredClone(config);
  next.models.split.targets[0].weight = 0;
  const res = await asc.reload(next);
  assert.ok(res.ok, JSON.stringify(res));
  for (const r of await Promise.all(inflight)) assert.equal(r.error, null);
  const after = new Set();
  for (let i = 0; i < 60; i++) after.add((await chat('split')).target);
  assert.ok(!after.has('eu/split-a'), 'weight 0: never chosen first');
  assert.ok(after.has('eu/split-b'));
  assert.ok((await asc.reload(config)).ok);
});

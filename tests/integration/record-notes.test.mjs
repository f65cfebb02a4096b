// DESIGN §9: a hint without a mapping that does not change the answer is
// dropped and noted in the execution record; one that would change it is a
// 400 naming the parameter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startAsc, stopAll, serverSection, newKey, sha256, ms, waitUntil } from './lib/harness.mjs';

const key = newKey();
let mock;
let asc;

before(async () => {
  mock = await startMock();
  asc = await startAsc({
    config: {
      server: serverSection(),
      providers: [{ name: 'anth', kind: 'anthropic', base_url: mock.url, api_key: 'env:ANTH_KEY' }],
      models: { claude: { provider: 'anth', model: 'mock-fast@tokens=2' } },
      keys: [{ name: 'k', key: `sha256:${sha256(key)}` }],
    },
    env: { ANTH_KEY: 'anthropic-upstream-key' },
  });
});

after(async () => {
  await stopAll(asc, mock);
});

test('dropped hints are named in the execution record; behaviour-changing ones are a 400', { timeout: ms(60000) }, async () => {
  const rid = `notes-${Date.now()}`;
  const r = await asc.request('POST', '/v1/chat/completions', {
    key,
    headers: { 'x-request-id': rid },
    body: { model: 'claude', seed: 7, messages: [{ role: 'user', content: 'hi' }] },
  });
  assert.equal(r.status, 200, r.text);
  const line = await waitUntil(async () => (await asc.accessLog()).find((l) => l.request_id === rid), {
    what: 'the access-log line',
  });
  const notes = line.events.filter((e) => e.ev === 'note').map((e) => e.note);
  assert.ok(notes.some((n) => /dropped: .*seed/.test(n)), `notes: ${JSON.stringify(notes)}`);

  const bad = await asc.request('POST', '/v1/chat/completions', {
    key,
    body: { model: 'claude', frequency_penalty: 0.5, messages: [{ role: 'user', content: 'hi' }] },
  });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error.message, /frequency_penalty/);
});

// `asc serve` on the built-in default config: the generated dev key is
// printed exactly once per data dir, persists across restarts, and an
// ASC_DEV_KEY from the environment is used and never printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, stat, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import OpenAI from 'openai';
import { startAsc, stopAll, newKey, mockText, ms, recordingFetch, transcriptText } from './lib/harness.mjs';

const T = { timeout: ms(60000) };
const DEV_RE = /asc: info: generated dev key: (sk-asc-\S+)/g;
// keep the built-in providers from picking up real credentials or hosts
const CLEAN_ENV = {
  OPENAI_API_KEY: null,
  ANTHROPIC_API_KEY: null,
  MISTRAL_API_KEY: null,
  OPENAI_BASE_URL: null,
  ANTHROPIC_BASE_URL: null,
  MISTRAL_BASE_URL: null,
  ASC_DEV_KEY: null,
  ASC_DATA_DIR: null,
};

function client(asc, apiKey) {
  return new OpenAI({ apiKey, baseURL: `${asc.baseURL}/v1`, maxRetries: 0, timeout: ms(30000), fetch: recordingFetch });
}

async function assertKeyWorks(asc, k) {
  const r = await client(asc, k).chat.completions.create({
    model: 'mock-fast',
    messages: [{ role: 'user', content: 'hello default config' }],
  });
  assert.equal(r.choices[0].message.content, mockText(16));
  const e = await client(asc, `${k}x`).models.list().then(
    () => null,
    (err) => err,
  );
  assert.ok(e instanceof OpenAI.AuthenticationError, `a wrong key was accepted (${e})`);
}

test('default config: the dev key is generated and printed once, and persists across restarts', T, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'asc-it-default-'));
  const dataDir = path.join(dir, 'data');
  let a;
  let b;
  try {
    a = await startAsc({ config: null, listen: '127.0.0.1:0', dataDir, dir, env: CLEAN_ENV });
    // the key is printed before or right after the listening line
    const m = await a.proc.waitForOutput(/asc: info: generated dev key: (sk-asc-\S+)/, { what: 'the dev key line' });
    const devKey = m[1];
    await assertKeyWorks(a, devKey);
    const printed = [...a.proc.stderr.matchAll(DEV_RE)];
    assert.equal(printed.length, 1, 'the dev key line appears once');
    assert.equal(a.proc.stdout.split(devKey).length - 1 + a.proc.stderr.split(devKey).length - 1, 1, 'the key text appears once in the output');
    // stored in the data dir, mode 0600
    const f = path.join(dataDir, 'dev-key');
    const st = await stat(f);
    assert.equal(st.mode & 0o777, 0o600, `dev-key mode ${(st.mode & 0o777).toString(8)}`);
    assert.ok((await readFile(f, 'utf8')).includes(devKey));
    await stopAll(a);
    a = null;

    b = await startAsc({ config: null, listen: '127.0.0.1:0', dataDir, dir, env: CLEAN_ENV });
    await assertKeyWorks(b, devKey);
    assert.ok(!b.proc.stderr.includes('generated dev key'), 'the dev key was generated again');
    assert.ok(!b.proc.stderr.includes(devKey) && !b.proc.stdout.includes(devKey), 'the dev key was printed again');
    assert.ok(!transcriptText().includes(devKey), 'the dev key appears in a response');
    await stopAll(b);
    b = null;
  } finally {
    await stopAll(a, b).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

test('default config: ASC_DEV_KEY is used and never printed', T, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'asc-it-default-'));
  const devKey = newKey();
  let a;
  try {
    a = await startAsc({
      config: null,
      listen: '127.0.0.1:0',
      dataDir: path.join(dir, 'data'),
      dir,
      env: { ...CLEAN_ENV, ASC_DEV_KEY: devKey },
    });
    await assertKeyWorks(a, devKey);
    assert.ok(!a.proc.stderr.includes('generated dev key'), 'a dev key was generated despite ASC_DEV_KEY');
    await stopAll(a);
    assert.ok(!a.proc.stderr.includes(devKey), 'ASC_DEV_KEY printed on stderr');
    assert.ok(!a.proc.stdout.includes(devKey), 'ASC_DEV_KEY printed on stdout (access log)');
    assert.ok(!transcriptText().includes(devKey), 'ASC_DEV_KEY appears in a response');
    a = null;
  } finally {
    await stopAll(a).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

test('default config: models list shows the in-process mock models', T, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'asc-it-default-'));
  const devKey = newKey();
  let a;
  try {
    a = await startAsc({ config: null, listen: '127.0.0.1:0', dataDir: path.join(dir, 'data'), dir, env: { ...CLEAN_ENV, ASC_DEV_KEY: devKey } });
    const ids = [];
    for await (const m of client(a, devKey).models.list()) ids.push(m.id);
    assert.ok(ids.includes('mock-fast'), `models: ${JSON.stringify(ids)}`);
    await stopAll(a);
    a = null;
  } finally {
    await stopAll(a).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
});

// Streaming backpressure: a client that stops reading must pause the
// upstream transfer instead of making asc buffer the stream; when the client
// reads again the stream completes intact.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startMock, startAsc, stopAll, serverSection, newKey, sha256, ms, waitUntil } from './lib/harness.mjs';

const key = newKey();
const TOKENS = 300000; // ~54 MB of SSE from the mock, far more than socket buffers hold
let mock;
let asc;

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
  return Number(m[1]);
}

before(async () => {
  mock = await startMock();
  asc = await startAsc({
    config: {
      server: serverSection({ workers: 1 }),
      providers: [{ name: 'up', kind: 'openai-compatible', base_url: `${mock.url}/v1` }],
      models: { big: { provider: 'up', model: `mock-fast@tokens=${TOKENS}` } },
      keys: [{ name: 'k', key: `sha256:${sha256(key)}` }],
    },
    // Under ASan freed memory sits in a quarantine and would look like growth.
    env: { ASAN_OPTIONS: 'quarantine_size_mb=1:detect_leaks=1' },
  });
});

after(async () => {
  await stopAll(asc, mock);
});

test('a client that stops reading pauses the upstream; asc memory stays bounded; the stream completes', { timeout: ms(120000) }, async () => {
  const body = JSON.stringify({ model: 'big', stream: true, messages: [{ role: 'user', content: 'hi' }] });
  const sock = net.connect(asc.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const rssBefore = rssKiB(asc.proc.pid);
  let received = 0;
  const chunks = [];
  sock.on('data', (d) => {
    received += d.length;
    chunks.push(d);
  });
  sock.write(
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  await waitUntil(() => received > 0, { what: 'first bytes of the stream' });
  sock.pause();
  // Give asc every chance to over-buffer: the mock can produce the whole
  // stream in well under this time when nothing holds it back.
  await new Promise((r) => setTimeout(r, ms(1500)));
  const pausedAt = received;
  const rssPaused = rssKiB(asc.proc.pid);
  const grewMiB = (rssPaused - rssBefore) / 1024;
  assert.ok(grewMiB < 12, `asc RSS grew by ${grewMiB.toFixed(1)} MiB while the client was not reading`);
  sock.resume();
  const done = new Promise((resolve, reject) => {
    const check = () => {
      const text = Buffer.concat(chunks).toString('latin1');
      if (text.includes('data: [DONE]')) resolve(text);
    };
    sock.on('data', check);
    sock.on('error', reject);
    sock.on('close', () => reject(new Error('connection closed before [DONE]')));
    check();
  });
  const text = await done;
  sock.destroy();
  assert.ok(received > pausedAt, 'the stream went on after the client resumed');
  // Every content token arrived, in order, exactly once.
  const contents = [];
  for (const m of text.matchAll(/"delta":\{"content":"([^"]*)"\}/g)) contents.push(m[1]);
  const words = contents.filter((c) => c !== '');
  assert.equal(words.length, TOKENS);
  assert.ok(!text.includes('"error"'), 'no error event');
});

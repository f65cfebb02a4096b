// Everything asc sent back to this test process (status, headers, bodies of
// SDK, fetch and raw-socket responses), so a test can assert that no secret
// ever appeared in a response. One transcript per test file (node --test runs
// each file in its own process).

const entries = [];

/** Append one response (or part of one) to the transcript. */
export function record(e) {
  entries.push(e);
}

/** The transcript as one string (for substring searches). */
export function transcriptText() {
  return entries
    .map((e) => {
      if (e.kind === 'raw') return e.data;
      return `${e.status} ${e.url}\n${e.headers}\n\n${e.body ?? ''}`;
    })
    .join('\n----\n');
}

export function transcriptCount() {
  return entries.length;
}

/**
 * fetch() that records each response's status, headers and body bytes as the
 * caller consumes them (the body is passed through a recording stream, so
 * streaming keeps working and a stalled stream still records what arrived).
 */
export async function recordingFetch(input, init) {
  const res = await fetch(input, init);
  const e = {
    kind: 'fetch',
    url: typeof input === 'string' ? input : input.url ?? String(input),
    status: res.status,
    headers: [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n'),
    body: '',
  };
  entries.push(e);
  if (!res.body) return res;
  const dec = new TextDecoder();
  const rec = new TransformStream({
    transform(chunk, ctl) {
      e.body += dec.decode(chunk, { stream: true });
      ctl.enqueue(chunk);
    },
  });
  return new Response(res.body.pipeThrough(rec), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

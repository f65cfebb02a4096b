// Issue 3: the official Mistral SDK (@mistralai/mistralai) against asc, whose
// /v1/chat/completions and /v1/embeddings it reaches with serverURL = asc's
// root, served from each upstream kind (openai, openai-compatible, anthropic,
// mistral — all asc-mock). The SDK validates every response with its own
// schemas, so this also checks that asc's OpenAI-shaped answers are what a
// Mistral client can read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { MistralError } from '@mistralai/mistralai/models/errors';
import { mockText, mockPromptTokens, ms } from './lib/harness.mjs';
import {
  KINDS,
  EMBED_KINDS,
  FAULTS,
  TOOLS,
  TOOL_ID,
  TOOL_PROMPT,
  TOOL_RESULT,
  WEATHER_ARGS,
  startDialects,
  chatModel,
  embedModel,
  direct,
  promptTokens,
  oneUpstream,
  upstreamAuthProblems,
  upstreamStops,
  upstreamMaxTokens,
  parseArgs,
  mustFail,
} from './lib/dialects.mjs';

const T = { timeout: ms(30000) };
let env;

before(async () => {
  env = await startDialects();
});

after(async () => {
  await env?.stop();
});

const SYS = 'You are a terse assistant.';
const USER = 'Say hello to the dialect suite';
const BASIC = [
  { role: 'system', content: SYS },
  { role: 'user', content: USER },
];
const TOOL_USER = [{ role: 'user', content: TOOL_PROMPT }];

const textOf = (content) =>
  typeof content === 'string' ? content : (content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('');

function checkToolCall(kind, tc) {
  assert.equal(tc.function.name, 'get_weather');
  assert.deepEqual(parseArgs(tc.function.arguments), WEATHER_ARGS);
  assert.match(tc.id, TOOL_ID[kind], `tool-call id ${tc.id} is not the upstream's`);
}

/** Drain chat.stream(): text, finish reasons, chunks with usage, tool-call deltas, error. */
async function drain(streamPromise) {
  const out = { text: '', finishes: [], usage: [], toolDeltas: [], chunks: 0, error: null };
  try {
    const stream = await streamPromise;
    for await (const ev of stream) {
      out.chunks++;
      const d = ev.data;
      if (d.usage) out.usage.push(d.usage);
      for (const ch of d.choices ?? []) {
        out.text += textOf(ch.delta?.content);
        if (ch.finishReason) out.finishes.push(ch.finishReason);
        for (const tc of ch.delta?.toolCalls ?? []) out.toolDeltas.push(tc);
      }
    }
  } catch (e) {
    out.error = e;
  }
  return out;
}

for (const kind of KINDS) {
  const model = chatModel(kind);

  test(`mistral-sdk → ${kind}: chat.complete text, finishReason, usage; upstream request`, T, async () => {
    await env.mock.clear();
    const r = await env.mistral().chat.complete({ model, messages: BASIC });
    assert.ok(typeof r.id === 'string' && r.id.length > 0);
    assert.equal(r.choices.length, 1);
    assert.equal(textOf(r.choices[0].message.content), mockText(16));
    assert.equal(r.choices[0].finishReason, 'stop');
    const pt = mockPromptTokens(BASIC);
    assert.deepEqual(
      { p: r.usage.promptTokens, c: r.usage.completionTokens, t: r.usage.totalTokens },
      { p: pt, c: 16, t: pt + 16 },
    );
    const up = await oneUpstream(env, kind);
    assert.deepEqual(upstreamAuthProblems(env, kind, up), []);
    assert.equal(up.json.model, 'mock-fast');
  });

  test(`mistral-sdk → ${kind}: chat.stream text and finish`, T, async () => {
    const out = await drain(env.mistral().chat.stream({ model, messages: BASIC }));
    assert.equal(out.error, null, `stream threw: ${out.error}`);
    assert.equal(out.text, mockText(16));
    assert.deepEqual(out.finishes, ['stop']);
    // The Mistral SDK cannot ask for stream_options; if usage comes, it must be right.
    for (const u of out.usage) {
      assert.equal(u.promptTokens, mockPromptTokens(BASIC));
      assert.equal(u.completionTokens, 16);
    }
  });

  test(`mistral-sdk → ${kind}: tool call (non-streaming, toolChoice auto)`, T, async () => {
    const r = await env.mistral().chat.complete({ model, messages: TOOL_USER, tools: TOOLS.mistral, toolChoice: 'auto' });
    const ch = r.choices[0];
    assert.equal(ch.finishReason, 'tool_calls');
    assert.equal(ch.message.toolCalls?.length, 1, JSON.stringify(ch.message));
    checkToolCall(kind, ch.message.toolCalls[0]);
    assert.equal(r.usage.promptTokens, promptTokens(TOOL_PROMPT));
  });

  test(`mistral-sdk → ${kind}: parallel tool calls (tool_calls=2) and toolChoice required`, T, async () => {
    const r = await env.mistral().chat.complete({
      model: direct(kind, 'tool_calls=2'),
      messages: TOOL_USER,
      tools: TOOLS.mistral,
    });
    const calls = r.choices[0].message.toolCalls ?? [];
    assert.equal(calls.length, 2, JSON.stringify(r.choices[0].message));
    for (const tc of calls) checkToolCall(kind, tc);
    assert.notEqual(calls[0].id, calls[1].id);

    const forced = await env.mistral().chat.complete({
      model,
      messages: [{ role: 'user', content: 'Good morning' }],
      tools: TOOLS.mistral,
      toolChoice: 'required',
    });
    assert.equal(forced.choices[0].finishReason, 'tool_calls', 'toolChoice required forces a call');
  });

  // The Mistral SDK's stream schema requires function.name in every tool-call
  // delta (Mistral sends whole calls in one chunk); OpenAI's streaming format
  // sends the name once and then nameless argument fragments. asc recognises
  // the Mistral SDK by its User-Agent and streams each call whole for it.
  test(`mistral-sdk → ${kind}: streamed tool call`, T, async () => {
    const out = await drain(env.mistral().chat.stream({ model, messages: TOOL_USER, tools: TOOLS.mistral }));
    assert.equal(out.error, null, `stream threw: ${out.error}`);
    assert.deepEqual(out.finishes, ['tool_calls']);
    // Assemble by index (Mistral sends whole calls; OpenAI-style fragments add up too).
    const calls = new Map();
    for (const tc of out.toolDeltas) {
      const c = calls.get(tc.index) ?? { id: '', name: '', args: '' };
      if (tc.id && tc.id !== 'null') c.id = tc.id;
      if (tc.function?.name) c.name = tc.function.name;
      const a = tc.function?.arguments;
      c.args += typeof a === 'string' ? a : JSON.stringify(a ?? '');
      calls.set(tc.index, c);
    }
    assert.equal(calls.size, 1, JSON.stringify(out.toolDeltas));
    const c = calls.get(0);
    checkToolCall(kind, { id: c.id, function: { name: c.name, arguments: c.args } });
  });

  test(`mistral-sdk → ${kind}: tool result on the next turn (the SDK's own message objects) → text`, T, async () => {
    const c = env.mistral();
    const r1 = await c.chat.complete({ model, messages: TOOL_USER, tools: TOOLS.mistral });
    const msg = r1.choices[0].message;
    const call = msg.toolCalls[0];
    // Mistral's documented pattern: append the assistant message as returned, then a tool message.
    const messages = [
      ...TOOL_USER,
      msg,
      { role: 'tool', name: 'get_weather', toolCallId: call.id, content: TOOL_RESULT },
    ];
    await env.mock.clear();
    const r2 = await c.chat.complete({ model, messages, tools: TOOLS.mistral });
    assert.equal(r2.choices[0].finishReason, 'stop');
    assert.equal(textOf(r2.choices[0].message.content), mockText(16));
    assert.equal(r2.usage.promptTokens, promptTokens(TOOL_PROMPT, TOOL_RESULT));
    await oneUpstream(env, kind);
  });

  test(`mistral-sdk → ${kind}: JSON mode (responseFormat)`, T, async () => {
    const messages = [{ role: 'user', content: 'Reply with a JSON object.' }];
    await env.mock.clear();
    if (kind === 'anth') {
      const e = await mustFail(env.mistral().chat.complete({ model, messages, responseFormat: { type: 'json_object' } }));
      assert.ok(e instanceof MistralError, `${e}`);
      assert.equal(e.statusCode, 400);
      assert.match(e.body, /response_format/);
      assert.equal((await env.upstream(kind)).length, 0, 'nothing may reach the upstream');
      return;
    }
    const r = await env.mistral().chat.complete({ model, messages, responseFormat: { type: 'json_object' } });
    assert.equal(textOf(r.choices[0].message.content), mockText(16));
    const up = await oneUpstream(env, kind);
    assert.deepEqual(up.json.response_format, { type: 'json_object' });
  });

  test(`mistral-sdk → ${kind}: stop sequences and maxTokens truncation`, T, async () => {
    await env.mock.clear();
    const r = await env.mistral().chat.complete({ model, messages: BASIC, stop: ['END', '###'] });
    assert.ok(['stop', 'length'].includes(r.choices[0].finishReason), r.choices[0].finishReason);
    const up = await oneUpstream(env, kind);
    assert.deepEqual(upstreamStops(kind, up.json), ['END', '###']);

    const t = await env.mistral().chat.complete({ model, messages: BASIC, maxTokens: 3 });
    assert.equal(textOf(t.choices[0].message.content), mockText(3));
    assert.equal(t.choices[0].finishReason, 'length');
    assert.equal(t.usage.completionTokens, 3);

    await env.mock.clear();
    const s = await drain(env.mistral().chat.stream({ model, messages: BASIC, maxTokens: 3 }));
    assert.equal(s.error, null, `stream threw: ${s.error}`);
    assert.equal(s.text, mockText(3));
    assert.deepEqual(s.finishes, ['length']);
    const sup = await oneUpstream(env, kind);
    assert.equal(upstreamMaxTokens(sup.json), 3);
  });

  test(`mistral-sdk → ${kind}: upstream errors → SDK errors with the mapped status`, T, async () => {
    const c = env.mistral();
    for (const { fault, status } of FAULTS) {
      const e = await mustFail(c.chat.complete({ model: direct(kind, `fault=${fault}`), messages: BASIC }), `fault=${fault}`);
      assert.ok(e instanceof MistralError, `fault=${fault}: ${e}`);
      assert.equal(e.statusCode, status, `fault=${fault}: status ${e.statusCode} (${e.body})`);
      const body = JSON.parse(e.body);
      assert.equal(typeof body.error?.message, 'string', `fault=${fault}: body ${e.body}`);
      if (status === 429) {
        assert.equal(body.error.code, 'rate_limited');
        assert.equal(e.headers.get('retry-after'), '1');
      }
    }
    const s = await drain(c.chat.stream({ model: direct(kind, 'fault=429'), messages: BASIC }));
    assert.ok(s.error instanceof MistralError, `streaming fault=429: ${s.error}`);
    assert.equal(s.error.statusCode, 429);
  });

  test(`mistral-sdk → ${kind}: mid-stream upstream error → the SDK stream throws`, T, async () => {
    const out = await drain(
      env.mistral().chat.stream({ model: direct(kind, 'fault=error_event,fault_after=3'), messages: BASIC }),
    );
    assert.ok(out.error, 'the for-await loop must throw');
    assert.equal(out.text, mockText(3), 'the tokens before the error were delivered');
    assert.deepEqual(out.finishes, [], 'a failed stream has no finish reason');
  });
}

// Only the Mistral upstream: the Mistral SDK requires an `id` in an embeddings
// response, which OpenAI-format upstreams do not send (asc relays their body).
for (const kind of EMBED_KINDS.filter((k) => k === 'mis')) {
  test(`mistral-sdk embeddings → ${kind}: embeddings.create`, T, async () => {
    const inputs = ['hello world', 'something else'];
    const r = await env.mistral().embeddings.create({ model: embedModel(kind), inputs });
    assert.equal(r.data.length, 2);
    for (const d of r.data) {
      assert.equal(d.embedding.length, 8);
      assert.ok(d.embedding.every(Number.isFinite));
    }
    assert.notDeepEqual(r.data[0].embedding, r.data[1].embedding);
    assert.equal(r.usage.promptTokens, promptTokens(...inputs));
    // The vectors are the mock's, whatever the dialect: compare with the openai SDK's floats.
    const f = await env.openai().embeddings.create({ model: embedModel(kind), input: inputs, encoding_format: 'float' });
    assert.deepEqual(
      r.data.map((d) => d.embedding),
      f.data.map((d) => d.embedding),
    );
  });
}

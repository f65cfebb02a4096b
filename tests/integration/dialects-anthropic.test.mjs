// Issue 3, inbound Anthropic Messages: the official @anthropic-ai/sdk against
// asc's /v1/messages, served from each upstream kind (openai,
// openai-compatible, anthropic, mistral — all asc-mock). Errors come back in
// Anthropic's own format; the anthropic-version header is required.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { mockText, ms, recordingFetch } from './lib/harness.mjs';
import {
  KINDS,
  FAULTS,
  TOOLS,
  TOOL_ID,
  TOOL_PROMPT,
  TOOL_RESULT,
  WEATHER_ARGS,
  MISTRAL_ID,
  PNG_B64,
  startDialects,
  chatModel,
  direct,
  promptTokens,
  mockTokens,
  oneUpstream,
  upstreamAuthProblems,
  upstreamStops,
  upstreamMaxTokens,
  systemText,
  contentText,
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
const BASIC = { system: SYS, messages: [{ role: 'user', content: USER }] };
const TOOL_USER = [{ role: 'user', content: TOOL_PROMPT }];
const STOP_REASONS = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'];

function checkToolUse(kind, b) {
  assert.equal(b.type, 'tool_use');
  assert.equal(b.name, 'get_weather');
  assert.deepEqual(b.input, WEATHER_ARGS);
  assert.match(b.id, TOOL_ID[kind], `tool_use id ${b.id} is not the upstream's id`);
}

/** Run messages.stream(): text deltas, raw events, final message (or the error). */
async function collect(s) {
  let text = '';
  const events = [];
  const json = [];
  s.on('text', (d) => {
    text += d;
  });
  s.on('streamEvent', (e) => events.push(e));
  s.on('inputJson', (d) => json.push(d));
  let final = null;
  let error = null;
  try {
    final = await s.finalMessage();
  } catch (e) {
    error = e;
  }
  return { text, events, json, final, error };
}

for (const kind of KINDS) {
  const model = chatModel(kind);

  test(`anthropic → ${kind}: non-streaming text, stop_reason, usage; upstream request`, T, async () => {
    await env.mock.clear();
    const r = await env.anthropic().messages.create({ model, max_tokens: 1024, ...BASIC });
    assert.equal(r.type, 'message');
    assert.equal(r.role, 'assistant');
    assert.ok(typeof r.id === 'string' && r.id.length > 0);
    assert.deepEqual(
      r.content.map((b) => [b.type, b.text]),
      [['text', mockText(16)]],
    );
    assert.equal(r.stop_reason, 'end_turn');
    assert.equal(r.stop_sequence ?? null, null);
    // Anthropic's input_tokens exclude cache reads/writes; the mock caches nothing.
    assert.equal(r.usage.input_tokens, promptTokens(SYS, USER));
    assert.equal(r.usage.output_tokens, 16);
    assert.ok(!r.usage.cache_read_input_tokens, `cache_read_input_tokens ${r.usage.cache_read_input_tokens}`);

    const up = await oneUpstream(env, kind);
    assert.deepEqual(upstreamAuthProblems(env, kind, up), []);
    assert.equal(up.json.model, 'mock-fast');
    assert.equal(upstreamMaxTokens(up.json), 1024);
    if (kind === 'anth') {
      assert.equal(systemText(up.json.system), SYS);
    } else {
      assert.equal(up.json.messages[0].role, 'system');
      assert.equal(contentText(up.json.messages[0].content), SYS);
      assert.equal(up.json.messages[1].role, 'user');
      assert.equal(contentText(up.json.messages[1].content), USER);
    }
  });

  test(`anthropic → ${kind}: system blocks, multi-turn, content blocks`, T, async () => {
    const system = [
      { type: 'text', text: 'You are terse. ' },
      { type: 'text', text: 'Answer in English.' },
    ];
    const messages = [
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: [{ type: 'text', text: 'Hello! How can I help?' }] },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Say hello' },
          { type: 'text', text: ' to the whole suite' },
        ],
      },
    ];
    await env.mock.clear();
    const r = await env.anthropic().messages.create({ model, max_tokens: 256, system, messages });
    assert.equal(r.content[0].text, mockText(16));
    assert.equal(
      r.usage.input_tokens,
      promptTokens('You are terse. ', 'Answer in English.', 'Hi there', 'Hello! How can I help?', 'Say hello', ' to the whole suite'),
    );
    const up = await oneUpstream(env, kind);
    const roles = up.json.messages.map((m) => m.role);
    if (kind === 'anth') assert.deepEqual(roles, ['user', 'assistant', 'user']);
    else assert.deepEqual(roles, ['system', 'user', 'assistant', 'user']);
  });

  test(`anthropic → ${kind}: image blocks (base64 and URL)`, T, async () => {
    await env.mock.clear();
    const r = await env.anthropic().messages.create({
      model,
      max_tokens: 64,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
            { type: 'text', text: 'What is in these images?' },
          ],
        },
      ],
    });
    assert.equal(r.content[0].text, mockText(16));
    assert.equal(r.usage.input_tokens, promptTokens('What is in these images?'));
    const up = await oneUpstream(env, kind);
    const parts = up.json.messages.at(-1).content;
    if (kind === 'anth') {
      assert.deepEqual(
        parts.filter((p) => p.type === 'image').map((p) => p.source),
        [
          { type: 'base64', media_type: 'image/png', data: PNG_B64 },
          { type: 'url', url: 'https://example.com/cat.png' },
        ],
      );
    } else {
      const urls = parts
        .filter((p) => p.type === 'image_url')
        .map((p) => (typeof p.image_url === 'string' ? p.image_url : p.image_url.url));
      assert.deepEqual(urls, [`data:image/png;base64,${PNG_B64}`, 'https://example.com/cat.png']);
    }
  });

  test(`anthropic → ${kind}: messages.stream() text events, raw event order, finalMessage usage`, T, async () => {
    const { text, events, final, error } = await collect(
      env.anthropic().messages.stream({ model, max_tokens: 1024, ...BASIC }),
    );
    assert.equal(error, null, `stream failed: ${error}`);
    assert.equal(text, mockText(16));
    assert.equal(final.content[0].text, mockText(16));
    assert.equal(final.stop_reason, 'end_turn');
    const pt = promptTokens(SYS, USER);
    assert.equal(final.usage.input_tokens, pt);
    assert.equal(final.usage.output_tokens, 16);
    const types = events.map((e) => e.type).filter((t) => t !== 'ping');
    assert.equal(types[0], 'message_start');
    assert.equal(types[1], 'content_block_start');
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    const start = events[0];
    assert.equal(start.message.usage.input_tokens, pt, 'input tokens in message_start');
    const md = events.find((e) => e.type === 'message_delta');
    assert.equal(md.delta.stop_reason, 'end_turn');
    assert.equal(md.usage.output_tokens, 16, 'cumulative output tokens in message_delta');
    assert.deepEqual(
      events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text),
      mockTokens(16),
      'one text_delta per upstream token, emitted as they come',
    );
  });

  test(`anthropic → ${kind}: create({stream:true}) raw events via for-await`, T, async () => {
    const stream = await env.anthropic().messages.create({ model, max_tokens: 1024, ...BASIC, stream: true });
    const events = [];
    for await (const e of stream) events.push(e);
    let text = '';
    for (const e of events) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
    assert.equal(text, mockText(16));
    assert.equal(events.at(-1).type, 'message_stop');
    const blockIdx = events.filter((e) => e.type.startsWith('content_block')).map((e) => e.index);
    assert.ok(blockIdx.every((i) => i === 0), `one text block at index 0: ${blockIdx}`);
  });

  test(`anthropic → ${kind}: tool_use (non-streaming)`, T, async () => {
    const r = await env.anthropic().messages.create({ model, max_tokens: 1024, messages: TOOL_USER, tools: TOOLS.anthropic });
    assert.equal(r.stop_reason, 'tool_use');
    const uses = r.content.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 1, JSON.stringify(r.content));
    checkToolUse(kind, uses[0]);
    assert.equal(r.usage.input_tokens, promptTokens(TOOL_PROMPT));
    assert.ok(r.usage.output_tokens > 0);
  });

  test(`anthropic → ${kind}: parallel tool_use (tool_calls=2) and disable_parallel_tool_use`, T, async () => {
    const m = direct(kind, 'tool_calls=2');
    const r = await env.anthropic().messages.create({ model: m, max_tokens: 1024, messages: TOOL_USER, tools: TOOLS.anthropic });
    const uses = r.content.filter((b) => b.type === 'tool_use');
    assert.equal(uses.length, 2, JSON.stringify(r.content));
    for (const u of uses) checkToolUse(kind, u);
    assert.notEqual(uses[0].id, uses[1].id);

    const one = await env.anthropic().messages.create({
      model: m,
      max_tokens: 1024,
      messages: TOOL_USER,
      tools: TOOLS.anthropic,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
    assert.equal(
      one.content.filter((b) => b.type === 'tool_use').length,
      1,
      `disable_parallel_tool_use must reach the upstream: ${JSON.stringify(one.content)}`,
    );
  });

  test(`anthropic → ${kind}: tool_choice any / tool / none`, T, async () => {
    const c = env.anthropic();
    const plain = [{ role: 'user', content: 'Good morning' }];
    await env.mock.clear();
    const any = await c.messages.create({ model, max_tokens: 256, messages: plain, tools: TOOLS.anthropic, tool_choice: { type: 'any' } });
    assert.equal(any.stop_reason, 'tool_use', 'any forces a call');
    checkToolUse(kind, any.content.find((b) => b.type === 'tool_use'));
    const up = await oneUpstream(env, kind);
    if (kind === 'oai' || kind === 'compat') assert.equal(up.json.tool_choice, 'required');
    if (kind === 'mis') assert.ok(['any', 'required'].includes(up.json.tool_choice), `${up.json.tool_choice}`);

    const named = await c.messages.create({
      model,
      max_tokens: 256,
      messages: plain,
      tools: TOOLS.anthropic,
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    assert.equal(named.stop_reason, 'tool_use', 'a named tool forces a call');
    checkToolUse(kind, named.content.find((b) => b.type === 'tool_use'));

    const none = await c.messages.create({ model, max_tokens: 256, messages: TOOL_USER, tools: TOOLS.anthropic, tool_choice: { type: 'none' } });
    assert.equal(none.stop_reason, 'end_turn');
    assert.equal(none.content.filter((b) => b.type === 'tool_use').length, 0);
    assert.equal(none.content[0].text, mockText(16));
  });

  test(`anthropic → ${kind}: streamed tool_use input assembled by the SDK (single and parallel)`, T, async () => {
    for (const [m, n] of [
      [model, 1],
      [direct(kind, 'tool_calls=2'), 2],
    ]) {
      const { events, json, final, error } = await collect(
        env.anthropic().messages.stream({ model: m, max_tokens: 1024, messages: TOOL_USER, tools: TOOLS.anthropic }),
      );
      assert.equal(error, null, `${m}: stream failed: ${error}`);
      assert.equal(final.stop_reason, 'tool_use');
      const uses = final.content.filter((b) => b.type === 'tool_use');
      assert.equal(uses.length, n, `${m}: ${JSON.stringify(final.content)}`);
      for (const u of uses) checkToolUse(kind, u);
      assert.ok(json.length >= n, `${m}: no inputJson events`);
      const starts = events.filter((e) => e.type === 'content_block_start' && e.content_block.type === 'tool_use');
      assert.equal(starts.length, n);
      for (const s of starts) assert.deepEqual(s.content_block.input, {}, 'tool_use blocks start with empty input');
      const md = events.find((e) => e.type === 'message_delta');
      assert.equal(md?.delta.stop_reason, 'tool_use');
      assert.ok(md.usage.output_tokens > 0);
    }
  });

  test(`anthropic → ${kind}: tool_result on the next turn → text`, T, async () => {
    const c = env.anthropic();
    const r1 = await c.messages.create({ model, max_tokens: 1024, messages: TOOL_USER, tools: TOOLS.anthropic });
    const use = r1.content.find((b) => b.type === 'tool_use');
    const messages = [
      ...TOOL_USER,
      { role: 'assistant', content: r1.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: TOOL_RESULT }] },
    ];
    await env.mock.clear();
    const r2 = await c.messages.create({ model, max_tokens: 1024, messages, tools: TOOLS.anthropic });
    assert.equal(r2.stop_reason, 'end_turn');
    assert.equal(r2.content[0].text, mockText(16));
    assert.equal(r2.usage.input_tokens, promptTokens(TOOL_PROMPT, TOOL_RESULT), 'the tool result reached the upstream as text');
    const up = await oneUpstream(env, kind);
    if (kind === 'anth') {
      assert.equal(up.json.messages[2].content[0].tool_use_id, use.id);
    } else {
      const [, a, t] = up.json.messages;
      assert.equal(a.role, 'assistant');
      const sent = a.tool_calls[0].id;
      if (kind === 'mis') assert.match(sent, MISTRAL_ID);
      else assert.equal(sent, use.id);
      assert.deepEqual(JSON.parse(a.tool_calls[0].function.arguments), WEATHER_ARGS);
      assert.equal(t.role, 'tool');
      assert.equal(t.tool_call_id, sent, 'the result pairs with its call');
    }
  });

  test(`anthropic → ${kind}: parallel tool_results with Anthropic ids (one user message, string and block content)`, T, async () => {
    const ids = ['toolu_01A09q90qw90lq917835lq9', 'toolu_01B7Xq2mJqGQv8eZk3rT4pYs'];
    const messages = [
      ...TOOL_USER,
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me check both.' },
          { type: 'tool_use', id: ids[0], name: 'get_weather', input: { location: 'Paris' } },
          { type: 'tool_use', id: ids[1], name: 'get_weather', input: { location: 'Rome' } },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: ids[0], content: TOOL_RESULT },
          { type: 'tool_result', tool_use_id: ids[1], content: [{ type: 'text', text: '{"temperature_c":25}' }] },
        ],
      },
    ];
    await env.mock.clear();
    const r = await env.anthropic().messages.create({ model, max_tokens: 1024, messages, tools: TOOLS.anthropic });
    assert.equal(r.content[0].text, mockText(16));
    assert.equal(r.stop_reason, 'end_turn');
    assert.equal(r.usage.input_tokens, promptTokens(TOOL_PROMPT, 'Let me check both.', TOOL_RESULT, '{"temperature_c":25}'));
    const up = await oneUpstream(env, kind);
    if (kind === 'anth') {
      assert.deepEqual(
        up.json.messages[2].content.map((b) => b.tool_use_id),
        ids,
      );
      return;
    }
    // OpenAI shape: assistant (text + 2 tool_calls), then one tool message per result, in order.
    const [, a, t1, t2] = up.json.messages;
    assert.equal(a.role, 'assistant');
    assert.equal(a.tool_calls.length, 2);
    assert.deepEqual(
      a.tool_calls.map((tc) => JSON.parse(tc.function.arguments)),
      [{ location: 'Paris' }, { location: 'Rome' }],
    );
    assert.deepEqual([t1.role, t2.role], ['tool', 'tool']);
    const sent = a.tool_calls.map((tc) => tc.id);
    assert.deepEqual([t1.tool_call_id, t2.tool_call_id], sent, 'each result follows its call');
    if (kind === 'mis') for (const id of sent) assert.match(id, MISTRAL_ID, 'ids sent to Mistral are 9 alphanumerics');
    else assert.deepEqual(sent, ids);
  });

  test(`anthropic → ${kind}: stop_sequences are forwarded`, T, async () => {
    await env.mock.clear();
    const r = await env.anthropic().messages.create({ model, max_tokens: 1024, ...BASIC, stop_sequences: ['END', '###'] });
    assert.ok(STOP_REASONS.includes(r.stop_reason), r.stop_reason);
    assert.ok(['end_turn', 'stop_sequence'].includes(r.stop_reason), r.stop_reason);
    if (r.stop_reason === 'stop_sequence') assert.ok(['END', '###'].includes(r.stop_sequence));
    const up = await oneUpstream(env, kind);
    assert.deepEqual(upstreamStops(kind, up.json), ['END', '###']);
  });

  test(`anthropic → ${kind}: max_tokens truncation → stop_reason max_tokens (plain and streamed)`, T, async () => {
    const r = await env.anthropic().messages.create({ model, max_tokens: 3, ...BASIC });
    assert.equal(r.stop_reason, 'max_tokens');
    assert.equal(r.content[0].text, mockText(3));
    assert.equal(r.usage.output_tokens, 3);

    const { text, events, final, error } = await collect(env.anthropic().messages.stream({ model, max_tokens: 3, ...BASIC }));
    assert.equal(error, null, `stream failed: ${error}`);
    assert.equal(text, mockText(3));
    assert.equal(final.stop_reason, 'max_tokens');
    assert.equal(final.usage.output_tokens, 3);
    assert.equal(events.find((e) => e.type === 'message_delta')?.delta.stop_reason, 'max_tokens');
  });

  test(`anthropic → ${kind}: upstream errors in Anthropic's format (${FAULTS.map((f) => f.fault).join(', ')})`, T, async () => {
    const c = env.anthropic();
    for (const { fault, status } of FAULTS) {
      const e = await mustFail(c.messages.create({ model: direct(kind, `fault=${fault}`), max_tokens: 64, ...BASIC }), `fault=${fault}`);
      assert.ok(e instanceof Anthropic.APIError, `fault=${fault}: ${e}`);
      assert.equal(e.status, status, `fault=${fault}: status ${e.status} (${e.message})`);
      assert.equal(e.error?.type, 'error', `fault=${fault}: not an Anthropic error body: ${JSON.stringify(e.error)}`);
      assert.equal(typeof e.error?.error?.message, 'string');
      if (status === 429) {
        assert.ok(e instanceof Anthropic.RateLimitError);
        assert.equal(e.type, 'rate_limit_error');
        assert.equal(e.headers.get('retry-after'), '1');
      } else if (status === 503) {
        assert.ok(['overloaded_error', 'api_error'].includes(e.type), `fault=${fault}: type ${e.type}`);
      } else if (status === 502) {
        assert.equal(e.type, 'api_error', `fault=${fault}: type ${e.type}`);
      } else if (status === 400) {
        assert.ok(e instanceof Anthropic.BadRequestError);
        assert.equal(e.type, 'invalid_request_error');
      }
    }
    const { error } = await collect(c.messages.stream({ model: direct(kind, 'fault=429'), max_tokens: 64, ...BASIC }));
    assert.ok(error instanceof Anthropic.RateLimitError, `streaming fault=429: ${error}`);
  });

  test(`anthropic → ${kind}: mid-stream upstream error → the SDK stream throws`, T, async () => {
    const m = direct(kind, 'fault=error_event,fault_after=3');
    const { text, error } = await collect(env.anthropic().messages.stream({ model: m, max_tokens: 64, ...BASIC }));
    assert.ok(error instanceof Anthropic.APIError, `expected an APIError, got ${error}`);
    assert.ok(['overloaded_error', 'api_error'].includes(error.type), `error type ${error.type}`);
    assert.equal(text, mockText(3), 'the tokens before the error were delivered');

    const stream = await env.anthropic().messages.create({ model: m, max_tokens: 64, ...BASIC, stream: true });
    const e = await mustFail(
      (async () => {
        for await (const ev of stream) void ev;
      })(),
      'for-await over a failing stream',
    );
    assert.ok(e instanceof Anthropic.APIError, `${e}`);
  });
}

test('anthropic: unknown model → 404 not_found_error in Anthropic format', T, async () => {
  const e = await mustFail(env.anthropic().messages.create({ model: 'no-such-model', max_tokens: 16, ...BASIC }));
  assert.ok(e instanceof Anthropic.NotFoundError, `${e}`);
  assert.equal(e.type, 'not_found_error');
  assert.equal(e.error?.type, 'error');
});

test('anthropic: wrong key → 401 authentication_error in Anthropic format', T, async () => {
  const e = await mustFail(
    env.anthropic({ apiKey: 'sk-asc-test-wrong' }).messages.create({ model: chatModel('anth'), max_tokens: 16, ...BASIC }),
  );
  assert.ok(e instanceof Anthropic.AuthenticationError, `${e}`);
  assert.equal(e.type, 'authentication_error');
});

test('anthropic: x-api-key auth works (raw fetch); a missing anthropic-version → 400 in Anthropic format', T, async () => {
  const url = `${env.baseURL}/v1/messages`;
  const body = JSON.stringify({ model: chatModel('oai'), max_tokens: 16, messages: [{ role: 'user', content: USER }] });
  const ok = await recordingFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': env.key, 'anthropic-version': '2023-06-01' },
    body,
  });
  const okBody = await ok.json();
  assert.equal(ok.status, 200, JSON.stringify(okBody));
  assert.equal(okBody.type, 'message');
  assert.equal(okBody.content[0].text, mockText(16));

  await env.mock.clear();
  const res = await recordingFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': env.key },
    body,
  });
  const j = await res.json();
  assert.equal(res.status, 400, JSON.stringify(j));
  assert.equal(j.type, 'error');
  assert.equal(j.error?.type, 'invalid_request_error');
  assert.match(j.error.message, /anthropic-version/);
  assert.equal((await env.mock.apiRequests()).length, 0, 'nothing may reach an upstream');
});

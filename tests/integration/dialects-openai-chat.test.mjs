// Issue 3, inbound OpenAI Chat Completions: the official openai SDK against
// asc, which serves it from each upstream kind (openai, openai-compatible,
// anthropic, mistral — all backed by asc-mock). Text, streaming (for-await
// and the .stream() helper), usage, tool calls (single, parallel, streamed,
// tool results on the next turn), JSON mode, stop sequences, max-token
// truncation, upstream errors and embeddings. Expected answers come from the
// mock contract (lib/harness.mjs mockText / mockPromptTokens).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
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
  MISTRAL_ID,
  PNG_B64,
  startDialects,
  chatModel,
  embedModel,
  direct,
  promptTokens,
  mockTokens,
  oneUpstream,
  upstreamAuthProblems,
  upstreamStops,
  upstreamMaxTokens,
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
const BASIC = [
  { role: 'system', content: SYS },
  { role: 'user', content: USER },
];
const TOOL_USER = [{ role: 'user', content: TOOL_PROMPT }];

/** Drain a chat stream; returns {text, chunks, error}. */
async function drain(stream) {
  const chunks = [];
  let text = '';
  let error = null;
  try {
    for await (const c of stream) {
      chunks.push(c);
      text += c.choices?.[0]?.delta?.content ?? '';
    }
  } catch (e) {
    error = e;
  }
  return { text, chunks, error };
}

function checkToolCall(kind, tc) {
  assert.equal(tc.type, 'function');
  assert.equal(tc.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(tc.function.arguments), WEATHER_ARGS);
  assert.match(tc.id, TOOL_ID[kind], `tool-call id ${tc.id} is not the upstream's`);
}

for (const kind of KINDS) {
  const model = chatModel(kind);

  test(`openai-chat → ${kind}: non-streaming text, finish_reason, usage; upstream request`, T, async () => {
    await env.mock.clear();
    const r = await env.openai().chat.completions.create({ model, messages: BASIC });
    assert.equal(r.object, 'chat.completion');
    assert.ok(typeof r.id === 'string' && r.id.length > 0, `id ${r.id}`);
    assert.ok(Number.isInteger(r.created), `created ${r.created}`);
    assert.equal(r.choices.length, 1);
    const ch = r.choices[0];
    assert.equal(ch.index, 0);
    assert.equal(ch.message.role, 'assistant');
    assert.equal(ch.message.content, mockText(16));
    assert.equal(ch.finish_reason, 'stop');
    const pt = mockPromptTokens(BASIC);
    assert.deepEqual(
      { prompt: r.usage?.prompt_tokens, completion: r.usage?.completion_tokens, total: r.usage?.total_tokens },
      { prompt: pt, completion: 16, total: pt + 16 },
    );

    const up = await oneUpstream(env, kind);
    assert.equal(up.method, 'POST');
    assert.deepEqual(upstreamAuthProblems(env, kind, up), []);
    assert.equal(up.json.model, 'mock-fast');
    if (kind === 'anth') {
      const sys = typeof up.json.system === 'string' ? up.json.system : up.json.system.map((b) => b.text).join('');
      assert.equal(sys, SYS, 'system prompt hoisted into "system"');
      assert.deepEqual(
        up.json.messages.map((m) => m.role),
        ['user'],
      );
      assert.ok(Number.isInteger(up.json.max_tokens) && up.json.max_tokens > 0, 'max_tokens is required upstream');
    } else {
      assert.deepEqual(
        up.json.messages.map((m) => ({ role: m.role, content: contentText(m.content) })),
        BASIC,
      );
    }
    if (kind === 'mis') assert.ok(!('stream_options' in up.json), 'stream_options sent to Mistral');
  });

  test(`openai-chat → ${kind}: developer role, multi-turn, text parts`, T, async () => {
    const MULTI = [
      { role: 'developer', content: 'Answer in English.' },
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: 'Hello! How can I help?' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Say hello' },
          { type: 'text', text: ' to the whole suite' },
        ],
      },
    ];
    await env.mock.clear();
    const r = await env.openai().chat.completions.create({ model, messages: MULTI });
    assert.equal(r.choices[0].message.content, mockText(16));
    assert.equal(r.usage.prompt_tokens, mockPromptTokens(MULTI));
    const up = await oneUpstream(env, kind);
    const roles = up.json.messages.map((m) => m.role);
    if (kind === 'anth') {
      assert.deepEqual(roles, ['user', 'assistant', 'user']);
      const sys = typeof up.json.system === 'string' ? up.json.system : up.json.system.map((b) => b.text).join('');
      assert.equal(sys, 'Answer in English.');
    } else if (kind === 'mis') {
      assert.deepEqual(roles, ['system', 'user', 'assistant', 'user'], 'developer becomes system for Mistral');
    } else {
      assert.equal(roles.length, 4);
    }
  });

  test(`openai-chat → ${kind}: streaming (for await) with include_usage`, T, async () => {
    const stream = await env.openai().chat.completions.create({
      model,
      messages: BASIC,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, chunks, error } = await drain(stream);
    assert.equal(error, null, `stream threw: ${error}`);
    assert.equal(text, mockText(16));
    assert.ok(chunks.length >= 3, `only ${chunks.length} chunks`);
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'every chunk has the same id');
    assert.equal(chunks[0].choices[0]?.delta?.role, 'assistant', 'first delta carries the role');
    const finishes = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean);
    assert.deepEqual(finishes, ['stop']);
    const withUsage = chunks.filter((c) => c.usage);
    assert.equal(withUsage.length, 1, 'exactly one chunk with usage');
    const last = chunks.at(-1);
    assert.deepEqual(last.choices, [], 'the usage chunk is last and has no choices');
    const pt = mockPromptTokens(BASIC);
    assert.deepEqual(
      { p: last.usage.prompt_tokens, c: last.usage.completion_tokens, t: last.usage.total_tokens },
      { p: pt, c: 16, t: pt + 16 },
    );
    // Streaming emits as it goes: each token arrives in its own chunk (the mock's chunk=1).
    const deltas = chunks.map((c) => c.choices[0]?.delta?.content).filter((d) => d);
    assert.deepEqual(deltas, mockTokens(16));
  });

  test(`openai-chat → ${kind}: .stream() helper, content events, finalChatCompletion; no usage chunk unless asked`, T, async () => {
    const s = env.openai().chat.completions.stream({ model, messages: BASIC });
    let deltas = '';
    const chunks = [];
    s.on('content', (d) => {
      deltas += d;
    });
    s.on('chunk', (c) => chunks.push(c));
    const final = await s.finalChatCompletion();
    assert.equal(final.choices[0].message.content, mockText(16));
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.equal(deltas, mockText(16));
    assert.ok(!chunks.some((c) => c.usage), 'a usage chunk although the client did not ask for one');
    assert.ok(!chunks.some((c) => c.choices.length === 0), 'a choices:[] chunk although the client did not ask');
  });

  test(`openai-chat → ${kind}: sampling parameters translated (temperature, top_p, seed)`, T, async () => {
    await env.mock.clear();
    const r = await env.openai().chat.completions.create({
      model,
      messages: BASIC,
      temperature: 0.25,
      top_p: 0.5,
      seed: 7,
    });
    assert.equal(r.choices[0].message.content, mockText(16));
    const up = await oneUpstream(env, kind);
    assert.equal(up.json.temperature, 0.25);
    assert.equal(up.json.top_p, 0.5);
    if (kind === 'mis') {
      assert.equal(up.json.random_seed, 7, 'Mistral calls it random_seed');
      assert.ok(!('seed' in up.json));
    } else if (kind === 'anth') {
      assert.ok(!('seed' in up.json), 'Anthropic has no seed');
    } else {
      assert.equal(up.json.seed, 7);
    }
  });

  test(`openai-chat → ${kind}: tool call (non-streaming)`, T, async () => {
    const r = await env.openai().chat.completions.create({ model, messages: TOOL_USER, tools: TOOLS.openaiChat });
    const ch = r.choices[0];
    assert.equal(ch.finish_reason, 'tool_calls');
    assert.equal(ch.message.role, 'assistant');
    assert.ok(ch.message.content === null || ch.message.content === '', `content ${JSON.stringify(ch.message.content)}`);
    assert.equal(ch.message.tool_calls?.length, 1, JSON.stringify(ch.message));
    checkToolCall(kind, ch.message.tool_calls[0]);
    assert.equal(r.usage.prompt_tokens, promptTokens(TOOL_PROMPT));
    assert.ok(r.usage.completion_tokens > 0);
    assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  });

  test(`openai-chat → ${kind}: parallel tool calls (tool_calls=2)`, T, async () => {
    const r = await env.openai().chat.completions.create({
      model: direct(kind, 'tool_calls=2'),
      messages: TOOL_USER,
      tools: TOOLS.openaiChat,
    });
    const ch = r.choices[0];
    assert.equal(ch.finish_reason, 'tool_calls');
    assert.equal(ch.message.tool_calls?.length, 2, JSON.stringify(ch.message));
    for (const tc of ch.message.tool_calls) checkToolCall(kind, tc);
    assert.notEqual(ch.message.tool_calls[0].id, ch.message.tool_calls[1].id);

    const one = await env.openai().chat.completions.create({
      model: direct(kind, 'tool_calls=2'),
      messages: TOOL_USER,
      tools: TOOLS.openaiChat,
      parallel_tool_calls: false,
    });
    assert.equal(
      one.choices[0].message.tool_calls?.length,
      1,
      `parallel_tool_calls:false must reach the upstream: ${JSON.stringify(one.choices[0].message)}`,
    );
  });

  test(`openai-chat → ${kind}: image parts (data URL and https URL)`, T, async () => {
    const messages = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these images?' },
          { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
        ],
      },
    ];
    await env.mock.clear();
    const r = await env.openai().chat.completions.create({ model, messages, max_tokens: 64 });
    assert.equal(r.choices[0].message.content, mockText(16));
    assert.equal(r.usage.prompt_tokens, promptTokens('What is in these images?'));
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

  test(`openai-chat → ${kind}: tool_choice required / named / none`, T, async () => {
    const c = env.openai();
    const plain = [{ role: 'user', content: 'Good morning' }];
    await env.mock.clear();
    const req = await c.chat.completions.create({ model, messages: plain, tools: TOOLS.openaiChat, tool_choice: 'required' });
    assert.equal(req.choices[0].finish_reason, 'tool_calls', 'required forces a call');
    checkToolCall(kind, req.choices[0].message.tool_calls[0]);
    const up = await oneUpstream(env, kind);
    if (kind === 'anth') assert.deepEqual(up.json.tool_choice, { type: 'any' });

    const named = await c.chat.completions.create({
      model,
      messages: plain,
      tools: TOOLS.openaiChat,
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    assert.equal(named.choices[0].finish_reason, 'tool_calls', 'a named tool forces a call');
    checkToolCall(kind, named.choices[0].message.tool_calls[0]);

    const none = await c.chat.completions.create({ model, messages: TOOL_USER, tools: TOOLS.openaiChat, tool_choice: 'none' });
    assert.equal(none.choices[0].finish_reason, 'stop', 'tool_choice none: no call');
    assert.equal(none.choices[0].message.content, mockText(16));
    assert.ok(!none.choices[0].message.tool_calls?.length);
  });

  test(`openai-chat → ${kind}: streamed tool call assembled by the .stream() helper`, T, async () => {
    const s = env.openai().chat.completions.stream({ model, messages: TOOL_USER, tools: TOOLS.openaiChat });
    const argDeltas = [];
    const done = [];
    s.on('tool_calls.function.arguments.delta', (e) => argDeltas.push(e.arguments_delta));
    s.on('tool_calls.function.arguments.done', (e) => done.push(e));
    const final = await s.finalChatCompletion();
    const ch = final.choices[0];
    assert.equal(ch.finish_reason, 'tool_calls');
    assert.equal(ch.message.tool_calls?.length, 1, JSON.stringify(ch.message));
    checkToolCall(kind, ch.message.tool_calls[0]);
    assert.equal(argDeltas.join(''), ch.message.tool_calls[0].function.arguments, 'argument deltas add up');
    assert.equal(done.length, 1);
    assert.equal(done[0].name, 'get_weather');
    assert.deepEqual(JSON.parse(done[0].arguments), WEATHER_ARGS);
  });

  test(`openai-chat → ${kind}: streamed parallel tool calls (for await + .stream())`, T, async () => {
    const m = direct(kind, 'tool_calls=2');
    const s = env.openai().chat.completions.stream({ model: m, messages: TOOL_USER, tools: TOOLS.openaiChat });
    const final = await s.finalChatCompletion();
    const calls = final.choices[0].message.tool_calls ?? [];
    assert.equal(calls.length, 2, JSON.stringify(final.choices[0].message));
    for (const tc of calls) checkToolCall(kind, tc);
    assert.notEqual(calls[0].id, calls[1].id);
    assert.equal(final.choices[0].finish_reason, 'tool_calls');

    // Raw chunks: the first delta of each call has index, id, type, name; later ones only arguments.
    const stream = await env.openai().chat.completions.create({
      model: m,
      messages: TOOL_USER,
      tools: TOOLS.openaiChat,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { chunks, error } = await drain(stream);
    assert.equal(error, null, `stream threw: ${error}`);
    const byIndex = new Map();
    for (const c of chunks)
      for (const tc of c.choices[0]?.delta?.tool_calls ?? []) {
        assert.ok(Number.isInteger(tc.index), `tool-call delta without index: ${JSON.stringify(tc)}`);
        if (!byIndex.has(tc.index)) {
          assert.ok(tc.id && tc.function?.name, `first delta of call ${tc.index} lacks id/name: ${JSON.stringify(tc)}`);
          byIndex.set(tc.index, { id: tc.id, name: tc.function.name, args: tc.function.arguments ?? '' });
        } else {
          byIndex.get(tc.index).args += tc.function?.arguments ?? '';
        }
      }
    assert.deepEqual([...byIndex.keys()].sort(), [0, 1]);
    for (const v of byIndex.values()) {
      assert.equal(v.name, 'get_weather');
      assert.deepEqual(JSON.parse(v.args), WEATHER_ARGS);
    }
    const usage = chunks.at(-1).usage;
    assert.ok(usage && usage.completion_tokens > 0, `no usage at the end: ${JSON.stringify(chunks.at(-1))}`);
    assert.equal(usage.prompt_tokens, promptTokens(TOOL_PROMPT));
  });

  test(`openai-chat → ${kind}: tool result on the next turn → text`, T, async () => {
    const c = env.openai();
    const r1 = await c.chat.completions.create({ model, messages: TOOL_USER, tools: TOOLS.openaiChat });
    const call = r1.choices[0].message.tool_calls[0];
    const messages = [
      ...TOOL_USER,
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: call.id, type: 'function', function: { name: call.function.name, arguments: call.function.arguments } }],
      },
      { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT },
    ];
    await env.mock.clear();
    const r2 = await c.chat.completions.create({ model, messages, tools: TOOLS.openaiChat });
    assert.equal(r2.choices[0].finish_reason, 'stop');
    assert.equal(r2.choices[0].message.content, mockText(16));
    assert.equal(r2.usage.prompt_tokens, promptTokens(TOOL_PROMPT, TOOL_RESULT), 'the tool result reached the upstream as text');
    const up = await oneUpstream(env, kind);
    if (kind === 'anth') {
      const [u, a, res] = up.json.messages;
      assert.deepEqual([u.role, a.role, res.role], ['user', 'assistant', 'user']);
      const use = a.content.find((b) => b.type === 'tool_use');
      assert.equal(use.id, call.id);
      assert.deepEqual(use.input, WEATHER_ARGS);
      const tr = res.content.find((b) => b.type === 'tool_result');
      assert.equal(tr.tool_use_id, call.id);
    } else {
      const sent = up.json.messages[1].tool_calls[0].id;
      if (kind === 'mis') assert.match(sent, MISTRAL_ID);
      else assert.equal(sent, call.id);
      assert.equal(up.json.messages[2].tool_call_id, sent, 'the result pairs with its call');
    }
  });

  test(`openai-chat → ${kind}: conversation moved from openai: the returned message pushed back as is`, T, async () => {
    // OpenAI's documented pattern is messages.push(completion.choices[0].message):
    // the response message (with refusal and annotations) becomes a request message.
    // Here turn 1 ran on the openai upstream and the conversation continues on this one.
    const c = env.openai();
    const r1 = await c.chat.completions.create({ model: chatModel('oai'), messages: TOOL_USER, tools: TOOLS.openaiChat });
    const msg = r1.choices[0].message;
    const call = msg.tool_calls[0];
    const messages = [...TOOL_USER, msg, { role: 'tool', tool_call_id: call.id, content: TOOL_RESULT }];
    const r2 = await c.chat.completions.create({ model, messages, tools: TOOLS.openaiChat });
    assert.equal(r2.choices[0].message.content, mockText(16));
    assert.equal(r2.usage.prompt_tokens, promptTokens(TOOL_PROMPT, TOOL_RESULT));
  });

  test(`openai-chat → ${kind}: parallel tool results with foreign ids (ids mapped consistently)`, T, async () => {
    // Ids an OpenAI client would have from another provider: not Mistral-shaped.
    const ids = ['call_Zx9-foreign_0001', 'call_Zx9-foreign_0002'];
    const messages = [
      ...TOOL_USER,
      {
        role: 'assistant',
        content: null,
        tool_calls: ids.map((id, i) => ({
          id,
          type: 'function',
          function: { name: 'get_weather', arguments: JSON.stringify({ location: i ? 'Rome' : 'Paris' }) },
        })),
      },
      { role: 'tool', tool_call_id: ids[0], content: TOOL_RESULT },
      { role: 'tool', tool_call_id: ids[1], content: '{"temperature_c":25}' },
    ];
    await env.mock.clear();
    const r = await env.openai().chat.completions.create({ model, messages, tools: TOOLS.openaiChat });
    assert.equal(r.choices[0].message.content, mockText(16));
    assert.equal(r.usage.prompt_tokens, promptTokens(TOOL_PROMPT, TOOL_RESULT, '{"temperature_c":25}'));
    const up = await oneUpstream(env, kind);
    if (kind === 'anth') {
      assert.deepEqual(
        up.json.messages.map((m) => m.role),
        ['user', 'assistant', 'user'],
        'several tool messages in a row become one user message',
      );
      const uses = up.json.messages[1].content.filter((b) => b.type === 'tool_use').map((b) => b.id);
      const results = up.json.messages[2].content.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id);
      assert.deepEqual(uses, ids);
      assert.deepEqual(results, ids);
    } else if (kind === 'mis') {
      const sent = up.json.messages[1].tool_calls.map((t) => t.id);
      const back = [up.json.messages[2].tool_call_id, up.json.messages[3].tool_call_id];
      for (const id of sent) assert.match(id, MISTRAL_ID, 'ids sent to Mistral are 9 alphanumerics');
      assert.deepEqual(back, sent, 'tool_call_id mapped the same way as the call ids');
      assert.notEqual(sent[0], sent[1], 'different ids stay different');
    } else {
      assert.deepEqual(
        up.json.messages[1].tool_calls.map((t) => t.id),
        ids,
      );
    }
  });

  test(`openai-chat → ${kind}: JSON mode (response_format)`, T, async () => {
    const messages = [{ role: 'user', content: 'Reply with a JSON object.' }];
    await env.mock.clear();
    if (kind === 'anth') {
      const e = await mustFail(
        env.openai().chat.completions.create({ model, messages, response_format: { type: 'json_object' } }),
      );
      assert.ok(e instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${e}`);
      assert.equal(e.status, 400);
      assert.match(e.message, /response_format/);
      assert.equal((await env.upstream(kind)).length, 0, 'nothing may reach the upstream');
      return;
    }
    const r = await env.openai().chat.completions.create({ model, messages, response_format: { type: 'json_object' } });
    assert.equal(r.choices[0].message.content, mockText(16));
    const up = await oneUpstream(env, kind);
    assert.deepEqual(up.json.response_format, { type: 'json_object' });

    const schema = {
      type: 'json_schema',
      json_schema: {
        name: 'weather',
        schema: { type: 'object', properties: { t: { type: 'number' } }, required: ['t'], additionalProperties: false },
        strict: true,
      },
    };
    await env.mock.clear();
    const r2 = await env.openai().chat.completions.create({ model, messages, response_format: schema });
    assert.equal(r2.choices[0].finish_reason, 'stop');
    const up2 = await oneUpstream(env, kind);
    assert.equal(up2.json.response_format?.type, 'json_schema');
    assert.equal(up2.json.response_format?.json_schema?.name, 'weather');
  });

  test(`openai-chat → ${kind}: stop sequences are forwarded`, T, async () => {
    await env.mock.clear();
    const r = await env.openai().chat.completions.create({ model, messages: BASIC, stop: ['END', '###'] });
    assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason), r.choices[0].finish_reason);
    assert.ok(mockText(16).startsWith(r.choices[0].message.content), 'content is the mock text (or a prefix of it)');
    const up = await oneUpstream(env, kind);
    assert.deepEqual(upstreamStops(kind, up.json), ['END', '###']);
  });

  test(`openai-chat → ${kind}: max_tokens truncation → finish_reason length`, T, async () => {
    await env.mock.clear();
    const r = await env.openai().chat.completions.create({ model, messages: BASIC, max_tokens: 3 });
    assert.equal(r.choices[0].message.content, mockText(3));
    assert.equal(r.choices[0].finish_reason, 'length');
    assert.equal(r.usage.completion_tokens, 3);
    const up = await oneUpstream(env, kind);
    assert.equal(upstreamMaxTokens(up.json), 3);
  });

  test(`openai-chat → ${kind}: streamed max_completion_tokens truncation → length`, T, async () => {
    await env.mock.clear();
    const stream = await env.openai().chat.completions.create({
      model,
      messages: BASIC,
      max_completion_tokens: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    const { text, chunks, error } = await drain(stream);
    assert.equal(error, null, `stream threw: ${error}`);
    assert.equal(text, mockText(3));
    const finishes = chunks.flatMap((c) => c.choices.map((x) => x.finish_reason)).filter(Boolean);
    assert.deepEqual(finishes, ['length']);
    assert.equal(chunks.at(-1).usage?.completion_tokens, 3);
    const up = await oneUpstream(env, kind);
    assert.equal(upstreamMaxTokens(up.json), 3);
    if (kind === 'mis') assert.ok(!('max_completion_tokens' in up.json), 'Mistral only knows max_tokens');
  });

  test(`openai-chat → ${kind}: upstream errors mapped (${FAULTS.map((f) => f.fault).join(', ')})`, T, async () => {
    const c = env.openai();
    for (const { fault, status } of FAULTS) {
      const e = await mustFail(c.chat.completions.create({ model: direct(kind, `fault=${fault}`), messages: BASIC }), `fault=${fault}`);
      assert.ok(e instanceof OpenAI.APIError, `fault=${fault}: ${e}`);
      assert.equal(e.status, status, `fault=${fault}: status ${e.status} (${e.message})`);
      assert.ok(e.error && typeof e.error === 'object', `fault=${fault}: no OpenAI error object`);
      assert.equal(typeof e.error.message, 'string');
      if (status === 429) {
        assert.ok(e instanceof OpenAI.RateLimitError);
        assert.equal(e.code, 'rate_limited');
        assert.equal(e.type, 'rate_limit_error');
        assert.equal(e.headers.get('retry-after'), '1', 'Retry-After relayed');
      } else if (status === 503) {
        assert.ok(['overloaded', 'no_healthy_target'].includes(e.code), `fault=${fault}: code ${e.code}`);
        assert.equal(e.type, 'api_error');
      } else if (status === 502) {
        assert.ok(e instanceof OpenAI.InternalServerError);
        assert.equal(e.code, 'upstream_error', `fault=${fault}: code ${e.code}`);
        assert.equal(e.type, 'api_error');
      } else if (status === 400) {
        assert.ok(e instanceof OpenAI.BadRequestError);
        assert.equal(e.type, 'invalid_request_error');
      }
    }
    // Before the first byte a streaming request fails the same way.
    const e = await mustFail(
      c.chat.completions.create({ model: direct(kind, 'fault=429'), messages: BASIC, stream: true }),
      'streaming fault=429',
    );
    assert.ok(e instanceof OpenAI.RateLimitError, `${e}`);
  });

  test(`openai-chat → ${kind}: mid-stream upstream error → the SDK stream throws`, T, async () => {
    const stream = await env.openai().chat.completions.create({
      model: direct(kind, 'fault=error_event,fault_after=3'),
      messages: BASIC,
      stream: true,
    });
    const { text, error } = await drain(stream);
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError from the for-await loop, got ${error}`);
    assert.equal(text, mockText(3), 'the tokens before the error were delivered');
  });
}

test('openai-chat: unknown model → 404 model_not_found in OpenAI format', T, async () => {
  const c = env.openai();
  for (const model of ['no-such-model', 'nope/mock-fast']) {
    const e = await mustFail(c.chat.completions.create({ model, messages: BASIC }));
    assert.ok(e instanceof OpenAI.NotFoundError, `${model}: ${e}`);
    assert.equal(e.code, 'model_not_found');
    assert.equal(e.type, 'invalid_request_error');
  }
});

for (const kind of EMBED_KINDS) {
  test(`openai embeddings → ${kind}: SDK default (base64) equals float, arrays, usage`, T, async () => {
    const c = env.openai();
    const model = embedModel(kind);
    await env.mock.clear();
    const a = await c.embeddings.create({ model, input: 'hello world' });
    assert.equal(a.object, 'list');
    assert.equal(a.data.length, 1);
    const v = a.data[0].embedding;
    assert.ok(Array.isArray(v), 'base64 decoded to an array by the SDK');
    assert.equal(v.length, 8);
    assert.ok(v.every(Number.isFinite) && v.some((x) => x !== 0));
    assert.equal(a.usage.prompt_tokens, promptTokens('hello world'));
    const up = await oneUpstream(env, kind, { embeddings: true });
    assert.deepEqual(upstreamAuthProblems(env, kind, up), []);
    assert.equal(up.json.model, 'mock-embed');

    const f = await c.embeddings.create({ model, input: 'hello world', encoding_format: 'float' });
    assert.deepEqual(
      v,
      f.data[0].embedding.map((x) => Math.fround(x)),
    );
    const b = await c.embeddings.create({ model, input: ['hello world', 'something else'] });
    assert.equal(b.data.length, 2);
    assert.deepEqual(
      b.data.map((d) => d.index),
      [0, 1],
    );
    assert.deepEqual(b.data[0].embedding, v);
    assert.notDeepEqual(b.data[1].embedding, v);
  });
}

test('openai embeddings: a chat-only upstream (anthropic) has no embeddings → clear 4xx', T, async () => {
  const e = await mustFail(env.openai().embeddings.create({ model: 'anth/mock-embed', input: 'hello' }));
  assert.ok(e instanceof OpenAI.APIError, `${e}`);
  assert.ok(e.status >= 400 && e.status < 500, `status ${e.status}: ${e.message}`);
});

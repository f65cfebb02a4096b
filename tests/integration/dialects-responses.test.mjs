// Issue 3, inbound OpenAI Responses API: the official openai SDK's
// responses.create / responses.stream against asc, served from each upstream
// kind (openai, openai-compatible, anthropic, mistral — all asc-mock).
// Stateless: previous_response_id and store:true are refused with a 400.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { mockText, ms } from './lib/harness.mjs';
import {
  KINDS,
  FAULTS,
  TOOLS,
  TOOL_ID,
  TOOL_PROMPT,
  TOOL_RESULT,
  WEATHER_ARGS,
  MISTRAL_ID,
  startDialects,
  chatModel,
  direct,
  promptTokens,
  mockTokens,
  oneUpstream,
  upstreamAuthProblems,
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

/** Usage of a Responses object as {in, out, total}. */
const usageOf = (r) => ({ in: r.usage?.input_tokens, out: r.usage?.output_tokens, total: r.usage?.total_tokens });

function checkFunctionCall(kind, item) {
  assert.equal(item.type, 'function_call');
  assert.equal(item.name, 'get_weather');
  assert.deepEqual(JSON.parse(item.arguments), WEATHER_ARGS);
  assert.match(item.call_id, TOOL_ID[kind], `call_id ${item.call_id} is not the upstream's id`);
}

/** Collect a responses.stream(): every event, text deltas, final response (or the error). */
async function collect(s) {
  const events = [];
  let text = '';
  s.on('event', (e) => events.push(e));
  s.on('response.output_text.delta', (e) => {
    text += e.delta;
  });
  let final = null;
  let error = null;
  try {
    final = await s.finalResponse();
  } catch (e) {
    error = e;
  }
  return { events, text, final, error };
}

/** Raw create({stream:true}) events via for-await. */
async function rawEvents(params) {
  const stream = await env.openai().responses.create({ ...params, stream: true });
  const events = [];
  let error = null;
  try {
    for await (const e of stream) events.push(e);
  } catch (e) {
    error = e;
  }
  return { events, error };
}

for (const kind of KINDS) {
  const model = chatModel(kind);

  test(`responses → ${kind}: non-streaming text, status, usage; upstream request`, T, async () => {
    await env.mock.clear();
    const r = await env.openai().responses.create({ model, instructions: SYS, input: USER });
    assert.equal(r.object, 'response');
    assert.ok(typeof r.id === 'string' && r.id.length > 0);
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, mockText(16));
    const msgs = r.output.filter((o) => o.type === 'message');
    assert.equal(msgs.length, 1, JSON.stringify(r.output));
    assert.equal(msgs[0].role, 'assistant');
    assert.deepEqual(
      msgs[0].content.map((c) => [c.type, c.text]),
      [['output_text', mockText(16)]],
    );
    const pt = promptTokens(SYS, USER);
    assert.deepEqual(usageOf(r), { in: pt, out: 16, total: pt + 16 });

    const up = await oneUpstream(env, kind);
    assert.deepEqual(upstreamAuthProblems(env, kind, up), []);
    assert.equal(up.json.model, 'mock-fast');
    if (kind === 'anth') {
      const sys = typeof up.json.system === 'string' ? up.json.system : up.json.system.map((b) => b.text).join('');
      assert.equal(sys, SYS, 'instructions become the system prompt');
    } else {
      const first = up.json.messages[0];
      assert.ok(
        kind === 'mis' ? first.role === 'system' : ['system', 'developer'].includes(first.role),
        `instructions sent as role ${first.role}`,
      );
      assert.equal(contentText(first.content), SYS);
      assert.equal(contentText(up.json.messages[1].content), USER);
    }
  });

  test(`responses → ${kind}: input items (developer, multi-turn, input_text parts)`, T, async () => {
    const input = [
      { role: 'developer', content: 'Answer in English.' },
      { role: 'user', content: 'Hi there' },
      { role: 'assistant', content: 'Hello! How can I help?' },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Say hello to the whole suite' }] },
    ];
    await env.mock.clear();
    const r = await env.openai().responses.create({ model, input });
    assert.equal(r.output_text, mockText(16));
    assert.equal(
      r.usage.input_tokens,
      promptTokens('Answer in English.', 'Hi there', 'Hello! How can I help?', 'Say hello to the whole suite'),
    );
    const up = await oneUpstream(env, kind);
    const roles = up.json.messages.map((m) => m.role);
    if (kind === 'anth') assert.deepEqual(roles, ['user', 'assistant', 'user']);
    else if (kind === 'mis') assert.deepEqual(roles, ['system', 'user', 'assistant', 'user']);
    else assert.equal(roles.length, 4);
  });

  test(`responses → ${kind}: responses.stream() typed events, deltas, finalResponse`, T, async () => {
    const { events, text, final, error } = await collect(
      env.openai().responses.stream({ model, instructions: SYS, input: USER }),
    );
    assert.equal(error, null, `stream failed: ${error}`);
    assert.equal(text, mockText(16));
    assert.equal(final.status, 'completed');
    assert.equal(final.output_text, mockText(16));
    const pt = promptTokens(SYS, USER);
    assert.deepEqual(usageOf(final), { in: pt, out: 16, total: pt + 16 });
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    for (const t of [
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
    ])
      assert.ok(types.includes(t), `no ${t} event in ${types.join(', ')}`);
    assert.deepEqual(
      events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta),
      mockTokens(16),
      'one delta per upstream token, emitted as they come',
    );
    assert.equal(events.find((e) => e.type === 'response.output_text.done').text, mockText(16));
  });

  test(`responses → ${kind}: create({stream:true}) sequence numbers and completed usage`, T, async () => {
    const { events, error } = await rawEvents({ model, instructions: SYS, input: USER });
    assert.equal(error, null, `stream threw: ${error}`);
    const seq = events.map((e) => e.sequence_number);
    assert.deepEqual(
      seq,
      seq.map((_, i) => seq[0] + i),
      'sequence_number increases by one per event',
    );
    const completed = events.at(-1);
    assert.equal(completed.type, 'response.completed');
    assert.equal(completed.response.status, 'completed');
    const pt = promptTokens(SYS, USER);
    assert.deepEqual(usageOf(completed.response), { in: pt, out: 16, total: pt + 16 });
    const ids = new Set(events.filter((e) => e.response).map((e) => e.response.id));
    assert.equal(ids.size, 1, 'one response id across lifecycle events');
  });

  test(`responses → ${kind}: function call (non-streaming)`, T, async () => {
    const r = await env.openai().responses.create({ model, input: TOOL_PROMPT, tools: TOOLS.responses });
    assert.equal(r.status, 'completed');
    const calls = r.output.filter((o) => o.type === 'function_call');
    assert.equal(calls.length, 1, JSON.stringify(r.output));
    checkFunctionCall(kind, calls[0]);
    assert.equal(r.output_text, '');
    assert.equal(r.usage.input_tokens, promptTokens(TOOL_PROMPT));
    assert.ok(r.usage.output_tokens > 0);
  });

  test(`responses → ${kind}: parallel function calls (tool_calls=2)`, T, async () => {
    const r = await env.openai().responses.create({
      model: direct(kind, 'tool_calls=2'),
      input: TOOL_PROMPT,
      tools: TOOLS.responses,
    });
    const calls = r.output.filter((o) => o.type === 'function_call');
    assert.equal(calls.length, 2, JSON.stringify(r.output));
    for (const c of calls) checkFunctionCall(kind, c);
    assert.notEqual(calls[0].call_id, calls[1].call_id);
  });

  test(`responses → ${kind}: streamed function-call arguments (single and parallel)`, T, async () => {
    for (const [m, n] of [
      [model, 1],
      [direct(kind, 'tool_calls=2'), 2],
    ]) {
      const s = env.openai().responses.stream({ model: m, input: TOOL_PROMPT, tools: TOOLS.responses });
      const deltas = new Map();
      const done = [];
      s.on('response.function_call_arguments.delta', (e) => {
        deltas.set(e.item_id, (deltas.get(e.item_id) ?? '') + e.delta);
      });
      s.on('response.function_call_arguments.done', (e) => done.push(e));
      const { final, error, events } = await collect(s);
      assert.equal(error, null, `${m}: stream failed: ${error}`);
      const calls = final.output.filter((o) => o.type === 'function_call');
      assert.equal(calls.length, n, `${m}: ${JSON.stringify(final.output)}`);
      for (const c of calls) checkFunctionCall(kind, c);
      assert.equal(done.length, n);
      for (const d of done) {
        assert.deepEqual(JSON.parse(d.arguments), WEATHER_ARGS);
        assert.equal(deltas.get(d.item_id), d.arguments, 'argument deltas add up to the done arguments');
      }
      assert.equal(events.at(-1).type, 'response.completed');
      assert.ok(final.usage?.output_tokens > 0, 'usage on the completed response');
    }
  });

  test(`responses → ${kind}: function_call_output on the next turn → text`, T, async () => {
    const c = env.openai();
    const r1 = await c.responses.create({ model, input: TOOL_PROMPT, tools: TOOLS.responses });
    const calls = r1.output.filter((o) => o.type === 'function_call');
    assert.equal(calls.length, 1);
    // The documented pattern: append the output items, then the results.
    const input = [
      { role: 'user', content: TOOL_PROMPT },
      ...r1.output,
      { type: 'function_call_output', call_id: calls[0].call_id, output: TOOL_RESULT },
    ];
    await env.mock.clear();
    const r2 = await c.responses.create({ model, input, tools: TOOLS.responses });
    assert.equal(r2.status, 'completed');
    assert.equal(r2.output_text, mockText(16));
    assert.equal(r2.usage.input_tokens, promptTokens(TOOL_PROMPT, TOOL_RESULT), 'the tool output reached the upstream as text');
    const up = await oneUpstream(env, kind);
    if (kind === 'anth') {
      const [, a, res] = up.json.messages;
      assert.equal(a.content.find((b) => b.type === 'tool_use')?.id, calls[0].call_id);
      assert.equal(res.content.find((b) => b.type === 'tool_result')?.tool_use_id, calls[0].call_id);
    } else {
      const sent = up.json.messages[1].tool_calls[0].id;
      if (kind === 'mis') assert.match(sent, MISTRAL_ID);
      else assert.equal(sent, calls[0].call_id);
      assert.equal(up.json.messages[2].tool_call_id, sent, 'the output pairs with its call');
    }
  });

  test(`responses → ${kind}: JSON mode (text.format)`, T, async () => {
    const input = 'Reply with a JSON object.';
    await env.mock.clear();
    if (kind === 'anth') {
      const e = await mustFail(env.openai().responses.create({ model, input, text: { format: { type: 'json_object' } } }));
      assert.ok(e instanceof OpenAI.BadRequestError, `expected BadRequestError, got ${e}`);
      assert.match(e.message, /response_format|text\.format/);
      assert.equal((await env.upstream(kind)).length, 0, 'nothing may reach the upstream');
      return;
    }
    const r = await env.openai().responses.create({ model, input, text: { format: { type: 'json_object' } } });
    assert.equal(r.status, 'completed');
    assert.equal(r.output_text, mockText(16));
    const up = await oneUpstream(env, kind);
    assert.deepEqual(up.json.response_format, { type: 'json_object' });

    await env.mock.clear();
    const r2 = await env.openai().responses.create({
      model,
      input,
      text: {
        format: {
          type: 'json_schema',
          name: 'weather',
          schema: { type: 'object', properties: { t: { type: 'number' } }, required: ['t'], additionalProperties: false },
          strict: true,
        },
      },
    });
    assert.equal(r2.status, 'completed');
    const up2 = await oneUpstream(env, kind);
    assert.equal(up2.json.response_format?.type, 'json_schema');
    assert.equal(up2.json.response_format?.json_schema?.name, 'weather');
  });

  test(`responses → ${kind}: max_output_tokens truncation → incomplete (max_output_tokens)`, T, async () => {
    await env.mock.clear();
    const r = await env.openai().responses.create({ model, instructions: SYS, input: USER, max_output_tokens: 3 });
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(r.output_text, mockText(3));
    assert.equal(r.usage.output_tokens, 3);
    const up = await oneUpstream(env, kind);
    assert.equal(upstreamMaxTokens(up.json), 3);

    const { events, text, final, error } = await collect(
      env.openai().responses.stream({ model, instructions: SYS, input: USER, max_output_tokens: 3 }),
    );
    assert.equal(error, null, `stream failed: ${error}`);
    assert.equal(text, mockText(3));
    assert.equal(events.at(-1).type, 'response.incomplete', `last event ${events.at(-1).type}`);
    assert.equal(final.status, 'incomplete');
    assert.equal(final.incomplete_details?.reason, 'max_output_tokens');
    assert.equal(final.usage?.output_tokens, 3);
  });

  test(`responses → ${kind}: upstream errors mapped (${FAULTS.map((f) => f.fault).join(', ')})`, T, async () => {
    const c = env.openai();
    for (const { fault, status } of FAULTS) {
      const e = await mustFail(c.responses.create({ model: direct(kind, `fault=${fault}`), input: USER }), `fault=${fault}`);
      assert.ok(e instanceof OpenAI.APIError, `fault=${fault}: ${e}`);
      assert.equal(e.status, status, `fault=${fault}: status ${e.status} (${e.message})`);
      if (status === 429) {
        assert.ok(e instanceof OpenAI.RateLimitError);
        assert.equal(e.code, 'rate_limited');
        assert.equal(e.headers.get('retry-after'), '1');
      } else if (status === 503) {
        assert.ok(['overloaded', 'no_healthy_target'].includes(e.code), `fault=${fault}: code ${e.code}`);
      } else if (status === 502) {
        assert.equal(e.code, 'upstream_error', `fault=${fault}: code ${e.code}`);
      } else if (status === 400) {
        assert.ok(e instanceof OpenAI.BadRequestError);
      }
    }
    const e = await mustFail(
      c.responses.create({ model: direct(kind, 'fault=429'), input: USER, stream: true }),
      'streaming fault=429',
    );
    assert.ok(e instanceof OpenAI.RateLimitError, `${e}`);
  });

  test(`responses → ${kind}: mid-stream upstream error → the SDK stream throws`, T, async () => {
    const { text, error } = await collect(
      env.openai().responses.stream({ model: direct(kind, 'fault=error_event,fault_after=3'), input: USER }),
    );
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${error}`);
    assert.equal(text, mockText(3), 'the tokens before the error were delivered');

    const raw = await rawEvents({ model: direct(kind, 'fault=error_event,fault_after=3'), input: USER });
    assert.ok(raw.error instanceof OpenAI.APIError, `for-await: expected an APIError, got ${raw.error}`);
    assert.ok(!raw.events.some((ev) => ev.type === 'response.completed'), 'a failed stream must not complete');
  });
}

test('responses: previous_response_id is refused with a 400 naming it', T, async () => {
  await env.mock.clear();
  const e = await mustFail(
    env.openai().responses.create({ model: chatModel('oai'), input: USER, previous_response_id: 'resp_0123456789abcdef' }),
  );
  assert.ok(e instanceof OpenAI.BadRequestError, `${e}`);
  assert.equal(e.status, 400);
  assert.match(e.message, /previous_response_id/);
  assert.equal(e.type, 'invalid_request_error');
  assert.equal((await env.mock.apiRequests()).length, 0, 'nothing may reach an upstream');
});

test('responses: store:true is refused with a 400 naming it; store:false is fine', T, async () => {
  await env.mock.clear();
  const e = await mustFail(env.openai().responses.create({ model: chatModel('oai'), input: USER, store: true }));
  assert.ok(e instanceof OpenAI.BadRequestError, `${e}`);
  assert.match(e.message, /store/);
  assert.equal((await env.mock.apiRequests()).length, 0, 'nothing may reach an upstream');
  const r = await env.openai().responses.create({ model: chatModel('anth'), input: USER, store: false });
  assert.equal(r.output_text, mockText(16));
});

test('responses: unknown model → 404 model_not_found in OpenAI format', T, async () => {
  const e = await mustFail(env.openai().responses.create({ model: 'no-such-model', input: USER }));
  assert.ok(e instanceof OpenAI.NotFoundError, `${e}`);
  assert.equal(e.code, 'model_not_found');
});

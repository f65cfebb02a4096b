// Shared set-up for the provider-dialect suites (issue 3): one asc-mock, one
// asc with four providers of different kinds all pointing at that mock, the
// official SDKs' clients for asc, tool definitions in each dialect, and the
// answers a correct gateway must give (computed from the mock contract, never
// from asc).
//
//   dialects-openai-chat.test.mjs   openai SDK  chat.completions  (+ embeddings)
//   dialects-responses.test.mjs     openai SDK  responses
//   dialects-anthropic.test.mjs     @anthropic-ai/sdk  messages
//   dialects-mistral.test.mjs       @mistralai/mistralai  chat (+ embeddings)
//
// Each suite loops over KINDS and generates one test per (feature, kind).
import Anthropic from '@anthropic-ai/sdk';
import { Mistral } from '@mistralai/mistralai';
import {
  startMock,
  startAsc,
  stopAll,
  serverSection,
  newKey,
  sha256,
  canary,
  ms,
  recordingFetch,
  WORDS,
} from './harness.mjs';

/** The four upstream kinds under test (provider names in the asc config). */
export const KINDS = ['oai', 'compat', 'anth', 'mis'];
/** The kinds that have an embeddings endpoint. */
export const EMBED_KINDS = ['oai', 'compat', 'mis'];

/** Per provider name: its config kind and the mock paths it must reach. */
export const KIND = {
  oai: { kind: 'openai', chatPath: '/v1/chat/completions', embedPath: '/v1/embeddings' },
  compat: { kind: 'openai-compatible', chatPath: '/v1/chat/completions', embedPath: '/v1/embeddings' },
  anth: { kind: 'anthropic', chatPath: '/v1/messages', embedPath: null },
  mis: { kind: 'mistral', chatPath: '/mistral/v1/chat/completions', embedPath: '/mistral/v1/embeddings' },
};

/** Public chat model name of a kind ("m-oai" → oai/mock-fast). */
export const chatModel = (kind) => `m-${kind}`;
/** Public embedding model name of a kind ("e-mis" → mis/mock-embed). */
export const embedModel = (kind) => `e-${kind}`;
/** Direct addressing with mock parameters: "anth/mock-fast@tool_calls=2". */
export const direct = (kind, params) => `${kind}/mock-fast${params ? `@${params}` : ''}`;

/** Tokens the mock counts for these prompt texts: ceil(UTF-8 bytes / 4), at least 1. */
export function promptTokens(...texts) {
  let bytes = 0;
  for (const t of texts) bytes += Buffer.byteLength(t);
  return Math.max(1, Math.ceil(bytes / 4));
}

/** The mock's generated words, token by token (for stream prefix checks). */
export function mockTokens(n) {
  return Array.from({ length: n }, (_, i) => (i > 0 ? ' ' : '') + WORDS[i % WORDS.length]);
}

/** JSON schema of get_weather: one required string → the mock calls it with {"location":"test"}. */
export const WEATHER_PARAMS = {
  type: 'object',
  properties: {
    location: { type: 'string', description: 'City and country, e.g. Paris, France' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
  },
  required: ['location'],
};
export const WEATHER_ARGS = { location: 'test' };
export const WEATHER_DESC = 'Get the current weather for a location';
/** A user turn that makes the mock call the tool (it names "tool" and the tool). */
export const TOOL_PROMPT = 'What is the weather in Paris? Use the get_weather tool.';
/** The tool result sent back on the next turn. */
export const TOOL_RESULT = '{"temperature_c":21,"conditions":"sunny"}';

/** get_weather in each dialect's tool format. */
export const TOOLS = {
  openaiChat: [{ type: 'function', function: { name: 'get_weather', description: WEATHER_DESC, parameters: WEATHER_PARAMS } }],
  responses: [{ type: 'function', name: 'get_weather', description: WEATHER_DESC, parameters: WEATHER_PARAMS }],
  anthropic: [{ name: 'get_weather', description: WEATHER_DESC, input_schema: WEATHER_PARAMS }],
  mistral: [{ type: 'function', function: { name: 'get_weather', description: WEATHER_DESC, parameters: WEATHER_PARAMS } }],
};

/** Tool-call arguments as an object (a JSON string, or already an object as the Mistral SDK may give). */
export function parseArgs(a) {
  return typeof a === 'string' ? JSON.parse(a) : a;
}

/** Mistral tool-call ids: 9 characters of [a-zA-Z0-9]. */
export const MISTRAL_ID = /^[A-Za-z0-9]{9}$/;
/** Tool-call ids each upstream produces (mock contract); asc passes them through. */
export const TOOL_ID = {
  oai: /^call_mock\d+$/,
  compat: /^call_mock\d+$/,
  anth: /^toolu_mock\d+$/,
  mis: MISTRAL_ID,
};

/**
 * Upstream faults and the status a client must see (gateway contract):
 * 429 stays 429, 503 and 529 (overloaded) become 503, 500 becomes 502.
 */
export const FAULTS = [
  { fault: '429', status: 429 },
  { fault: '503', status: 503 },
  { fault: '529', status: 503 },
  { fault: '500', status: 502 },
  { fault: '401', status: 502 }, // upstream auth failure is the gateway's problem, not the client's
  { fault: '400', status: 400 }, // other upstream 4xx are relayed
];

/**
 * Start asc-mock and asc with the four providers. Returns an environment:
 * { mock, asc, key, secrets: {OAI_KEY, ANTH_KEY, MIS_KEY}, baseURL,
 *   anthropic(opts), mistral(opts), openai(opts), upstream(kind), stop() }.
 */
export async function startDialects() {
  const secrets = { OAI_KEY: canary('oaikey'), ANTH_KEY: canary('anthkey'), MIS_KEY: canary('miskey') };
  const key = newKey();
  const mock = await startMock();
  let asc;
  try {
    const models = {};
    for (const k of KINDS) models[chatModel(k)] = { provider: k, model: 'mock-fast' };
    for (const k of EMBED_KINDS) models[embedModel(k)] = { provider: k, model: 'mock-embed', type: 'embedding' };
    asc = await startAsc({
      config: {
        server: serverSection(),
        providers: [
          { name: 'oai', kind: 'openai', base_url: `${mock.url}/v1`, api_key: 'env:OAI_KEY' },
          { name: 'compat', kind: 'openai-compatible', base_url: `${mock.url}/v1` },
          { name: 'anth', kind: 'anthropic', base_url: mock.url, api_key: 'env:ANTH_KEY' },
          { name: 'mis', kind: 'mistral', base_url: `${mock.url}/mistral`, api_key: 'env:MIS_KEY' },
        ],
        models,
        keys: [{ name: 'dialects', key: `sha256:${sha256(key)}`, models: ['*'] }],
      },
      env: secrets,
    });
  } catch (e) {
    await mock.stop();
    throw e;
  }
  const env = {
    mock,
    asc,
    key,
    secrets,
    baseURL: asc.baseURL,
    /** OpenAI SDK client (retries off, recorded). */
    openai: (opts = {}) => asc.client(key, opts),
    /** Anthropic SDK client against asc's root (it appends /v1/messages). */
    anthropic: (opts = {}) =>
      new Anthropic({
        apiKey: key,
        baseURL: asc.baseURL,
        maxRetries: 0,
        timeout: ms(30000),
        fetch: recordingFetch,
        ...opts,
      }),
    /** Mistral SDK client against asc's root (it appends /v1/...). */
    mistral: (opts = {}) =>
      new Mistral({
        apiKey: key,
        serverURL: asc.baseURL,
        retryConfig: { strategy: 'none' },
        timeoutMs: ms(30000),
        ...opts,
      }),
    /**
     * The chat requests the mock received for a provider since the last
     * mock.clear(), bodies parsed. oai and compat share a path; they are
     * told apart by the provider key (compat has none).
     */
    async upstream(kind, { embeddings = false } = {}) {
      const p = embeddings ? KIND[kind].embedPath : KIND[kind].chatPath;
      const reqs = (await mock.apiRequests()).filter((r) => r.path === p);
      const mine = reqs.filter((r) => {
        if (kind === 'oai') return r.headers.authorization === `Bearer ${secrets.OAI_KEY}`;
        if (kind === 'compat') return r.headers.authorization !== `Bearer ${secrets.OAI_KEY}`;
        return true;
      });
      return mine.map((r) => {
        let body;
        try {
          body = JSON.parse(r.body);
        } catch {
          body = undefined;
        }
        return { ...r, json: body };
      });
    },
    async stop() {
      await stopAll(asc, mock);
    },
  };
  return env;
}

/** The single upstream request of a kind since the last clear (throws unless exactly one). */
export async function oneUpstream(env, kind, opts) {
  const reqs = await env.upstream(kind, opts);
  if (reqs.length !== 1) {
    throw new Error(
      `expected exactly one upstream request to ${kind}, the mock saw ${reqs.length}: ` +
        JSON.stringify(reqs.map((r) => ({ path: r.path, body: r.body.slice(0, 300) }))),
    );
  }
  return reqs[0];
}

/**
 * Check the credentials of an upstream request: the provider's own key (in
 * the provider's header), never the client's virtual key.
 */
export function upstreamAuthProblems(env, kind, req) {
  const problems = [];
  const h = req.headers;
  const all = JSON.stringify(h) + req.body;
  if (all.includes(env.key)) problems.push('the client virtual key reached the upstream');
  const bearer = h.authorization;
  switch (kind) {
    case 'oai':
      if (bearer !== `Bearer ${env.secrets.OAI_KEY}`) problems.push(`authorization: ${bearer}`);
      break;
    case 'compat':
      if (bearer !== undefined) problems.push(`compat has no api_key but sent authorization: ${bearer}`);
      break;
    case 'anth':
      if (h['x-api-key'] !== env.secrets.ANTH_KEY && bearer !== `Bearer ${env.secrets.ANTH_KEY}`)
        problems.push(`no Anthropic key: x-api-key=${h['x-api-key']} authorization=${bearer}`);
      if (!h['anthropic-version']) problems.push('no anthropic-version header upstream');
      break;
    case 'mis':
      if (bearer !== `Bearer ${env.secrets.MIS_KEY}`) problems.push(`authorization: ${bearer}`);
      break;
  }
  return problems;
}

/** Where the upstream request put its stop sequences (stop / stop_sequences), as an array. */
export function upstreamStops(kind, body) {
  const v = kind === 'anth' ? body.stop_sequences : body.stop;
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

/** The upstream request's output-token cap (max_tokens or max_completion_tokens). */
export function upstreamMaxTokens(body) {
  return body.max_completion_tokens ?? body.max_tokens;
}

/** Await a promise that must reject; returns the error. */
export async function mustFail(p, what = 'request') {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error(`expected the ${what} to fail, but it succeeded`);
}

/** A 1x1 PNG, base64 (for image content parts). */
export const PNG_B64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/** The text of an Anthropic `system` (string or text blocks). */
export function systemText(system) {
  if (system === undefined || system === null) return '';
  if (typeof system === 'string') return system;
  return system.map((b) => b.text ?? '').join('');
}

/** The text of an OpenAI-shaped message content (string or text parts). */
export function contentText(content) {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

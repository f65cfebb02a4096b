// The control plane end to end: the admin API (docs/admin.md) and the `asc`
// CLI against a real `asc serve`, with asc-mock as the provider.
//
//  * the "done when" flow: a platform admin creates a tenant, a team, a
//    tenant-scoped credential, a user and a key with the CLI; the key works
//    with the openai SDK, sees only its approved models, and its traffic uses
//    the tenant's credential; revoke; the change log names the actor;
//  * CRUD, pagination, filters, If-Match, 409 / 404;
//  * file-managed objects, apply / diff (drift), SIGHUP;
//  * revocation under load and rotation with overlap;
//  * ADVERSARIAL.md #7 (canary secrets never leave), #1 (SQL metacharacters)
//    and #4 (path tricks on the admin API).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  startMock,
  startAsc,
  stopAll,
  serverSection,
  newKey,
  sha256,
  canary,
  mockText,
  ms,
  waitUntil,
  transcriptText,
} from './lib/harness.mjs';
import { rawRequest, buildRequest } from './lib/raw.mjs';

const T = { timeout: ms(60000) };
const ADMIN = `adm-${randomBytes(16).toString('hex')}`; // the bootstrap token
const FILE_KEY = newKey(); // keys.file-key in the config file
const GONE_KEY = newKey(); // keys.file-key-gone, removed from the file later
// Provider secrets planted as canaries (ADVERSARIAL #7): none may ever appear
// in anything asc writes or answers, except the upstream request itself.
const CANARY = {
  global: canary('sk-global'), // provider up's own api_key (env:UP_KEY)
  acme: canary('sk-canary'), // credential acme-up (tenant acme)
  leak: canary('sk-canary-leak'), // credential leak-up (tenant leak)
  rotated: canary('sk-canary-rot'), // leak-up's secret after a PATCH
  refused: canary('sk-canary-refused'), // only ever sent in refused requests
};
// Another secret of asc's own environment (like ASC_MASTER_KEY would be).
const SERVER_SECRET = canary('srv');
const SQL = ["' OR 1=1--", '"; DROP TABLE objects;--', 'pg_sleep(8)', "x' UNION SELECT doc FROM objects--"];
const SQL_ERROR = /sqlite|syntax error|SQL logic|near "|no such (table|column)|unrecognized token/i;

let mock;
let asc;
let confPath; // realpath of asc's config file
// Everything the admin API and the CLI answered, for the leak sweep. A secret
// that asc generates may appear in exactly one of these: its `origin`.
const adminLog = [];
const cliLog = [];
const oneTimeSecrets = []; // {what, secret, origin}

const baseConfig = ({ gone = true } = {}) => ({
  server: serverSection({ workers: 2, access_log: asc?.accessLogPath }),
  providers: [{ name: 'up', kind: 'openai-compatible', base_url: `${mock.url}/v1`, api_key: 'env:UP_KEY' }],
  models: {
    'mock-fast': { provider: 'up', model: 'mock-fast' },
    'mock-slow': { provider: 'up', model: 'mock-fast@tokens=3,latency_ms=5' },
    other: { provider: 'up', model: 'other' },
    'mock-401': { provider: 'up', model: 'mock-fast@fault=401' },
  },
  keys: [
    { name: 'file-key', key: `sha256:${sha256(FILE_KEY)}`, models: ['*'] },
    ...(gone ? [{ name: 'file-key-gone', key: `sha256:${sha256(GONE_KEY)}`, models: ['*'] }] : []),
  ],
});

before(async () => {
  mock = await startMock();
  const cfg = baseConfig();
  delete cfg.server.access_log; // startAsc puts it in its temp dir
  asc = await startAsc({
    config: cfg,
    env: { ASC_ADMIN_TOKEN: ADMIN, UP_KEY: CANARY.global, ASC_TEST_SERVER_SECRET: SERVER_SECRET },
  });
  assert.ok(asc.adminPort, `no admin API line\n${asc.proc.tail()}`);
  confPath = realpathSync(asc.configPath);
});

after(async () => {
  await stopAll(asc, mock);
});

// ---- helpers ----

async function adm(method, p, { token = ADMIN, body, headers } = {}) {
  const r = await asc.admin(method, p, { token: token ?? undefined, body, headers });
  adminLog.push({ what: `${method} ${p}`, text: r.text, headers: [...r.headers].join('\n') });
  return r;
}
async function cli(args, { token = ADMIN, env } = {}) {
  const r = await asc.cli(args, { token: token ?? undefined, env });
  cliLog.push({ what: `asc ${args.join(' ')}`, text: `${r.stdout}\n${r.stderr}` });
  return r;
}
/** Create a key through the API; returns its secret (remembered as one-time). */
async function createKey(name, fields = {}) {
  const r = await adm('POST', '/admin/v1/keys', { body: { name, ...fields } });
  assert.equal(r.status, 201, `create key ${name}: ${r.text}`);
  assert.match(r.json.secret, /^sk-asc-[A-Za-z0-9_-]{20,}$/);
  oneTimeSecrets.push({ what: `key ${name}`, secret: r.json.secret, origin: adminLog.at(-1) });
  return r.json.secret;
}
async function mustCreate(kind, body) {
  const r = await adm('POST', `/admin/v1/${kind}`, { body });
  assert.equal(r.status, 201, `create ${kind} ${body.name}: ${r.text}`);
  return r.json;
}
let seq = 0;
/** A chat request through the data plane; {status, json, text, id}. */
async function chat(key, model = 'mock-fast', content) {
  const id = `ca-${process.pid}-${String(++seq).padStart(6, '0')}`; // no id is a prefix of another
  const r = await asc.request('POST', '/v1/chat/completions', {
    key,
    headers: { 'x-request-id': id },
    body: { model, messages: [{ role: 'user', content: content ?? `hello ${id}` }] },
  });
  return { ...r, id };
}
/** The mock's record of the upstream request whose body contains marker. */
async function upstreamOf(marker) {
  return waitUntil(async () => (await mock.apiRequests()).find((r) => (r.body ?? '').includes(marker)), {
    what: `the upstream request with ${marker}`,
  });
}
const errCode = (r) => r.json?.error?.code;
const names = (list) => list.json.data.map((o) => o.name);
const enc = encodeURIComponent;

// ---- 1, 2: the done-when flow ----

describe('done-when flow: a platform admin with the CLI, then the data plane', () => {
  let k1;
  let narrow;

  test('asc tenants/teams/credentials/users create', T, async () => {
    const t = await cli(['tenants', 'create', 'acme', '--set', 'models=mock-fast,mock-slow', '-o', 'json']);
    assert.equal(t.code, 0, t.stderr);
    const tj = JSON.parse(t.stdout);
    assert.equal(tj.name, 'acme');
    assert.deepEqual(tj.models, ['mock-fast', 'mock-slow']);
    assert.equal(tj.meta.managed_by, 'api');
    assert.equal(tj.meta.created_by, 'bootstrap-token');
    assert.match(tj.meta.etag, /^[0-9a-f]{64}$/);

    const team = await cli(['teams', 'create', 'ml', '--set', 'tenant=acme']);
    assert.equal(team.code, 0, team.stderr);
    assert.match(team.stdout, /created team ml \(revision \d+\)/);
    // a team wider than its tenant: refused, naming the field and the model
    const wide = await cli(['teams', 'create', 'wide', '--set', 'tenant=acme', '--set', 'models=other']);
    assert.equal(wide.code, 1);
    assert.match(wide.stderr, /models/);
    assert.match(wide.stderr, /other/);
    assert.equal((await adm('GET', '/admin/v1/teams/wide')).status, 404);

    const cred = await cli([
      'credentials', 'create', 'acme-up', '--set', 'provider=up', '--set', 'tenant=acme',
      '--set', `secret=${CANARY.acme}`, '-o', 'json',
    ]);
    assert.equal(cred.code, 0, cred.stderr);
    const cj = JSON.parse(cred.stdout);
    assert.deepEqual(
      { name: cj.name, provider: cj.provider, tenant: cj.tenant, last4: cj.last4 },
      { name: 'acme-up', provider: 'up', tenant: 'acme', last4: CANARY.acme.slice(-4) },
    );
    assert.equal(cj.secret, undefined);
    assert.equal(cj.api_key, undefined, 'the sealed api_key is shown');

    const u = await cli([
      'users', 'create', 'dev@acme.test', '--set', 'role=developer', '--set', 'tenant=acme',
      '--set', 'team=ml', '--set', 'email=dev@acme.test',
    ]);
    assert.equal(u.code, 0, u.stderr);
    const noTeam = await cli(['users', 'create', 'dev2@acme.test', '--set', 'role=developer', '--set', 'tenant=acme']);
    assert.equal(noTeam.code, 1);
    assert.match(noTeam.stderr, /team/);
    const ug = await adm('GET', `/admin/v1/users/${enc('dev@acme.test')}`);
    assert.equal(ug.status, 200);
    assert.deepEqual(
      { role: ug.json.role, tenant: ug.json.tenant, team: ug.json.team },
      { role: 'developer', tenant: 'acme', team: 'ml' },
    );
  });

  test('asc keys create prints the secret once; list and get show only the hint', T, async () => {
    const r = await cli(['keys', 'create', 'k1', '--set', 'team=ml']);
    assert.equal(r.code, 0, r.stderr);
    const m = /secret: (sk-asc-\S+)/.exec(r.stdout);
    assert.ok(m, `no secret in ${r.stdout}`);
    k1 = m[1];
    oneTimeSecrets.push({ what: 'key k1 (CLI)', secret: k1, origin: cliLog.at(-1) });

    const list = await cli(['keys', 'list', '-o', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const row = JSON.parse(list.stdout).data.find((k) => k.name === 'k1');
    assert.ok(row, list.stdout);
    assert.deepEqual(
      { tenant: row.tenant, team: row.team, key_hint: row.key_hint, state: row.state, last_used_at: row.last_used_at },
      { tenant: 'acme', team: 'ml', key_hint: `...${k1.slice(-4)}`, state: 'active', last_used_at: null },
    );
    assert.ok(!list.stdout.includes(k1));
    assert.ok(!list.stdout.includes(sha256(k1)), 'the key hash is shown');
    const table = await cli(['keys', 'list']);
    assert.match(table.stdout, new RegExp(`^k1\\s+acme\\s+ml\\s.*\\.\\.\\.${k1.slice(-4)}`, 'm'));

    narrow = await createKey('k-narrow', { team: 'ml', models: ['mock-fast'] });
    // a key wider than its team (and tenant): refused naming the field
    const wide = await adm('POST', '/admin/v1/keys', { body: { name: 'k-wide', team: 'ml', models: ['other'] } });
    assert.equal(wide.status, 400, wide.text);
    assert.equal(errCode(wide), 'invalid_request');
    assert.match(wide.json.error.message, /models/);
  });

  test('a personal access token created with the bootstrap token belongs to "bootstrap"', T, async () => {
    const r = await adm('POST', '/admin/v1/tokens', { body: { name: 'ci-token' } });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.secret, /^asc-pat-/);
    oneTimeSecrets.push({ what: 'token ci-token', secret: r.json.secret, origin: adminLog.at(-1) });
    assert.equal(r.json.user, 'bootstrap');
    assert.equal(r.json.role, 'platform-admin');
    const who = await cli(['whoami', '-o', 'json'], { token: r.json.secret });
    assert.equal(who.code, 0, who.stderr);
    assert.deepEqual(JSON.parse(who.stdout), {
      subject: 'bootstrap', role: 'platform-admin', tenant: null, team: null, via: 'pat',
    });
    const t = await cli(['teams', 'create', 'ml2', '--set', 'tenant=acme'], { token: r.json.secret });
    assert.equal(t.code, 0, t.stderr);
    const g = await adm('GET', '/admin/v1/teams/ml2');
    assert.equal(g.json.meta.created_by, 'bootstrap (pat)');
  });

  test('the openai SDK with the new key; its traffic carries the tenant credential', T, async () => {
    const id = `sdk-${randomBytes(6).toString('hex')}`;
    const res = await asc.client(k1).chat.completions.create(
      { model: 'mock-fast', messages: [{ role: 'user', content: `marker ${id}` }] },
      { headers: { 'x-request-id': id } },
    );
    assert.equal(res.choices[0].message.content, mockText(16));
    const up = await upstreamOf(id);
    assert.equal(up.headers.authorization, `Bearer ${CANARY.acme}`, 'acme traffic must use the acme credential');
    const e = await asc.waitAccess((x) => x.request_id === id);
    assert.deepEqual(
      { status: e.status, key: e.key, tenant: e.tenant, team: e.team, credential: e.credential },
      { status: 200, key: 'k1', tenant: 'acme', team: 'ml', credential: 'acme-up' },
    );
    assert.ok(e.events.some((ev) => ev.ev === 'credential' && ev.credential === 'acme-up'), JSON.stringify(e.events));
    // last use shows up on reads
    await waitUntil(async () => (await adm('GET', '/admin/v1/keys/k1')).json.last_used_at, { what: 'last_used_at' });

    // another tenant (no credential of its own) uses the provider's own key
    await mustCreate('tenants', { name: 'globex', models: ['mock-fast'] });
    const gk = await createKey('g1', { tenant: 'globex' });
    const r = await chat(gk, 'mock-fast');
    assert.equal(r.status, 200, r.text);
    assert.equal((await upstreamOf(r.id)).headers.authorization, `Bearer ${CANARY.global}`);
    // and so does the file key, which has no tenant
    const f = await chat(FILE_KEY, 'mock-fast');
    assert.equal(f.status, 200, f.text);
    assert.equal((await upstreamOf(f.id)).headers.authorization, `Bearer ${CANARY.global}`);
  });

  test('/v1/models lists only what the key, its team and its tenant allow', T, async () => {
    const ids = async (key) => (await asc.client(key).models.list()).data.map((m) => m.id).sort();
    assert.deepEqual(await ids(k1), ['mock-fast', 'mock-slow']);
    assert.deepEqual(await ids(narrow), ['mock-fast']);
    assert.deepEqual(await ids(FILE_KEY), ['mock-401', 'mock-fast', 'mock-slow', 'other']);
    const r = await chat(k1, 'other');
    assert.equal(r.status, 403, r.text);
    assert.equal(errCode(r), 'model_not_allowed');
    assert.equal((await chat(narrow, 'mock-slow')).status, 403);
  });

  test('asc keys revoke: refused at once; asc changes list names the actors', T, async () => {
    const before = (await adm('GET', '/admin/v1/keys/k1')).json.meta.etag;
    const r = await cli(['keys', 'revoke', 'k1']);
    assert.equal(r.code, 0, r.stderr);
    const c = await chat(k1);
    assert.equal(c.status, 401, c.text);
    assert.equal(errCode(c), 'invalid_api_key');
    const g = await adm('GET', '/admin/v1/keys/k1');
    assert.equal(g.json.state, 'revoked');
    assert.equal((await chat(narrow)).status, 200, 'revoking k1 touched another key');

    const ch = await cli(['changes', 'list', '--kind', 'key', '--name', 'k1', '-o', 'json']);
    assert.equal(ch.code, 0, ch.stderr);
    const rows = JSON.parse(ch.stdout).data;
    assert.deepEqual(rows.map((x) => [x.action, x.actor, x.tenant]), [
      ['create', 'bootstrap-token', 'acme'],
      ['update', 'bootstrap-token', 'acme'],
    ]);
    assert.equal(rows[1].before_digest, before);
    assert.equal(rows[1].after_digest, g.json.meta.etag);
    assert.ok(rows[1].revision > rows[0].revision);
    for (const k of ['id', 'revision', 'actor', 'kind', 'name', 'tenant', 'action', 'before_digest', 'after_digest', 'at'])
      assert.ok(k in rows[1], `change row lacks ${k}`);

    const table = await cli(['changes', 'list', '--all']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /asc serve \(start\)\s+create\s+key\s+file-key/);
    assert.match(table.stdout, /bootstrap-token\s+create\s+tenant\s+acme\s+acme/);
    assert.match(table.stdout, /bootstrap \(pat\)\s+create\s+team\s+ml2/);
    const byActor = await adm('GET', `/admin/v1/changes?actor=${enc('bootstrap (pat)')}`);
    assert.deepEqual(byActor.json.data.map((x) => `${x.kind}/${x.name}`), ['team/ml2']);
  });
});

// ---- 3: CRUD ----

describe('CRUD, pagination, filters, If-Match', () => {
  test('create, 409, get with ETag, 404', T, async () => {
    const c = await adm('POST', '/admin/v1/tenants', { body: { name: 'crud-t', description: 'one', models: ['mock-fast'] } });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.headers.get('etag'), `"${c.json.meta.etag}"`);
    const dup = await adm('POST', '/admin/v1/tenants', { body: { name: 'crud-t' } });
    assert.equal(dup.status, 409);
    assert.equal(errCode(dup), 'already_exists');
    const g = await adm('GET', '/admin/v1/tenants/crud-t');
    assert.equal(g.status, 200);
    assert.equal(g.headers.get('etag'), `"${c.json.meta.etag}"`);
    assert.equal(g.json.description, 'one');
    for (const [m, p] of [['GET', 'tenants/nope'], ['PATCH', 'tenants/nope'], ['DELETE', 'keys/nope'], ['PUT', 'teams/nope']]) {
      const r = await adm(m, `/admin/v1/${p}`, { body: m === 'PATCH' || m === 'PUT' ? {} : undefined });
      assert.equal(r.status, 404, `${m} ${p}: ${r.text}`);
      assert.equal(errCode(r), 'not_found');
    }
    assert.equal((await adm('GET', '/admin/v1/widgets')).status, 404);
    const bad = await adm('POST', '/admin/v1/tenants', { body: { name: 'crud-x', colour: 'red' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /colour/);
    assert.equal((await adm('POST', '/admin/v1/tenants', { body: { description: 'no name' } })).status, 400);
    assert.equal((await adm('POST', '/admin/v1/tenants', { body: 'not json' })).status, 400);
    assert.equal((await adm('DELETE', '/admin/v1/tenants')).status, 405);
    // the admin listener's own liveness probe needs no token and says nothing else
    const hz = await asc.admin('GET', '/healthz');
    assert.equal(hz.status, 200);
    assert.deepEqual(hz.json, { status: 'ok' });
    assert.equal((await asc.admin('GET', '/readyz')).status, 404);
  });

  test('PATCH / PUT / DELETE with If-Match: 412 when stale, success when current', T, async () => {
    const e1 = (await adm('GET', '/admin/v1/tenants/crud-t')).json.meta.etag;
    const p = await adm('PATCH', '/admin/v1/tenants/crud-t', { headers: { 'if-match': `"${e1}"` }, body: { description: 'two' } });
    assert.equal(p.status, 200, p.text);
    const e2 = p.json.meta.etag;
    assert.notEqual(e2, e1);
    assert.deepEqual(p.json.models, ['mock-fast'], 'a merge patch dropped a field');
    const stale = await adm('PATCH', '/admin/v1/tenants/crud-t', { headers: { 'if-match': `"${e1}"` }, body: { description: 'three' } });
    assert.equal(stale.status, 412, stale.text);
    assert.equal(errCode(stale), 'precondition_failed');
    const staleDel = await adm('DELETE', '/admin/v1/tenants/crud-t', { headers: { 'if-match': e1 } });
    assert.equal(staleDel.status, 412);
    const stalePut = await adm('PUT', '/admin/v1/tenants/crud-t', { headers: { 'if-match': `"${e1}"` }, body: { name: 'crud-t' } });
    assert.equal(stalePut.status, 412);
    assert.equal((await adm('GET', '/admin/v1/tenants/crud-t')).json.description, 'two');

    // an unchanged patch is no revision
    const rev = (await adm('GET', '/admin/v1/revisions?limit=1')).json.data[0].revision;
    const same = await adm('PATCH', '/admin/v1/tenants/crud-t', { body: { description: 'two' } });
    assert.equal(same.status, 200);
    assert.equal(same.json.meta.etag, e2);
    assert.equal((await adm('GET', '/admin/v1/revisions?limit=1')).json.data[0].revision, rev);

    // PUT replaces: description is gone
    const put = await adm('PUT', '/admin/v1/tenants/crud-t', {
      headers: { 'if-match': `W/"${e2}"` }, body: { name: 'crud-t', models: ['mock-fast', 'mock-slow'] },
    });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.description, undefined);
    assert.deepEqual(put.json.models, ['mock-fast', 'mock-slow']);
    const rename = await adm('PUT', '/admin/v1/tenants/crud-t', { body: { name: 'crud-renamed' } });
    assert.equal(rename.status, 400);
    assert.match(rename.json.error.message, /name/);
    // a tenant narrowed below its team: refused naming the field
    await mustCreate('teams', { name: 'crud-team', tenant: 'crud-t', models: ['mock-slow'] });
    const narrow = await adm('PATCH', '/admin/v1/tenants/crud-t', { body: { models: ['mock-fast'] } });
    assert.equal(narrow.status, 400, narrow.text);
    assert.match(narrow.json.error.message, /teams\.crud-team\.models/);
    assert.equal((await adm('DELETE', '/admin/v1/teams/crud-team')).status, 204);

    const del = await adm('DELETE', '/admin/v1/tenants/crud-t', { headers: { 'if-match': `"${put.json.meta.etag}"` } });
    assert.equal(del.status, 204, del.text);
    assert.equal((await adm('GET', '/admin/v1/tenants/crud-t')).status, 404);
    assert.equal((await adm('DELETE', '/admin/v1/tenants/crud-t')).status, 404);
    const hist = await adm('GET', '/admin/v1/changes?kind=tenant&name=crud-t');
    assert.deepEqual(hist.json.data.map((x) => x.action), ['create', 'update', 'update', 'delete']);
    assert.equal(hist.json.data.at(-1).after_digest, null);
  });

  test('a parent with dependents cannot be deleted; concurrent writes with one ETag: exactly one wins', T, async () => {
    const t = await adm('DELETE', '/admin/v1/tenants/acme');
    assert.equal(t.status, 400, t.text);
    assert.match(t.json.error.message, /teams\.ml2?\.tenant: unknown tenant "acme"/);
    const tm = await adm('DELETE', '/admin/v1/teams/ml');
    assert.equal(tm.status, 400, tm.text);
    assert.match(tm.json.error.message, /team "ml"/);
    assert.equal((await adm('GET', '/admin/v1/tenants/acme')).status, 200);

    await mustCreate('tenants', { name: 'race-t' });
    const etag = (await adm('GET', '/admin/v1/tenants/race-t')).json.meta.etag;
    const rs = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        adm('PATCH', '/admin/v1/tenants/race-t', { headers: { 'if-match': `"${etag}"` }, body: { description: `writer ${i}` } }),
      ),
    );
    const codes = rs.map((r) => r.status).sort();
    assert.deepEqual(codes, [200, ...Array(9).fill(412)], rs.map((r) => r.text).join('\n'));
    const winner = rs.find((r) => r.status === 200).json.description;
    assert.equal((await adm('GET', '/admin/v1/tenants/race-t')).json.description, winner);
    // concurrent creates: one revision each, none lost
    const cs = await Promise.all(Array.from({ length: 10 }, (_, i) => adm('POST', '/admin/v1/tenants', { body: { name: `race-${i}` } })));
    assert.deepEqual(cs.map((r) => r.status), Array(10).fill(201));
    const revs = new Set(cs.map((r) => r.json.meta.revision));
    assert.equal(revs.size, 10, 'two creates share a revision');
  });

  test('a query value that does not decode is refused, not ignored', T, async () => {
    // %zz is not an escape: asking for tenant "%zz" must not list every tenant's keys
    const bad = [];
    for (const q of ['keys?tenant=%zz', 'keys?tenant=%00', 'teams?tenant=%4', 'keys?owner=%zz', 'changes?tenant=%zz']) {
      const r = await adm('GET', `/admin/v1/${q}`);
      if (!(r.status === 400 || (r.status === 200 && r.json.data.length === 0)))
        bad.push(`GET /admin/v1/${q}: ${r.status} with ${r.json?.data?.length} objects (${(r.json?.data ?? []).slice(0, 3).map((o) => o.name)})`);
    }
    // ... and a dry run whose flag does not decode must not apply for real
    const dry = await adm('POST', '/admin/v1/apply?file=dry-x&dry_run=%zz', { body: { tenants: [{ name: 'dry-x-t' }] } });
    if ((await adm('GET', '/admin/v1/tenants/dry-x-t')).status !== 404) {
      bad.push(`POST /admin/v1/apply?dry_run=%zz: ${dry.status}, applied for real (revision ${dry.json?.revision})`);
      await adm('POST', '/admin/v1/apply?file=dry-x', { body: {} });
    }
    assert.deepEqual(bad, []);
  });

  test('pagination with limit and next_cursor; filters tenant, team, prefix', T, async () => {
    const want = Array.from({ length: 12 }, (_, i) => `pg-${String(i).padStart(2, '0')}`);
    for (const n of [...want].reverse()) await mustCreate('tenants', { name: n, models: ['mock-fast'] });
    const seen = [];
    let cursor = null;
    const sizes = [];
    do {
      const r = await adm('GET', `/admin/v1/tenants?prefix=pg-&limit=5${cursor ? `&cursor=${enc(cursor)}` : ''}`);
      assert.equal(r.status, 200, r.text);
      sizes.push(r.json.data.length);
      seen.push(...names(r));
      cursor = r.json.next_cursor;
    } while (cursor && sizes.length < 10);
    assert.deepEqual(sizes, [5, 5, 2]);
    assert.deepEqual(seen, want, 'pages are ordered by name, without gaps or repeats');
    for (const l of ['0', '501', 'x', '-1']) assert.equal((await adm('GET', `/admin/v1/tenants?limit=${l}`)).status, 400, l);

    await mustCreate('teams', { name: 'pg-team-a', tenant: 'pg-00' });
    await mustCreate('teams', { name: 'pg-team-b', tenant: 'pg-01' });
    const byTenant = await adm('GET', '/admin/v1/teams?tenant=pg-01');
    assert.deepEqual(names(byTenant), ['pg-team-b']);
    const keysMl = await adm('GET', '/admin/v1/keys?team=ml');
    assert.deepEqual(names(keysMl), ['k-narrow', 'k1']);
    assert.deepEqual(names(await adm('GET', '/admin/v1/keys?tenant=globex')), ['g1']);
    assert.deepEqual(names(await adm('GET', '/admin/v1/tenants?prefix=pg-1')), ['pg-10', 'pg-11']);
    // '%' and '_' in a prefix are plain characters, not LIKE wildcards
    assert.deepEqual(names(await adm('GET', `/admin/v1/tenants?prefix=${enc('pg%')}`)), []);
    assert.deepEqual(names(await adm('GET', '/admin/v1/tenants?prefix=pg_')), []);
    const cl = await cli(['tenants', 'list', '--prefix', 'pg-', '--limit', '5', '--all', '-o', 'json']);
    assert.equal(cl.code, 0, cl.stderr);
    assert.deepEqual(JSON.parse(cl.stdout).data.map((t) => t.name), want);

    const r1 = await adm('GET', '/admin/v1/revisions?limit=2');
    assert.equal(r1.json.data.length, 2);
    assert.ok(r1.json.data[0].revision > r1.json.data[1].revision);
    const r2 = await adm('GET', `/admin/v1/revisions?limit=2&cursor=${r1.json.next_cursor}`);
    assert.equal(r2.json.data[0].revision, r1.json.data[1].revision - 1);
  });
});

// ---- 4: file-managed ----

describe('file-managed objects, apply and diff, SIGHUP', () => {
  test('a key from the config file cannot be changed through the API (409 naming the file)', T, async () => {
    const g = await adm('GET', '/admin/v1/keys/file-key');
    assert.equal(g.status, 200);
    assert.equal(g.json.meta.managed_by, `file:${confPath}`);
    assert.equal(g.json.meta.created_by, 'asc serve (start)');
    for (const [m, p, body] of [
      ['PUT', 'keys/file-key', { name: 'file-key', models: ['mock-fast'] }],
      ['PATCH', 'keys/file-key', { models: ['mock-fast'] }],
      ['DELETE', 'keys/file-key'],
      ['POST', 'keys/file-key/revoke'],
      ['POST', 'keys/file-key/rotate', { overlap_seconds: 0 }],
      ['PATCH', 'routes/mock-fast', { model: 'other' }],
      ['DELETE', 'providers/up'],
    ]) {
      const r = await adm(m, `/admin/v1/${p}`, { body });
      assert.equal(r.status, 409, `${m} ${p}: ${r.text}`);
      assert.equal(errCode(r), 'file_managed');
      assert.ok(r.json.error.message.includes(confPath), `${m} ${p}: ${r.json.error.message}`);
    }
    assert.equal((await adm('GET', '/admin/v1/keys/file-key')).json.meta.etag, g.json.meta.etag);
    assert.equal((await chat(FILE_KEY)).status, 200);
  });

  test('POST /admin/v1/apply twice: the second is no revision; dry_run reports fields; an emptied file deletes', T, async () => {
    const doc = {
      tenants: [{ name: 'applied-a', description: 'v1', models: ['mock-fast'] }],
      teams: [{ name: 'applied-a-team', tenant: 'applied-a' }],
    };
    const first = await adm('POST', '/admin/v1/apply?file=team-x', { body: doc });
    assert.equal(first.status, 200, first.text);
    assert.equal(typeof first.json.revision, 'number');
    assert.deepEqual(first.json.changes.map((c) => [c.kind, c.name, c.action, c.drift]).sort(), [
      ['team', 'applied-a-team', 'create', false],
      ['tenant', 'applied-a', 'create', false],
    ]);
    const revs = (await adm('GET', '/admin/v1/revisions')).json.data;
    assert.equal(revs[0].revision, first.json.revision);
    assert.equal(revs[0].source, 'file:team-x');
    const second = await adm('POST', '/admin/v1/apply?file=team-x', { body: doc });
    assert.equal(second.status, 200, second.text);
    assert.equal(second.json.revision, null);
    assert.deepEqual(second.json.changes, []);
    assert.deepEqual((await adm('GET', '/admin/v1/revisions')).json.data, revs, 'a no-op apply added a revision');
    const g = await adm('GET', '/admin/v1/tenants/applied-a');
    assert.equal(g.json.meta.managed_by, 'file:team-x');
    const put = await adm('PATCH', '/admin/v1/tenants/applied-a', { body: { description: 'x' } });
    assert.equal(put.status, 409);
    assert.match(put.json.error.message, /team-x/);

    const changed = structuredClone(doc);
    changed.tenants[0].description = 'v2';
    const dry = await adm('POST', '/admin/v1/apply?file=team-x&dry_run=1', { body: changed });
    assert.equal(dry.status, 200, dry.text);
    assert.equal(dry.json.revision, null);
    assert.deepEqual(dry.json.changes, [{ kind: 'tenant', name: 'applied-a', action: 'update', drift: false, fields: ['description'] }]);
    assert.equal((await adm('GET', '/admin/v1/tenants/applied-a')).json.description, 'v1', 'a dry run changed the object');

    const emptied = await adm('POST', '/admin/v1/apply?file=team-x', { body: {} });
    assert.equal(emptied.status, 200, emptied.text);
    assert.deepEqual(emptied.json.changes.map((c) => `${c.action} ${c.kind} ${c.name}`).sort(), [
      'delete team applied-a-team',
      'delete tenant applied-a',
    ]);
    assert.equal((await adm('GET', '/admin/v1/tenants/applied-a')).status, 404);
  });

  test('asc diff / asc apply -f: exit 3 with fields, 0 when nothing; drift from a store edit is flagged', T, async (t) => {
    const file = path.join(asc.dir, 'tenancy.yaml');
    await writeFile(file, 'tenants:\n  - name: applied-c\n    models: [mock-fast]\nteams:\n  - name: applied-c-team\n    tenant: applied-c\n');
    const d1 = await cli(['diff', '-f', file]);
    assert.equal(d1.code, 3, d1.stderr);
    assert.match(d1.stdout, /^\+ tenant applied-c$/m);
    assert.match(d1.stdout, /^\+ team applied-c-team$/m);
    assert.equal((await adm('GET', '/admin/v1/tenants/applied-c')).status, 404, 'asc diff applied something');
    const a1 = await cli(['apply', '-f', file]);
    assert.equal(a1.code, 0, a1.stderr);
    assert.match(a1.stdout, /^revision \d+$/m);
    assert.equal((await adm('GET', '/admin/v1/tenants/applied-c')).json.meta.managed_by, `file:${realpathSync(file)}`);
    const d2 = await cli(['diff', '-f', file]);
    assert.equal(d2.code, 0, d2.stdout);
    assert.match(d2.stdout, /no changes/);
    const rev = (await adm('GET', '/admin/v1/revisions?limit=1')).json.data[0].revision;
    const a2 = await cli(['apply', '-f', file]);
    assert.equal(a2.code, 0);
    assert.match(a2.stdout, /no changes/);
    assert.equal((await adm('GET', '/admin/v1/revisions?limit=1')).json.data[0].revision, rev);

    await writeFile(file, 'tenants:\n  - name: applied-c\n    models: [mock-fast, mock-slow]\nteams:\n  - name: applied-c-team\n    tenant: applied-c\n');
    const d3 = await cli(['diff', '-f', file]);
    assert.equal(d3.code, 3);
    assert.match(d3.stdout, /^~ tenant applied-c \(models\)$/m);
    assert.equal((await cli(['apply', '-f', file])).code, 0);

    // drift: the stored document changes behind the file's back
    let sqlite;
    try {
      sqlite = await import('node:sqlite');
    } catch {
      t.skip('node:sqlite is not available (node >= 22.5 needed) for the drift case');
      return;
    }
    const db = new sqlite.DatabaseSync(path.join(asc.dataDir, 'asc.db'));
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      const row = db.prepare("SELECT doc FROM objects WHERE kind = 'tenant' AND name = 'applied-c'").get();
      const edited = JSON.stringify({ ...JSON.parse(row.doc), description: 'edited by hand' });
      db.prepare("UPDATE objects SET doc = ?, etag = ? WHERE kind = 'tenant' AND name = 'applied-c'").run(edited, sha256(edited));
    } finally {
      db.close();
    }
    const d4 = await cli(['diff', '-f', file, '-o', 'json']);
    assert.equal(d4.code, 3, d4.stdout + d4.stderr);
    assert.deepEqual(JSON.parse(d4.stdout).changes, [
      { kind: 'tenant', name: 'applied-c', action: 'update', drift: true, fields: ['description'] },
    ]);
    const d5 = await cli(['diff', '-f', file]);
    assert.match(d5.stdout, /^~ tenant applied-c \(description\) \(drift: edited outside the file\)$/m);
    assert.equal((await cli(['apply', '-f', file])).code, 0);
    assert.equal((await adm('GET', '/admin/v1/tenants/applied-c')).json.description, undefined);
    assert.equal((await cli(['diff', '-f', file])).code, 0);
  });

  test('SIGHUP: API objects survive, an object removed from the file is deleted, an unchanged file is no revision', T, async () => {
    assert.equal((await chat(GONE_KEY)).status, 200);
    const same = await asc.reload(baseConfig());
    assert.equal(same.ok, true, same.line);
    const rev = (await adm('GET', '/admin/v1/revisions?limit=1')).json.data[0].revision;
    assert.equal(same.revision, rev);
    const again = await asc.reload(baseConfig());
    assert.equal(again.revision, rev, 'reloading an unchanged file made a revision');

    const leaky = baseConfig();
    leaky.credentials = [{ name: 'plain', provider: 'up', api_key: CANARY.refused }];
    const bad = await asc.reload(leaky);
    assert.equal(bad.ok, false, 'a plaintext api_key in the file was accepted');
    assert.match(bad.line, /api_key/);

    const r = await asc.reload(baseConfig({ gone: false }));
    assert.equal(r.ok, true, r.line);
    assert.equal(r.revision, rev + 1);
    assert.equal((await adm('GET', '/admin/v1/keys/file-key-gone')).status, 404);
    const c = await chat(GONE_KEY);
    assert.equal(c.status, 401, c.text);
    const ch = await adm('GET', '/admin/v1/changes?kind=key&name=file-key-gone');
    assert.deepEqual(ch.json.data.map((x) => [x.action, x.actor]), [
      ['create', 'asc serve (start)'],
      ['delete', 'asc serve (SIGHUP)'],
    ]);
    for (const p of ['tenants/acme', 'teams/ml', 'credentials/acme-up', 'keys/k-narrow', 'tenants/applied-c', 'tokens/ci-token'])
      assert.equal((await adm('GET', `/admin/v1/${p}`)).status, 200, `${p} was lost on reload`);
    assert.equal((await chat(FILE_KEY)).status, 200);
  });
});

// ---- 5, 6: revocation and rotation ----

describe('revocation under load and rotation', () => {
  test('revoke with 8 requests continuously in flight: nothing that starts 1 s after the revoke answer succeeds', T, async (t) => {
    const secret = await createKey('load-k', { team: 'ml' });
    const url = `${asc.baseURL}/v1/chat/completions`;
    const body = JSON.stringify({ model: 'mock-slow', messages: [{ role: 'user', content: 'load' }] });
    const results = [];
    let stopAt = Infinity;
    let wake = () => {};
    const loop = async () => {
      while (performance.now() < stopAt) {
        const t0 = performance.now();
        let status;
        let code = null;
        try {
          const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body });
          status = r.status;
          const txt = await r.text();
          code = status === 200 ? null : (JSON.parse(txt).error?.code ?? txt.slice(0, 100));
        } catch (e) {
          status = `error ${e.message}`;
        }
        results.push({ t0, t1: performance.now(), status, code });
        wake();
      }
    };
    const until = (pred) =>
      new Promise((resolve, reject) => {
        const tm = setTimeout(() => reject(new Error('timed out waiting for the load loop')), ms(15000));
        wake = () => pred() && (clearTimeout(tm), resolve());
        wake();
      });
    const loops = Array.from({ length: 8 }, loop);
    let sent;
    let answered;
    try {
      await until(() => results.filter((r) => r.status === 200).length >= 40);
      sent = performance.now();
      const rv = await adm('POST', '/admin/v1/keys/load-k/revoke');
      answered = performance.now();
      assert.equal(rv.status, 200, rv.text);
      assert.equal(rv.json.state, 'revoked');
      await until(() => results.filter((r) => r.t0 > answered + 1000).length >= 40);
    } finally {
      stopAt = 0; // the loops end even when the test fails
      await Promise.all(loops);
    }

    const odd = results.filter((r) => r.status !== 200 && !(r.status === 401 && r.code === 'invalid_api_key'));
    assert.deepEqual(odd.slice(0, 3), [], `${odd.length} requests neither succeeded nor got 401 invalid_api_key`);
    assert.ok(results.filter((r) => r.t1 < sent && r.status === 200).length >= 40);
    const lateOk = results.filter((r) => r.t0 > answered + 1000 && r.status === 200);
    assert.equal(lateOk.length, 0, `${lateOk.length} requests started > 1 s after the revoke answer succeeded`);
    const lastOk = Math.max(...results.filter((r) => r.status === 200).map((r) => r.t0 - answered));
    t.diagnostic(`revoke took ${(answered - sent).toFixed(1)} ms; last successful request started ${lastOk.toFixed(1)} ms after its answer; ${results.length} requests`);
  });

  test('rotate with overlap: both secrets work; overlap 0 cuts the old one at once; the overlap ends', T, async () => {
    const s0 = await createKey('rot', { team: 'ml' });
    assert.equal((await chat(s0)).status, 200);
    const r1 = await adm('POST', '/admin/v1/keys/rot/rotate', { body: { overlap_seconds: 30 } });
    assert.equal(r1.status, 200, r1.text);
    const s1 = r1.json.secret;
    oneTimeSecrets.push({ what: 'rot rotate 1', secret: s1, origin: adminLog.at(-1) });
    assert.match(s1, /^sk-asc-/);
    assert.notEqual(s1, s0);
    assert.equal(r1.json.key_hint, `...${s1.slice(-4)}`);
    assert.equal((await chat(s0)).status, 200, 'the old secret stopped during the overlap');
    assert.equal((await chat(s1)).status, 200);
    assert.equal((await adm('GET', '/admin/v1/keys/rot')).json.secret, undefined);

    const r2 = await cli(['keys', 'rotate', 'rot', '--overlap', '0']);
    assert.equal(r2.code, 0, r2.stderr);
    const s2 = /(sk-asc-\S+)/.exec(r2.stdout)?.[1];
    assert.ok(s2, r2.stdout);
    oneTimeSecrets.push({ what: 'rot rotate 2 (CLI)', secret: s2, origin: cliLog.at(-1) });
    assert.equal((await chat(s2)).status, 200);
    for (const [n, s] of [['s1', s1], ['s0', s0]]) {
      const c = await chat(s);
      assert.equal(c.status, 401, `${n} still works after a rotation without overlap: ${c.text}`);
      assert.equal(errCode(c), 'invalid_api_key');
    }

    const start = performance.now();
    const r3 = await adm('POST', '/admin/v1/keys/rot/rotate', { body: { overlap_seconds: 2 } });
    assert.equal(r3.status, 200, r3.text);
    oneTimeSecrets.push({ what: 'rot rotate 3', secret: r3.json.secret, origin: adminLog.at(-1) });
    assert.equal((await chat(s2)).status, 200);
    assert.equal((await chat(r3.json.secret)).status, 200);
    await waitUntil(async () => (await chat(s2)).status === 401, { timeout: ms(8000), every: 100, what: 'the overlap to end' });
    const took = performance.now() - start;
    assert.ok(took >= 1500, `the 2 s overlap ended after ${took.toFixed(0)} ms`);
    assert.equal((await chat(r3.json.secret)).status, 200);
    // revoking a key in its overlap stops both secrets
    const r4 = await adm('POST', '/admin/v1/keys/rot/rotate', { body: { overlap_seconds: 600 } });
    oneTimeSecrets.push({ what: 'rot rotate 4', secret: r4.json.secret, origin: adminLog.at(-1) });
    assert.equal((await chat(r3.json.secret)).status, 200);
    assert.equal((await adm('POST', '/admin/v1/keys/rot/revoke')).status, 200);
    assert.equal((await chat(r3.json.secret)).status, 401, 'the overlapping old secret survived a revoke');
    assert.equal((await chat(r4.json.secret)).status, 401);
    for (const bad of [-1, 2592001, 'ten']) {
      const r = await adm('POST', '/admin/v1/keys/rot/rotate', { body: { overlap_seconds: bad } });
      assert.equal(r.status, 400, `overlap ${bad}: ${r.text}`);
    }
  });

  test('expires_at in the past: state expired and 401; moving it to the future restores the key', T, async () => {
    const s = await createKey('exp-k', { team: 'ml', expires_at: '2020-01-01T00:00:00Z' });
    assert.equal((await adm('GET', '/admin/v1/keys/exp-k')).json.state, 'expired');
    const c = await chat(s);
    assert.equal(c.status, 401, c.text);
    const p = await adm('PATCH', '/admin/v1/keys/exp-k', { body: { expires_at: '2099-01-01T00:00:00Z' } });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.state, 'active');
    assert.equal((await chat(s)).status, 200);
    const back = await adm('PATCH', '/admin/v1/keys/exp-k', { body: { expires_at: '2021-06-01T00:00:00Z' } });
    assert.equal(back.json.state, 'expired');
    assert.equal((await chat(s)).status, 401);
    const bad = await adm('PATCH', '/admin/v1/keys/exp-k', { body: { expires_at: 'tomorrow' } });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /expires_at/);
  });
});

// ---- 7: canaries ----

describe('ADVERSARIAL #7: planted provider secrets never leave', () => {
  let leakKey;

  test('a second tenant credential: used upstream, rotated by PATCH, shown only as last4', T, async () => {
    await mustCreate('tenants', { name: 'leak', models: ['mock-fast', 'mock-401'] });
    await mustCreate('teams', { name: 'leak-team', tenant: 'leak' });
    const c = await mustCreate('credentials', { name: 'leak-up', provider: 'up', tenant: 'leak', secret: CANARY.leak });
    assert.equal(c.last4, CANARY.leak.slice(-4));
    leakKey = await createKey('leak-k', { team: 'leak-team' });
    const r = await chat(leakKey);
    assert.equal(r.status, 200, r.text);
    assert.equal((await upstreamOf(r.id)).headers.authorization, `Bearer ${CANARY.leak}`);

    const p = await adm('PATCH', '/admin/v1/credentials/leak-up', { body: { secret: CANARY.rotated } });
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.last4, CANARY.rotated.slice(-4));
    const r2 = await chat(leakKey);
    assert.equal((await upstreamOf(r2.id)).headers.authorization, `Bearer ${CANARY.rotated}`, 'new requests use the new secret');
    const back = await adm('PATCH', '/admin/v1/credentials/leak-up', { body: { secret: CANARY.leak } });
    assert.equal(back.status, 200);
  });

  test('refused requests carrying secrets do not echo them', T, async () => {
    const refused = [
      ['POST', '/admin/v1/credentials', { name: 'bad-1', provider: 'nope', secret: CANARY.refused }, /provider/],
      ['POST', '/admin/v1/credentials', { name: 'bad-2', provider: 'up', tenant: 'acme', secret: CANARY.refused }, /credential/],
      ['POST', '/admin/v1/credentials', { name: 'bad-3', provider: 'up', secret: `${CANARY.refused}\r\nx-evil: 1` }, /secret/],
      ['POST', '/admin/v1/credentials', { name: 'bad-4', provider: 'up', secret: CANARY.refused, api_key: 'env:UP_KEY' }, /secret|api_key/],
      ['POST', '/admin/v1/credentials', { name: "bad'5", provider: 'up', secret: CANARY.refused }, /name/],
      ['PATCH', '/admin/v1/credentials/leak-up', { secret: CANARY.refused, tenant: 'nope' }, /tenant/],
      ['POST', '/admin/v1/keys', { name: 'plain-key', team: 'ml', key: CANARY.refused }, /key/],
      ['POST', '/admin/v1/apply?file=leaky', { credentials: [{ name: 'plain', provider: 'up', api_key: CANARY.refused }] }, /api_key/],
      ['POST', '/admin/v1/apply?file=leaky', `credentials:\n  - name: plain\n    provider: up\n    api_key: ${CANARY.refused}\n    bogus: 1\n`, /bogus|credentials/],
    ];
    for (const [m, p, body, re] of refused) {
      const r = await adm(m, p, { body });
      assert.equal(r.status, 400, `${m} ${p} ${JSON.stringify(body).slice(0, 80)}: ${r.status} ${r.text}`);
      assert.match(r.json.error.message, re);
      assert.ok(!r.text.includes(CANARY.refused), `${m} ${p} echoed the secret: ${r.text}`);
    }
    // the refused PATCH left leak-up as it was
    const r = await chat(leakKey);
    assert.equal((await upstreamOf(r.id)).headers.authorization, `Bearer ${CANARY.leak}`);
    const c = await cli(['credentials', 'create', 'bad-6', '--set', 'provider=nope', '--set', `secret=${CANARY.refused}`]);
    assert.equal(c.code, 1);
    assert.ok(!`${c.stdout}${c.stderr}`.includes(CANARY.refused), c.stderr);
    // a provider secret sent as a virtual key
    const v = await chat(CANARY.acme);
    assert.equal(v.status, 401);
  });

  test('apply through the API does not expand ${VAR} from the server environment into what callers read', T, async () => {
    // not recorded in adminLog: this test checks its own answers, the sweep stays independent
    const dry = await asc.admin('POST', '/admin/v1/apply?file=exfil&dry_run=1', {
      token: ADMIN,
      body: 'tenants:\n  - name: "${UP_KEY}"\n  - name: "${ASC_TEST_SERVER_SECRET}"\n',
    });
    const leaked = [CANARY.global, SERVER_SECRET].filter((s) => dry.text.includes(s));
    const real = await asc.admin('POST', '/admin/v1/apply?file=exfil', {
      token: ADMIN,
      body: 'tenants:\n  - name: exfil\n    description: "key ${ASC_TEST_SERVER_SECRET}"\n',
    });
    const g = await asc.admin('GET', '/admin/v1/tenants/exfil', { token: ADMIN });
    await asc.admin('POST', '/admin/v1/apply?file=exfil', { token: ADMIN, body: '{}' });
    assert.deepEqual(leaked, [], `the dry-run report shows server env values: ${dry.text}`);
    assert.ok(!real.text.includes(SERVER_SECRET) && !g.text.includes(SERVER_SECRET), `a server env value became readable: ${g.text}`);
  });

  test('an upstream 401 (the tenant credential was sent) does not leak it', T, async () => {
    const r = await chat(leakKey, 'mock-401');
    assert.ok(r.status >= 400, r.text);
    assert.equal((await upstreamOf(r.id)).headers.authorization, `Bearer ${CANARY.leak}`);
    for (const s of Object.values(CANARY)) assert.ok(!r.text.includes(s) && ![...r.headers].join().includes(s), r.text);
    const e = await asc.waitAccess((x) => x.request_id === r.id);
    assert.equal(e.credential, 'leak-up');
  });
});

// ---- 8: SQL metacharacters ----

describe('ADVERSARIAL #1: SQL metacharacters in names, filters, keys, tokens, If-Match', () => {
  test('as object names: 400 on create, 404 on read, no SQL error text', T, async () => {
    const before = names(await adm('GET', '/admin/v1/tenants?limit=500'));
    for (const n of SQL) {
      const bodies = {
        tenants: {},
        teams: { tenant: 'acme' },
        keys: { team: 'ml' },
        credentials: { provider: 'up', secret: 'x-secret-1234' },
      };
      for (const [kind, rest] of Object.entries(bodies)) {
        const r = await adm('POST', `/admin/v1/${kind}`, { body: { name: n, ...rest } });
        assert.equal(r.status, 400, `${kind} ${n}: ${r.text}`);
        assert.match(r.json.error.message, /name/);
        assert.doesNotMatch(r.text, SQL_ERROR);
      }
      for (const m of ['GET', 'PATCH', 'DELETE', 'PUT']) {
        const r = await adm(m, `/admin/v1/tenants/${enc(n)}`, { body: m === 'PATCH' || m === 'PUT' ? {} : undefined });
        assert.ok([400, 404].includes(r.status), `${m} ${n}: ${r.status} ${r.text}`);
        assert.doesNotMatch(r.text, SQL_ERROR);
      }
      const rot = await adm('POST', `/admin/v1/keys/${enc(n)}/revoke`);
      assert.ok([400, 404].includes(rot.status), rot.text);
    }
    assert.deepEqual(names(await adm('GET', '/admin/v1/tenants?limit=500')), before);
    // a user name is an SSO subject (printable, no spaces): stored and found verbatim
    const u = await mustCreate('users', { name: "o'neil\";--", role: 'auditor' });
    assert.equal(u.name, "o'neil\";--");
    const g = await adm('GET', `/admin/v1/users/${enc("o'neil\";--")}`);
    assert.equal(g.status, 200, g.text);
    assert.deepEqual(names(await adm('GET', `/admin/v1/users?prefix=${enc("o'n")}`)), ["o'neil\";--"]);
    assert.equal((await adm('DELETE', `/admin/v1/users/${enc("o'neil\";--")}`)).status, 204);
  });

  test('in list filters: 200 and an empty list', T, async () => {
    for (const n of [...SQL, '%', '_', "acme' --"]) {
      for (const f of ['tenant', 'team', 'owner', 'prefix']) {
        for (const kind of ['keys', 'tenants', 'teams', 'users', 'credentials']) {
          const r = await adm('GET', `/admin/v1/${kind}?${f}=${enc(n)}`);
          assert.equal(r.status, 200, `${kind}?${f}=${n}: ${r.text}`);
          assert.deepEqual(r.json.data, [], `${kind}?${f}=${n}`);
        }
      }
      for (const f of ['kind', 'name', 'actor', 'tenant']) {
        const r = await adm('GET', `/admin/v1/changes?${f}=${enc(n)}`);
        assert.equal(r.status, 200, `changes?${f}=${n}: ${r.text}`);
        assert.deepEqual(r.json.data, []);
      }
      const c = await adm('GET', `/admin/v1/keys?cursor=${enc(n)}&limit=500`);
      assert.equal(c.status, 200);
      assert.doesNotMatch(c.text, SQL_ERROR);
      for (const bad of ['limit', 'cursor']) {
        const r = await adm('GET', `/admin/v1/changes?${bad}=${enc(n)}`);
        assert.equal(r.status, 400, `changes?${bad}=${n}`);
        assert.doesNotMatch(r.text, SQL_ERROR);
      }
    }
  });

  test('as virtual keys, admin tokens and If-Match: 401 / 412; everything still works', T, async () => {
    for (const n of SQL) {
      const d = await asc.request('GET', '/v1/models', { key: n });
      assert.equal(d.status, 401, `virtual key ${n}: ${d.text}`);
      const c = await chat(`sk-asc-${n}`);
      assert.equal(c.status, 401);
      const a = await adm('GET', '/admin/v1/keys', { token: n });
      assert.equal(a.status, 401, `admin token ${n}: ${a.text}`);
      assert.equal(errCode(a), 'unauthorized');
      const pat = await adm('GET', '/admin/v1/keys', { token: `asc-pat-${n}` });
      assert.equal(pat.status, 401);
      const im = await adm('PATCH', '/admin/v1/tenants/globex', { headers: { 'if-match': `"${n}"` }, body: { description: 'sql' } });
      assert.equal(im.status, 412, `If-Match ${n}: ${im.text}`);
      for (const r of [d, c, a, pat, im]) assert.doesNotMatch(r.text, SQL_ERROR);
    }
    assert.equal((await adm('GET', '/admin/v1/tenants/globex')).json.description, undefined);
    assert.doesNotMatch(asc.proc.stderr, SQL_ERROR);
    // the store and the data plane are intact
    assert.ok(names(await adm('GET', '/admin/v1/tenants?limit=500')).includes('acme'));
    await mustCreate('tenants', { name: 'after-sql', models: ['mock-fast'] });
    assert.equal((await chat(FILE_KEY)).status, 200);
    assert.equal((await chat(leakKeyFor())).status, 200);
  });
});
function leakKeyFor() {
  return oneTimeSecrets.find((s) => s.what === 'key leak-k').secret;
}

// ---- 9: path tricks ----

describe('ADVERSARIAL #4: path tricks on the admin API', () => {
  // [target, does it name the keys collection (or a key) once normalised?]
  const variants = [
    ['/admin/v1/keys', true],
    ['//admin/v1/../admin/v1/keys', false], // -> /admin/admin/v1/keys
    ['//admin//v1//keys', true],
    ['/admin/v1/%6beys', true],
    ['/admin/v1/%6Beys/', true],
    ['/ADMIN/v1/keys', false],
    ['/Admin/V1/Keys', false],
    ['/admin/v1/keys/', true],
    ['/admin/v1/./keys', true],
    ['/admin/v1/x/../keys', true],
    ['/x/../admin/v1/keys', true],
    ['/admin/v1/%2e%2e/v1/keys', true],
    ['/admin/v1/auth/../keys', true],
    ['/admin/v1/auth/%2e%2e/keys', true],
    ['/admin/v1/auth/%2E%2E/keys?x=1', true],
    ['/admin/v1/auth/..%2Fkeys', false],
    ['/admin/v1/keys%2F', false],
    ['/admin/v1/keys/a%2Fb', false],
    ['/admin/v1/keys/file-key', true],
    ['/admin/v1/keys/file%2Dkey', true],
    ['/admin/v1/keys/file-key/', true],
    ['/admin/v1/keys/file-key/../../keys', true],
    ['/admin/v1/credentials/acme-up', true],
    ['http://127.0.0.1/admin/v1/keys', true],
    ['/admin/v1/changes', true],
    ['/admin/v1/whoami', true],
  ];

  test('without a valid token every variant is 401 (or 404), never data', T, async () => {
    for (const [target] of variants) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }, { host: 'localhost:8081', 'x-forwarded-for': '127.0.0.1' }]) {
        const r = await rawRequest(asc.adminPort, buildRequest('GET', target, { headers }), { timeout: ms(10000) });
        const body = r.body.toString();
        adminLog.push({ what: `raw GET ${target}`, text: body, headers: r.rawHead });
        assert.ok([401, 404].includes(r.status), `${target} ${JSON.stringify(headers)}: ${r.status} ${body}`);
        assert.doesNotMatch(body, /"object":"list"|file-key|acme|"subject"/, `${target}: data without a token`);
      }
    }
  });

  test('with the token, exactly the variants that normalise to an admin route are served', T, async () => {
    for (const [target, served] of variants) {
      const r = await rawRequest(asc.adminPort, buildRequest('GET', target, { headers: { authorization: `Bearer ${ADMIN}` } }));
      adminLog.push({ what: `raw GET ${target} (token)`, text: r.body.toString(), headers: r.rawHead });
      if (served) assert.equal(r.status, 200, `${target}: ${r.body}`);
      else assert.ok([400, 404].includes(r.status), `${target}: ${r.status} ${r.body}`);
      // and then without it the same target must have been 401 (previous test)
    }
    const noAuth = await rawRequest(asc.adminPort, buildRequest('POST', '/admin/v1/auth/../keys/file-key/revoke', {}));
    assert.equal(noAuth.status, 401);
    assert.equal((await chat(FILE_KEY)).status, 200);
  });
});

// ---- the leak sweep (ADVERSARIAL #7), last ----

describe('ADVERSARIAL #7: the sweep', () => {
  test('no provider secret, generated key secret or admin token appears anywhere it should not', T, async () => {
    // read everything once more, through the API and the CLI
    for (const kind of ['tenants', 'teams', 'users', 'keys', 'credentials', 'providers', 'routes', 'tokens']) {
      const l = await adm('GET', `/admin/v1/${kind}?limit=500`);
      assert.equal(l.status, 200, `${kind}: ${l.text}`);
      for (const o of l.json.data) assert.equal((await adm('GET', `/admin/v1/${kind}/${enc(o.name)}`)).status, 200);
      assert.equal((await cli([kind, 'list', '--all', '-o', 'json'])).code, 0);
    }
    const creds = (await adm('GET', '/admin/v1/credentials')).json.data;
    assert.deepEqual(creds.map((c) => [c.name, c.tenant, c.last4]), [
      ['acme-up', 'acme', CANARY.acme.slice(-4)],
      ['leak-up', 'leak', CANARY.leak.slice(-4)],
    ]);
    for (const args of [['changes', 'list', '--all'], ['changes', 'list', '--all', '-o', 'json'], ['revisions', 'list', '--all', '-o', 'json'], ['credentials', 'get', 'acme-up']])
      assert.equal((await cli(args)).code, 0);
    let cur = null;
    do {
      const r = await adm('GET', `/admin/v1/changes?limit=500${cur ? `&cursor=${cur}` : ''}`);
      cur = r.json.next_cursor;
    } while (cur);
    assert.equal((await adm('GET', '/admin/v1/revisions?limit=500')).status, 200);

    // the store's files, asc's output, the access log, the data-plane transcript
    const dbText = [];
    for (const f of await readdir(asc.dataDir)) dbText.push((await readFile(path.join(asc.dataDir, f))).toString('latin1'));
    const db = dbText.join('\n');
    assert.match(db, /sealed:v1:/, 'the credential is not stored sealed (or the store was not read)');
    assert.ok(db.includes(sha256(FILE_KEY)), 'the store was not read');
    const sinks = {
      'asc stdout/stderr': `${asc.proc.stdout}\n${asc.proc.stderr}`,
      'the access log': await asc.accessLogText(),
      'the data-plane responses': transcriptText(),
      'the store files': db,
    };
    assert.ok(sinks['the access log'].includes('"credential":"acme-up"'));
    const provider = Object.entries(CANARY);
    const hits = [];
    for (const [name, text] of Object.entries(sinks)) {
      for (const [c, s] of provider) if (text.includes(s)) hits.push(`${c} provider secret in ${name}`);
      for (const o of oneTimeSecrets) if (text.includes(o.secret)) hits.push(`${o.what} secret in ${name}`);
      if (name !== 'the data-plane responses' && text.includes(ADMIN)) hits.push(`admin token in ${name}`);
    }
    for (const e of [...adminLog, ...cliLog]) {
      const text = `${e.text}\n${e.headers ?? ''}`;
      for (const [c, s] of provider) if (text.includes(s)) hits.push(`${c} provider secret in ${e.what}`);
      for (const o of oneTimeSecrets) if (e !== o.origin && text.includes(o.secret)) hits.push(`${o.what} secret in ${e.what}`);
      if (text.includes(ADMIN)) hits.push(`admin token in ${e.what}`);
      // last 4 only: no longer tail of a provider secret either
      for (const [c, s] of provider) if (text.includes(s.slice(-12))) hits.push(`${c} secret tail in ${e.what}`);
    }
    assert.deepEqual(hits, []);
    // each generated secret was shown exactly once
    for (const o of oneTimeSecrets) assert.ok(o.origin.text.includes(o.secret), `${o.what}: origin lacks the secret`);
  });
});

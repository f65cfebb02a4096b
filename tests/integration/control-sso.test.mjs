// Admin API sign-in and authorisation end to end (docs/admin.md
// "Authentication" and "Roles"; ADVERSARIAL.md rows 5 and 6): OIDC ID
// tokens from a test identity provider (tests/integration/lib/idp.mjs) as
// Bearer tokens, the browser authorization-code flow with PKCE and its
// cookies, personal access tokens, JWT forgeries (alg=none, HS/RS
// confusion, wrong aud/iss, expired, unknown kid, foreign key, tampered
// payload, shared prefix, JWKS rotation) and RBAC escalation attempts by a
// developer, a tenant-admin, an auditor and finance. Every refusal is
// checked to have changed nothing (same top revision, same object etag).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { startAsc, stopAll, serverSection, ms, newKey, sha256, waitUntil, allOutput } from './lib/harness.mjs';
import { startIdp } from './lib/idp.mjs';

const ADMIN = 'bootstrap-' + randomBytes(16).toString('hex');
const BETA_KEY = newKey();
const T = { timeout: ms(60000) };

let idp; // the main identity provider
let asc; // asc with admin.oidc -> idp
let idp2; // a second identity provider, only for the key rotation test
let asc2;
let rotT0 = 0; // when asc2 first fetched idp2's JWKS

async function freePort() {
  const s = net.createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const b64u = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const seg = (tok, i) => JSON.parse(Buffer.from(tok.split('.')[i], 'base64url').toString());
const now = () => Math.floor(Date.now() / 1000);
const sleep = (n) => new Promise((r) => setTimeout(r, n));
const jwksFetches = (p) => p.requests.filter((x) => x === '/jwks').length;

/** An ID token for `email` from the main IdP (RS256 unless o.alg). */
function jwt(email, claims = {}, o = {}) {
  return remember(idp.sign({ sub: `sub-${email}`, email, ...claims }, o));
}

/** Every credential used, to search asc's output for at the end. */
const used = new Set();
function remember(secret) {
  if (secret) used.add(secret);
  return secret;
}

/** Admin API calls as one bearer token. */
function as(token) {
  return {
    get: (p) => asc.admin('GET', p, { token }),
    post: (p, body) => asc.admin('POST', p, { token, body: body ?? {} }),
    put: (p, body) => asc.admin('PUT', p, { token, body }),
    patch: (p, body) => asc.admin('PATCH', p, { token, body }),
    del: (p) => asc.admin('DELETE', p, { token }),
  };
}
const admin = as(ADMIN);
const u = (name) => encodeURIComponent(name);

async function whoami(token) {
  return asc.admin('GET', '/admin/v1/whoami', { token });
}

/** The newest revision number (as the bootstrap admin). */
async function topRevision() {
  const r = await admin.get('/admin/v1/revisions?limit=1');
  assert.equal(r.status, 200, r.text);
  return r.json.data[0]?.revision ?? 0;
}

/** ETag of an object as the admin sees it, or its status when absent. */
async function etagOf(path) {
  const r = await admin.get(path);
  return r.status === 200 ? r.json.meta.etag : `status ${r.status}`;
}

function assertError(res, status, code, what) {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${res.text}`);
  assert.equal(res.json?.error?.code, code, `${what}: error code in ${res.text}`);
}

/**
 * Run `fn` (one refused write), assert status/code, and that neither the
 * revision nor the object(s) at `watch` (as the admin sees them) changed.
 */
async function refused(what, fn, watch = [], { status = 403, code = 'forbidden' } = {}) {
  const paths = [watch].flat();
  const rev = await topRevision();
  const tags = await Promise.all(paths.map(etagOf));
  const res = await fn();
  assertError(res, status, code, what);
  assert.equal(await topRevision(), rev, `${what}: a revision was written`);
  assert.deepEqual(await Promise.all(paths.map(etagOf)), tags, `${what}: an object changed`);
  return res;
}

const INVALID = { status: 400, code: 'invalid_request' };
const METHOD = { GET: 'get', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'del' };

/**
 * refused() for each row [what, 'METHOD path', body, watch, expect]; watch
 * defaults to the object the request names (a POST to a collection: the
 * object named in the body).
 */
async function refuseEach(c, rows) {
  const out = [];
  for (const [what, req, body, watch, expect] of rows) {
    const [m, path] = req.split(' ');
    const named = m === 'POST' && /^\/admin\/v1\/[a-z]+$/.test(path) && body?.name;
    const w = watch ?? (named ? `${path}/${u(body.name)}` : path.split('?')[0]);
    out.push(await refused(what, () => c[METHOD[m]](path, body), w, expect));
  }
  return out;
}

function config(idpUrl, clientId, adminPort) {
  return {
    server: serverSection(),
    admin: {
      oidc: {
        issuer: idpUrl,
        client_id: clientId,
        redirect_url: `http://127.0.0.1:${adminPort}/admin/v1/auth/callback`,
        roles: [
          { group: 'acme-admins', role: 'tenant-admin', tenant: 'acme' },
          { group: 'platform-admins', role: 'platform-admin' },
        ],
      },
    },
    providers: [
      { name: 'mock', kind: 'mock' },
      // takes tenant credentials; never called here
      { name: 'up', kind: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1' },
    ],
    models: {
      'mock-fast': { provider: 'mock', model: 'mock-fast' },
      'mock-slow': { provider: 'mock', model: 'mock-fast' },
      'beta-model': { provider: 'mock', model: 'mock-fast' },
    },
    tenants: [
      { name: 'acme', models: ['mock-fast', 'mock-slow'] },
      { name: 'beta', models: ['beta-model'] },
    ],
    teams: [
      { name: 'ml', tenant: 'acme', models: ['mock-fast', 'mock-slow'] },
      { name: 'web', tenant: 'acme', models: ['mock-fast'] },
      { name: 'bx', tenant: 'beta' },
    ],
    users: [
      { name: 'dev@acme.test', role: 'developer', tenant: 'acme', team: 'ml' },
      { name: 'dev@beta.test', role: 'developer', tenant: 'beta', team: 'bx' },
    ],
    keys: [{ name: 'beta-key', key: `sha256:${sha256(BETA_KEY)}`, tenant: 'beta', team: 'bx', owner: 'dev@beta.test' }],
    credentials: [
      { name: 'acme-cred', provider: 'up', tenant: 'acme', api_key: 'env:ACME_UP_KEY' },
      { name: 'beta-cred', provider: 'up', tenant: 'beta', api_key: 'env:BETA_UP_KEY' },
    ],
  };
}

before(async () => {
  idp = await startIdp({ clientId: 'asc-test' });
  idp2 = await startIdp({ clientId: 'asc-rot' });
  const env = { ASC_ADMIN_TOKEN: ADMIN, ACME_UP_KEY: 'sk-up-acme-0001', BETA_UP_KEY: 'sk-up-beta-0002' };
  const port = await freePort();
  asc = await startAsc({
    config: config(idp.url, 'asc-test', port),
    env,
    args: ['--admin-listen', `127.0.0.1:${port}`],
  });
  assert.equal(asc.adminPort, port);
  const port2 = await freePort();
  asc2 = await startAsc({
    config: config(idp2.url, 'asc-rot', port2),
    env,
    args: ['--admin-listen', `127.0.0.1:${port2}`],
  });

  // users, a tenant and keys made through the API (not file-managed, so a
  // refused change is refused by RBAC and not by the file_managed rule)
  const setup = [
    ['/admin/v1/tenants', { name: 'gamma', models: ['mock-fast'] }],
    ['/admin/v1/users', { name: 'dev2@acme.test', role: 'developer', tenant: 'acme', team: 'ml' }],
    ['/admin/v1/users', { name: 'devw@acme.test', role: 'developer', tenant: 'acme', team: 'web' }],
    ['/admin/v1/users', { name: 'ta@acme.test', role: 'tenant-admin', tenant: 'acme' }],
    ['/admin/v1/users', { name: 'aud@acme.test', role: 'auditor', tenant: 'acme' }],
    ['/admin/v1/users', { name: 'fin@acme.test', role: 'finance', tenant: 'acme' }],
    ['/admin/v1/users', { name: 'ta@gamma.test', role: 'tenant-admin', tenant: 'gamma' }],
    ['/admin/v1/keys', { name: 'ml-other', team: 'ml', owner: 'dev2@acme.test' }],
    ['/admin/v1/keys', { name: 'web-key', team: 'web', owner: 'devw@acme.test' }],
    ['/admin/v1/routes', { name: 'api-route', provider: 'mock', model: 'mock-fast' }],
  ];
  for (const [p, body] of setup) {
    const r = await admin.post(p, body);
    assert.equal(r.status, 201, `setup POST ${p} ${body.name}: ${r.text}`);
  }

  // asc2 fetches idp2's JWKS once now; the rotation test runs last
  const r = await asc2.admin('GET', '/admin/v1/whoami', {
    token: idp2.sign({ sub: 'ops', email: 'ops@corp.test', groups: ['platform-admins'] }),
  });
  assert.equal(r.status, 200, r.text);
  rotT0 = performance.now();
  assert.equal(jwksFetches(idp2), 1);
});

after(async () => {
  await stopAll(asc, asc2);
  await idp?.close();
  await idp2?.close();
});

describe('ID tokens as admin Bearer tokens', () => {
  test('a user object gives the role, tenant and team (email, else sub)', T, async () => {
    const r = await whoami(jwt('dev@acme.test', { sub: 'u1' }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { subject: 'dev@acme.test', role: 'developer', tenant: 'acme', team: 'ml', via: 'oidc' });
    // no email claim: the sub names the user
    const s = await whoami(idp.sign({ sub: 'dev@acme.test' }));
    assert.equal(s.status, 200, s.text);
    assert.equal(s.json.role, 'developer');
    // a group claim cannot lift a user above its user object
    const g = await whoami(jwt('dev@acme.test', { groups: ['platform-admins', 'acme-admins'] }));
    assert.equal(g.status, 200, g.text);
    assert.equal(g.json.role, 'developer');
    assert.equal(g.json.tenant, 'acme');
  });

  test('without a user object the group claim maps through admin.oidc.roles', T, async () => {
    const r = await whoami(jwt('boss@acme.test', { groups: ['staff', 'acme-admins'] }));
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, {
      subject: 'boss@acme.test',
      role: 'tenant-admin',
      tenant: 'acme',
      team: null,
      via: 'oidc',
    });
    const p = await whoami(jwt('root@corp.test', { groups: ['platform-admins'] }));
    assert.equal(p.status, 200, p.text);
    assert.equal(p.json.role, 'platform-admin');
    assert.equal(p.json.tenant, null);
  });

  test('a signed-in user with no role is 403, no credential or a bad one 401', T, async () => {
    assertError(await whoami(jwt('stranger@else.test', { groups: ['staff'] })), 403, 'forbidden', 'no role');
    assertError(await whoami(jwt('stranger@else.test')), 403, 'forbidden', 'no groups');
    assertError(await whoami(undefined), 401, 'unauthorized', 'no credential');
    assertError(await whoami('not-a-token'), 401, 'unauthorized', 'garbage');
    const b = await whoami(ADMIN);
    assert.deepEqual(b.json, {
      subject: 'bootstrap',
      role: 'platform-admin',
      tenant: null,
      team: null,
      via: 'bootstrap-token',
    });
  });
});

describe('a developer from SSO to a chat completion', () => {
  test('asc keys create as the developer, chat with the key, /v1/models, change log', T, async () => {
    const devTok = jwt('dev@acme.test');
    const c = await asc.cli(['keys', 'create', 'mykey'], { token: devTok });
    assert.equal(c.code, 0, `asc keys create: ${c.stderr}`);
    assert.match(c.stdout, /^created key mykey \(revision \d+\)$/m);
    const secret = remember(/^secret: (sk-asc-\S+)$/m.exec(c.stdout)?.[1]);
    assert.ok(secret, `no secret in: ${c.stdout}`);
    assert.ok(!c.stdout.includes(devTok) && !c.stderr.includes(devTok), 'the CLI printed the token');

    // owner, tenant and team defaulted to the developer
    const k = await admin.get('/admin/v1/keys/mykey');
    assert.equal(k.status, 200, k.text);
    assert.equal(k.json.owner, 'dev@acme.test');
    assert.equal(k.json.tenant, 'acme');
    assert.equal(k.json.team, 'ml');
    assert.equal(k.json.key_hint, `...${secret.slice(-4)}`);
    assert.equal(k.json.meta.created_by, 'dev@acme.test (oidc)');
    assert.ok(!k.text.includes(secret) && !('key' in k.json) && !('secret' in k.json));

    const client = asc.client(secret);
    const chat = await waitUntil(
      () => client.chat.completions.create({ model: 'mock-fast', messages: [{ role: 'user', content: 'hello' }] }),
      { what: 'the new key to work on the data plane' },
    );
    assert.match(chat.choices[0].message.content, /^Lorem ipsum/);
    assert.ok(chat.usage.completion_tokens > 0);

    const models = await client.models.list();
    assert.deepEqual(models.data.map((m) => m.id).sort(), ['mock-fast', 'mock-slow']);
    await assert.rejects(
      client.chat.completions.create({ model: 'beta-model', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e.status === 403,
    );

    const ch = await admin.get('/admin/v1/changes?kind=key&name=mykey');
    assert.equal(ch.status, 200, ch.text);
    const created = ch.json.data.filter((e) => e.action === 'create');
    assert.equal(created.length, 1, ch.text);
    assert.equal(created[0].actor, 'dev@acme.test (oidc)');
    assert.equal(created[0].tenant, 'acme');
    assert.equal(created[0].before_digest, null);
    assert.match(created[0].after_digest, /^[0-9a-f]{64}$/);
  });
});

describe('JWT forgeries are 401 (ADVERSARIAL #6)', () => {
  let good;
  let rsaKid;
  let esKid;
  before(async () => {
    good = jwt('dev@acme.test');
    rsaKid = seg(good, 0).kid;
    esKid = seg(idp.sign({ sub: 'x' }, { alg: 'ES256' }), 0).kid;
    assert.equal((await whoami(good)).status, 200);
  });
  const forged = (what, make) =>
    test(what, T, async () => {
      const tok = make();
      assertError(await whoami(tok), 401, 'unauthorized', what);
      // and not later either (nothing cached for a refused token)
      assertError(await whoami(tok), 401, 'unauthorized', `${what} (again)`);
    });

  forged('alg=none, no signature', () => jwt('dev@acme.test', {}, { alg: 'none' }));
  forged('alg=none with the real kid', () => jwt('dev@acme.test', {}, { alg: 'none', kid: rsaKid }));
  forged('HS256 keyed with the RSA public key (HS/RS confusion)', () =>
    jwt('dev@acme.test', {}, { alg: 'HS256', kid: rsaKid }),
  );
  forged('HS256 without a kid', () => jwt('dev@acme.test', {}, { alg: 'HS256' }));
  forged('RS256 header naming the EC key', () => jwt('dev@acme.test', {}, { alg: 'RS256', kid: esKid }));
  forged('wrong aud', () => jwt('dev@acme.test', { aud: 'another-client' }));
  forged('aud list without us', () => jwt('dev@acme.test', { aud: ['another-client', 'third'] }));
  forged('wrong iss', () => jwt('dev@acme.test', { iss: 'http://evil.example' }));
  forged('iss with a trailing slash', () => jwt('dev@acme.test', { iss: `${idp.issuer}/` }));
  forged('expired beyond the skew', () => jwt('dev@acme.test', { iat: now() - 7200, exp: now() - 3600 }));
  forged('no exp', () => jwt('dev@acme.test', { exp: undefined }));
  forged('nbf in the future', () => jwt('dev@acme.test', { nbf: now() + 3600 }));
  forged('iat in the future', () => jwt('dev@acme.test', { iat: now() + 3600, exp: now() + 7200 }));
  forged('signed by a foreign key with a real kid', () =>
    jwt('dev@acme.test', {}, { key: idp.foreignKey(), kid: rsaKid }),
  );
  forged('ES256 by a foreign key with the real kid', () =>
    jwt('dev@acme.test', {}, { alg: 'ES256', key: idp.foreignKey('ES256'), kid: esKid }),
  );
  forged('crit header', () => jwt('dev@acme.test', {}, { header: { crit: ['exp'] } }));
  forged('tampered payload, original signature', () => {
    const [h, p, s] = jwt('someone@acme.test', { groups: ['staff'] }).split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims.email = 'dev@acme.test';
    claims.groups = ['platform-admins'];
    return `${h}.${b64u(claims)}.${s}`;
  });

  test('a verified token does not vouch for one sharing its header and payload', T, async () => {
    const tok = jwt('root@corp.test', { groups: ['platform-admins'] });
    assert.equal((await whoami(tok)).status, 200); // now cached
    const [h, p, s] = tok.split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[sig.length - 1] ^= 1;
    for (const t of [
      `${h}.${p}.${sig.toString('base64url')}`,
      `${h}.${p}.`,
      `${h}.${p}.${s.slice(0, -2)}`,
      `${h}.${p}.${s}x`,
    ]) {
      assertError(await whoami(t), 401, 'unauthorized', `same prefix as a good token: ...${t.slice(-12)}`);
    }
    assert.equal((await whoami(tok)).status, 200, 'the good token still works');
  });

  test('exp within the clock skew is accepted, aud as a list containing us too', T, async () => {
    const r = await whoami(jwt('dev@acme.test', { iat: now() - 600, exp: now() - 20 }));
    assert.equal(r.status, 200, r.text);
    const a = await whoami(jwt('dev@acme.test', { aud: ['other', 'asc-test'] }));
    assert.equal(a.status, 200, a.text);
  });

  test('ES256 from the issuer is accepted', T, async () => {
    const r = await whoami(jwt('dev@acme.test', {}, { alg: 'ES256' }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.via, 'oidc');
    assert.equal(r.json.subject, 'dev@acme.test');
  });

  test('unknown kids are 401 and refetch the JWKS at most once per interval', T, async () => {
    const n0 = jwksFetches(idp);
    for (let i = 0; i < 5; i++) {
      const kid = 'kid-' + randomBytes(6).toString('hex');
      assertError(await whoami(jwt('dev@acme.test', {}, { kid })), 401, 'unauthorized', `unknown kid ${kid}`);
    }
    assert.ok(jwksFetches(idp) - n0 <= 1, `JWKS fetched ${jwksFetches(idp) - n0} times for 5 unknown kids`);
  });
});

describe('browser sign-in: authorization code with PKCE', () => {
  const cookieOf = (res, name) => res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  const valueOf = (cookie) => /^[^=]+=([^;]*)/.exec(cookie)[1];

  /** /auth/login then the IdP's /authorize: the callback URL and the login cookie. */
  async function toCallback(redirect = '/admin/v1/whoami') {
    const r1 = await asc.admin('GET', `/admin/v1/auth/login?redirect=${encodeURIComponent(redirect)}`);
    assert.equal(r1.status, 302, r1.text);
    const authz = new URL(r1.headers.get('location'));
    const login = cookieOf(r1, 'asc_login');
    assert.ok(login, `no asc_login cookie: ${r1.headers.getSetCookie()}`);
    const r2 = await fetch(authz, { redirect: 'manual' });
    assert.equal(r2.status, 302, await r2.text());
    const cb = new URL(r2.headers.get('location'));
    return { r1, authz, login, state: valueOf(login), cb, path: cb.pathname + cb.search };
  }
  const callback = (path, state) =>
    asc.admin('GET', path, { headers: state === undefined ? {} : { cookie: `asc_login=${state}` } });

  test('login, callback, session cookie, whoami, logout', T, async () => {
    idp.setUser({ sub: 'u-browser', email: 'dev@acme.test', groups: [] });
    const f = await toCallback('/admin/v1/whoami');
    // the authorize request: our client, our callback, PKCE S256, state and nonce
    assert.equal(f.authz.origin + f.authz.pathname, `${idp.issuer}/authorize`);
    const q = f.authz.searchParams;
    assert.equal(q.get('client_id'), 'asc-test');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('redirect_uri'), `http://127.0.0.1:${asc.adminPort}/admin/v1/auth/callback`);
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
    assert.match(q.get('nonce'), /^[A-Za-z0-9_-]{20,}$/);
    assert.equal(q.get('state'), f.state);
    assert.match(f.state, /^[A-Za-z0-9_-]{20,}$/);
    assert.match(f.login, /; Path=\/admin\/v1\/auth(;|$)/);
    assert.match(f.login, /; HttpOnly(;|$)/i);
    assert.match(f.login, /; SameSite=Lax(;|$)/i);
    assert.doesNotMatch(f.login, /Secure/i);

    const r = await callback(f.path, f.state);
    assert.equal(r.status, 302, r.text);
    assert.equal(r.headers.get('location'), '/admin/v1/whoami');
    const sc = cookieOf(r, 'asc_session');
    assert.ok(sc, `no asc_session cookie: ${r.headers.getSetCookie()}`);
    assert.match(sc, /; Path=\/(;|$)/);
    assert.match(sc, /; HttpOnly(;|$)/i);
    assert.match(sc, /; SameSite=Lax(;|$)/i);
    assert.doesNotMatch(sc, /Secure/i);
    const sid = remember(valueOf(sc));
    assert.ok(sid.length >= 32 && sid !== f.state && sid !== f.cb.searchParams.get('code'));
    // the login cookie is cleared
    assert.match(cookieOf(r, 'asc_login') ?? '', /^asc_login=;.*Max-Age=0/);

    const cookie = { cookie: `asc_session=${sid}` };
    const w = await asc.admin('GET', '/admin/v1/whoami', { headers: cookie });
    assert.equal(w.status, 200, w.text);
    assert.deepEqual(w.json, {
      subject: 'dev@acme.test',
      role: 'developer',
      tenant: 'acme',
      team: 'ml',
      via: 'session',
    });
    // the session is the developer, no wider
    assertError(
      await asc.admin('GET', '/admin/v1/credentials', { headers: cookie }),
      403,
      'forbidden',
      'session reads credentials',
    );
    assertError(
      await asc.admin('GET', '/admin/v1/auth/logout', { headers: cookie }),
      405,
      'method_not_allowed',
      'GET logout',
    );

    const lo = await asc.admin('POST', '/admin/v1/auth/logout', { headers: cookie });
    assert.equal(lo.status, 204, lo.text);
    assert.match(cookieOf(lo, 'asc_session') ?? '', /^asc_session=;.*Max-Age=0/);
    assertError(await asc.admin('GET', '/admin/v1/whoami', { headers: cookie }), 401, 'unauthorized', 'after logout');
    assertError(
      await asc.admin('GET', '/admin/v1/whoami', { headers: { cookie: 'asc_session=' + 'A'.repeat(43) } }),
      401,
      'unauthorized',
      'made-up session',
    );
  });

  test("a callback with another browser's state is 400 and opens no session", T, async () => {
    idp.setUser({ sub: 'u-browser', email: 'dev@acme.test' });
    const mine = await toCallback();
    const theirs = await toCallback();
    // the attacker's callback URL opened in the victim's browser
    const r = await callback(theirs.path, mine.state);
    assertError(r, 400, 'invalid_request', 'state mismatch');
    assert.equal(cookieOf(r, 'asc_session'), undefined);
    assertError(await callback(mine.path, undefined), 400, 'invalid_request', 'no login cookie');
    assertError(
      await callback(`/admin/v1/auth/callback?code=abc&state=${mine.state}x`, `${mine.state}x`),
      400,
      'invalid_request',
      'unknown state',
    );
  });

  test('a callback or a code is good once', T, async () => {
    idp.setUser({ sub: 'u-browser', email: 'dev@acme.test' });
    const f = await toCallback();
    assert.equal((await callback(f.path, f.state)).status, 302);
    const again = await callback(f.path, f.state);
    assertError(again, 400, 'invalid_request', 'replayed callback');
    assert.equal(cookieOf(again, 'asc_session'), undefined);
    // the used code with a fresh sign-in's state: the IdP refuses it
    const g = await toCallback();
    const r = await callback(
      `/admin/v1/auth/callback?code=${encodeURIComponent(f.cb.searchParams.get('code'))}&state=${g.state}`,
      g.state,
    );
    assert.ok(r.status === 400 || r.status === 401, `replayed code: ${r.status} ${r.text}`);
    assert.equal(cookieOf(r, 'asc_session'), undefined);
  });

  test('a session ends when its user is deleted', T, async () => {
    const up = `/admin/v1/users/${u('temp2@acme.test')}`;
    assert.equal(
      (await admin.post('/admin/v1/users', { name: 'temp2@acme.test', role: 'tenant-admin', tenant: 'acme' })).status,
      201,
    );
    idp.setUser({ sub: 'u-temp2', email: 'temp2@acme.test' });
    const f = await toCallback();
    const r = await callback(f.path, f.state);
    assert.equal(r.status, 302, r.text);
    const cookie = { cookie: `asc_session=${valueOf(cookieOf(r, 'asc_session'))}` };
    assert.equal((await asc.admin('GET', '/admin/v1/whoami', { headers: cookie })).json.role, 'tenant-admin');
    assert.equal((await admin.del(up)).status, 204);
    // offboarded: neither a new sign-in nor the open session may act as tenant-admin
    const f2 = await toCallback();
    assertError(await callback(f2.path, f2.state), 403, 'forbidden', 'sign-in of a deleted user');
    const w = await asc.admin('GET', '/admin/v1/whoami', { headers: cookie });
    assert.ok(w.status === 401 || w.status === 403, `deleted user's session: ${w.status} ${w.text}`);
    const t = await asc.admin('POST', '/admin/v1/teams', {
      headers: cookie,
      body: { name: 'ghost-team', tenant: 'acme' },
    });
    assert.notEqual(t.status, 201, `deleted user's session created a team: ${t.text}`);
  });

  test('redirect must be a local path', T, async () => {
    // raw query values (percent-decoded by the server)
    for (const bad of [
      '//evil.example',
      '%2F%2Fevil.example',
      'https://evil.example/',
      '/%5Cevil.example',
      'evil.example',
      '/%0d%0aSet-Cookie:x=1',
      '/%09/evil.example',
    ]) {
      const r = await asc.admin('GET', `/admin/v1/auth/login?redirect=${bad}`);
      assertError(r, 400, 'invalid_request', `redirect=${bad}`);
      assert.equal(r.headers.get('location'), null);
    }
    const ok = await asc.admin('GET', `/admin/v1/auth/login?redirect=${encodeURIComponent('/admin/v1/keys')}`);
    assert.equal(ok.status, 302);
  });
});

describe('RBAC escalation is 403 and changes nothing (ADVERSARIAL #5)', () => {
  let dev; // dev@acme.test (file user), developer acme/ml
  let dev2; // dev2@acme.test (API user), developer acme/ml
  let ta; // ta@acme.test tenant-admin acme
  let aud;
  let fin;
  before(() => {
    dev = as(jwt('dev@acme.test'));
    dev2 = as(jwt('dev2@acme.test'));
    ta = as(jwt('ta@acme.test'));
    aud = as(jwt('aud@acme.test'));
    fin = as(jwt('fin@acme.test'));
  });

  test('developer: own role and tenant', T, async () => {
    const self = `/admin/v1/users/${u('dev2@acme.test')}`;
    assert.equal((await dev2.get(self)).status, 200, 'a developer reads itself');
    const alt = `/admin/v1/users/${u('alt@acme.test')}`;
    await refuseEach(dev2, [
      ['PATCH its role', `PATCH ${self}`, { role: 'platform-admin' }],
      ['PATCH its tenant', `PATCH ${self}`, { tenant: 'beta', team: 'bx' }],
      ['PUT itself', `PUT ${self}`, { name: 'dev2@acme.test', role: 'tenant-admin', tenant: 'acme' }],
      ['delete itself', `DELETE ${self}`],
      ['create a user', 'POST /admin/v1/users', { name: 'alt@acme.test', role: 'tenant-admin', tenant: 'acme' }, alt],
    ]);
    // the file-managed developer is refused too (403 or the file rule), unchanged
    const fself = `/admin/v1/users/${u('dev@acme.test')}`;
    const before = await etagOf(fself);
    const r = await dev.patch(fself, { role: 'platform-admin' });
    assert.ok(r.status === 403 || r.status === 409, `${r.status} ${r.text}`);
    assert.equal(await etagOf(fself), before);
    assert.equal((await whoami(jwt('dev2@acme.test'))).json.role, 'developer');
  });

  test('developer: keys outside its team, tenant or ownership', T, async () => {
    const p = (n) => `/admin/v1/keys/${n}`;
    const [, , , , , wide] = await refuseEach(dev, [
      ['key in another team', 'POST /admin/v1/keys', { name: 'x-web', team: 'web' }],
      ['key in another tenant', 'POST /admin/v1/keys', { name: 'x-beta', tenant: 'beta', team: 'bx' }],
      ['key in another tenant, no team', 'POST /admin/v1/keys', { name: 'x-beta2', tenant: 'beta' }],
      ['key owned by someone else', 'POST /admin/v1/keys', { name: 'x-own', owner: 'dev2@acme.test' }],
      ['key without a scope', 'POST /admin/v1/keys', { name: 'x-null', tenant: null, team: null }],
      [
        'key wider than team',
        'POST /admin/v1/keys',
        { name: 'x-wide', models: ['mock-fast', 'beta-model'] },
        null,
        INVALID,
      ],
      ['key for every model', 'POST /admin/v1/keys', { name: 'x-star', models: ['*'] }, null, INVALID],
    ]);
    assert.match(wide.json.error.message, /models/);
    assert.match(wide.json.error.message, /beta-model/);
    // its own key may not be moved, given away or widened either
    const own = await dev.post('/admin/v1/keys', { name: 'dev-own', models: ['mock-fast'] });
    assert.equal(own.status, 201, own.text);
    await refuseEach(dev, [
      ['move own key to another team', `PATCH ${p('dev-own')}`, { team: 'web' }],
      ['give own key away', `PATCH ${p('dev-own')}`, { owner: 'dev2@acme.test' }],
      ['widen own key', `PATCH ${p('dev-own')}`, { models: ['beta-model'] }, null, INVALID],
    ]);
  });

  test("developer: other developers' keys and other tenants", T, async () => {
    for (const name of ['ml-other', 'web-key', 'beta-key']) {
      const path = `/admin/v1/keys/${name}`;
      assertError(await dev.get(path), 403, 'forbidden', `read ${name}`);
      await refuseEach(dev, [
        [`rotate ${name}`, `POST ${path}/rotate`, {}, path],
        [`revoke ${name}`, `POST ${path}/revoke`, {}, path],
        [`patch ${name}`, `PATCH ${path}`, { description: 'mine now' }],
        [`delete ${name}`, `DELETE ${path}`],
      ]);
    }
    const l = await dev.get('/admin/v1/keys?limit=500');
    assert.equal(l.status, 200, l.text);
    assert.ok(l.json.data.length >= 2, l.text); // mykey, dev-own
    for (const k of l.json.data) assert.equal(k.owner, 'dev@acme.test', `listed ${k.name} of ${k.owner}`);
    assert.ok(!l.text.includes('sha256:'), 'key hashes listed');
    // reads of its own scope work; others' are refused
    for (const path of ['/admin/v1/tenants/acme', '/admin/v1/teams/ml', '/admin/v1/routes/mock-fast'])
      assert.equal((await dev.get(path)).status, 200, path);
    for (const path of [
      '/admin/v1/keys?tenant=beta',
      `/admin/v1/keys?owner=${u('dev2@acme.test')}`,
      '/admin/v1/tenants/beta',
      '/admin/v1/teams/bx',
      `/admin/v1/users/${u('dev@beta.test')}`,
      '/admin/v1/credentials',
      '/admin/v1/credentials/acme-cred',
    ])
      assertError(await dev.get(path), 403, 'forbidden', `developer GET ${path}`);
    assert.deepEqual(
      (await dev.get('/admin/v1/tenants')).json.data.map((t) => t.name),
      ['acme'],
    );
    assert.deepEqual(
      (await dev.get('/admin/v1/users')).json.data.map((x) => x.name),
      ['dev@acme.test'],
    );
  });

  test('developer: change log, revisions, apply', T, async () => {
    assertError(await dev.get('/admin/v1/changes'), 403, 'forbidden', 'developer reads changes');
    assertError(await dev.get('/admin/v1/revisions'), 403, 'forbidden', 'developer reads revisions');
    const yaml = 'tenants:\n  - name: evil\n';
    for (const c of [dev, ta, aud]) {
      await refuseEach(c, [
        ['apply a config', 'POST /admin/v1/apply', yaml, '/admin/v1/tenants/evil'],
        ['dry-run a config', 'POST /admin/v1/apply?dry_run=1', yaml],
      ]);
    }
    assert.equal((await admin.get('/admin/v1/tenants/evil')).status, 404);
  });

  test('tenant-admin: users, roles and its own tenant', T, async () => {
    const up = (n) => `/admin/v1/users/${u(n)}`;
    // allowed: a developer of its tenant
    const ok = await ta.post('/admin/v1/users', {
      name: 'new@acme.test',
      role: 'developer',
      tenant: 'acme',
      team: 'web',
    });
    assert.equal(ok.status, 201, ok.text);
    const pa = { role: 'platform-admin' };
    await refuseEach(ta, [
      ['create a platform-admin', 'POST /admin/v1/users', { name: 'pa@acme.test', ...pa }],
      ['create a platform-admin in acme', 'POST /admin/v1/users', { name: 'pa2@acme.test', ...pa, tenant: 'acme' }],
      ['create a platform auditor', 'POST /admin/v1/users', { name: 'pa3@acme.test', role: 'auditor' }],
      [
        'create a user in beta',
        'POST /admin/v1/users',
        { name: 'b@beta.test', role: 'developer', tenant: 'beta', team: 'bx' },
      ],
      ['promote a developer', `PATCH ${up('new@acme.test')}`, { ...pa, tenant: null, team: null }],
      ['move a developer to beta', `PATCH ${up('new@acme.test')}`, { tenant: 'beta', team: 'bx' }],
      ['change its own role', `PATCH ${up('ta@acme.test')}`, { role: 'developer', team: 'ml' }],
      ['change its own tenant', `PATCH ${up('ta@acme.test')}`, { tenant: 'beta' }],
      ['delete itself', `DELETE ${up('ta@acme.test')}`],
      ['edit a beta user', `PATCH ${up('dev@beta.test')}`, { role: 'auditor' }],
      ['create a tenant', 'POST /admin/v1/tenants', { name: 'delta' }],
      ['change a route', 'PATCH /admin/v1/routes/api-route', { model: 'mock-slow' }],
      ['create a route', 'POST /admin/v1/routes', { name: 'ta-route', provider: 'mock', model: 'mock-fast' }],
    ]);
    // its own tenant object: API-managed tenant gamma and its tenant-admin
    const tg = as(jwt('ta@gamma.test'));
    assert.equal((await tg.get('/admin/v1/tenants/gamma')).status, 200);
    await refuseEach(tg, [
      ["widen its tenant's models", 'PATCH /admin/v1/tenants/gamma', { models: ['mock-fast', 'beta-model'] }],
      ["lift its tenant's limits", 'PATCH /admin/v1/tenants/gamma', { limits: { rpm: 1000000 } }],
      ['replace its tenant', 'PUT /admin/v1/tenants/gamma', { name: 'gamma', models: ['*'] }],
      ['delete its tenant', 'DELETE /admin/v1/tenants/gamma'],
    ]);
    assert.equal((await ta.get('/admin/v1/providers')).status, 200);
  });

  test("tenant-admin: beta's teams, keys and credentials", T, async () => {
    for (const [path, body] of [
      ['/admin/v1/teams/bx', { description: 'owned' }],
      ['/admin/v1/keys/beta-key', { revoked: true }],
      ['/admin/v1/credentials/beta-cred', { secret: 'sk-attacker-0000' }],
      ['/admin/v1/tenants/beta', { models: ['mock-fast'] }],
    ]) {
      assertError(await ta.get(path), 403, 'forbidden', `read ${path}`);
      await refuseEach(ta, [
        [`patch ${path}`, `PATCH ${path}`, body],
        [`delete ${path}`, `DELETE ${path}`],
      ]);
    }
    const secret = 'sk-x-12345678';
    await refuseEach(ta, [
      ['revoke beta-key', 'POST /admin/v1/keys/beta-key/revoke', {}, '/admin/v1/keys/beta-key'],
      ['create a team in beta', 'POST /admin/v1/teams', { name: 'bnew', tenant: 'beta' }],
      ['create a key in beta', 'POST /admin/v1/keys', { name: 'bkey', tenant: 'beta', team: 'bx' }],
      [
        'create a beta credential',
        'POST /admin/v1/credentials',
        { name: 'bc', provider: 'up', tenant: 'beta', secret },
      ],
      [
        'create a global credential',
        'POST /admin/v1/credentials',
        { name: 'gc', provider: 'up', tenant: null, secret },
      ],
    ]);
    for (const kind of ['teams', 'keys', 'credentials', 'users']) {
      assertError(await ta.get(`/admin/v1/${kind}?tenant=beta`), 403, 'forbidden', `list ${kind}?tenant=beta`);
      const l = await ta.get(`/admin/v1/${kind}?limit=500`);
      assert.equal(l.status, 200, l.text);
      assert.ok(l.json.data.length > 0, `${kind}: nothing listed`);
      for (const o of l.json.data) assert.equal(o.tenant, 'acme', `${kind}: listed ${o.name} of ${o.tenant}`);
    }
    assertError(await ta.get('/admin/v1/changes?tenant=beta'), 403, 'forbidden', 'changes ?tenant=beta');
    const ch = await ta.get('/admin/v1/changes?limit=500');
    assert.equal(ch.status, 200, ch.text);
    for (const c of ch.json.data) assert.equal(c.tenant, 'acme', `change ${c.kind} ${c.name} of ${c.tenant}`);
    assertError(await ta.get('/admin/v1/revisions'), 403, 'forbidden', 'tenant-admin reads revisions');
    // its own tenant's credential: readable, secret never shown
    const cr = await ta.get('/admin/v1/credentials/acme-cred');
    assert.equal(cr.status, 200, cr.text);
    assert.ok(!cr.text.includes('sk-up-acme-0001'));
  });

  test('auditor is read-only; finance reads no credentials or change log', T, async () => {
    const k = '/admin/v1/keys/ml-other';
    assert.equal((await aud.get(k)).status, 200);
    assert.equal((await aud.get('/admin/v1/changes')).status, 200);
    assertError(await aud.get('/admin/v1/keys/beta-key'), 403, 'forbidden', 'auditor reads beta');
    assertError(await aud.get('/admin/v1/revisions'), 403, 'forbidden', 'tenant auditor reads revisions');
    const watch = [k, '/admin/v1/teams/aud-team', '/admin/v1/keys/aud-key', '/admin/v1/users/x'];
    await refuseEach(aud, [
      ['create a team', 'POST /admin/v1/teams', { name: 'aud-team', tenant: 'acme' }, watch],
      ['create a key', 'POST /admin/v1/keys', { name: 'aud-key', team: 'ml', owner: 'aud@acme.test' }, watch],
      ['patch a key', `PATCH ${k}`, { description: 'audited' }, watch],
      ['put a key', `PUT ${k}`, { name: 'ml-other', team: 'ml', owner: 'aud@acme.test' }, watch],
      ['revoke a key', `POST ${k}/revoke`, {}, watch],
      ['rotate a key', `POST ${k}/rotate`, {}, watch],
      ['delete a key', `DELETE ${k}`, undefined, watch],
      ['create a user', 'POST /admin/v1/users', { name: 'x', role: 'developer', tenant: 'acme', team: 'ml' }, watch],
      ['promote itself', `PATCH /admin/v1/users/${u('aud@acme.test')}`, { role: 'tenant-admin' }],
    ]);
    assert.equal((await fin.get(k)).status, 200);
    assert.equal((await fin.get('/admin/v1/tenants/acme')).status, 200);
    for (const path of [
      '/admin/v1/credentials',
      '/admin/v1/credentials/acme-cred',
      '/admin/v1/users',
      '/admin/v1/changes',
      '/admin/v1/keys/beta-key',
    ])
      assertError(await fin.get(path), 403, 'forbidden', `finance GET ${path}`);
    await refused('finance patches a key', () => fin.patch(k, { description: 'paid' }), k);
  });

  test('RBAC answers before the no-op and file_managed shortcuts of the write path', T, async () => {
    // a no-change write used to answer 200 before RBAC was asked; the
    // file_managed 409 (which names the config file's path) still comes
    // before RBAC in src/control/write.c
    const k = '/admin/v1/keys/ml-other';
    const self = `/admin/v1/users/${u('dev2@acme.test')}`;
    const owner = (await admin.get(k)).json.owner;
    const cases = [
      ['auditor: empty merge patch of a key', () => aud.patch(k, {}), k],
      ['finance: patch a key to its own owner', () => fin.patch(k, { owner }), k],
      ['developer: patch its own role to itself', () => dev2.patch(self, { role: 'developer' }), self],
      [
        'auditor: patch a file-managed team',
        () => aud.patch('/admin/v1/teams/ml', { description: 'x' }),
        '/admin/v1/teams/ml',
      ],
      [
        'tenant-admin: patch a file-managed route',
        () => ta.patch('/admin/v1/routes/mock-fast', { model: 'mock-slow' }),
        '/admin/v1/routes/mock-fast',
      ],
      [
        'developer: delete its file-managed user',
        () => dev.del(`/admin/v1/users/${u('dev@acme.test')}`),
        `/admin/v1/users/${u('dev@acme.test')}`,
      ],
    ];
    const rev = await topRevision();
    const got = [];
    for (const [what, fn, path] of cases) {
      const tag = await etagOf(path);
      const r = await fn();
      assert.equal(await etagOf(path), tag, `${what}: changed`);
      got.push(`${what}: ${r.status} ${r.status === 403 ? '' : r.text.slice(0, 160)}`.trim());
    }
    assert.equal(await topRevision(), rev);
    assert.deepEqual(
      got,
      cases.map(([what]) => `${what}: 403`),
    );
  });
});

describe('personal access tokens', () => {
  let devPat;
  let dev2Pat;
  before(async () => {
    const a = await as(jwt('dev@acme.test')).post('/admin/v1/tokens', { name: 'dev-pat' });
    assert.equal(a.status, 201, a.text);
    devPat = remember(a.json.secret);
    const b = await as(jwt('dev2@acme.test')).post('/admin/v1/tokens', { name: 'dev2-pat' });
    assert.equal(b.status, 201, b.text);
    dev2Pat = remember(b.json.secret);
  });

  test('a PAT acts as its developer, no wider', T, async () => {
    assert.match(devPat, /^asc-pat-[A-Za-z0-9_-]{20,}$/);
    const w = await whoami(devPat);
    assert.deepEqual(w.json, { subject: 'dev@acme.test', role: 'developer', tenant: 'acme', team: 'ml', via: 'pat' });
    const p = as(devPat);
    await refuseEach(p, [
      ['PAT: key in another team', 'POST /admin/v1/keys', { name: 'pat-web', team: 'web' }],
      ['PAT: create a user', 'POST /admin/v1/users', { name: 'pat', role: 'developer', tenant: 'acme', team: 'ml' }],
      // no role, user or scope can be put on a new token
      ['PAT with a role', 'POST /admin/v1/tokens', { name: 'pat-x', role: 'platform-admin' }, null, INVALID],
      ['PAT for another user', 'POST /admin/v1/tokens', { name: 'pat-x', user: 'root@corp.test' }, null, INVALID],
      ['PAT in another tenant', 'POST /admin/v1/tokens', { name: 'pat-x', tenant: 'beta' }, null, INVALID],
    ]);
    assertError(await p.get('/admin/v1/credentials'), 403, 'forbidden', 'PAT lists credentials');
    assertError(await p.get('/admin/v1/changes'), 403, 'forbidden', 'PAT reads changes');
    const k = await p.post('/admin/v1/keys', { name: 'pat-key' });
    assert.equal(k.status, 201, k.text);
    assert.equal(k.json.owner, 'dev@acme.test');
    assert.equal(k.json.team, 'ml');
    assert.equal(k.json.meta.created_by, 'dev@acme.test (pat)');
  });

  test("another user's PAT is not listable, readable or deletable", T, async () => {
    const p = as(devPat);
    const l = await p.get('/admin/v1/tokens');
    assert.equal(l.status, 200, l.text);
    const names = l.json.data.map((t) => t.name);
    assert.ok(names.includes('dev-pat'), names.join());
    assert.ok(!names.includes('dev2-pat'), names.join());
    for (const t of l.json.data) assert.equal(t.user, 'dev@acme.test');
    assert.ok(!l.text.includes(devPat) && !l.text.includes('sha256:'), 'token secrets listed');
    assertError(await p.get(`/admin/v1/tokens?owner=${u('dev2@acme.test')}`), 403, 'forbidden', 'list ?owner=dev2');
    assertError(await p.get('/admin/v1/tokens/dev2-pat'), 403, 'forbidden', 'read dev2-pat');
    await refuseEach(p, [['delete dev2-pat', 'DELETE /admin/v1/tokens/dev2-pat']]);
    await refuseEach(as(jwt('ta@acme.test')), [['tenant-admin deletes dev2-pat', 'DELETE /admin/v1/tokens/dev2-pat']]);
    assert.equal((await whoami(dev2Pat)).json.subject, 'dev2@acme.test');
    // deleting one's own works, and the PAT stops working
    const own = await as(jwt('dev@acme.test')).post('/admin/v1/tokens', { name: 'dev-pat-2' });
    assert.equal(own.status, 201, own.text);
    assert.equal((await p.del('/admin/v1/tokens/dev-pat-2')).status, 204);
    assertError(await whoami(own.json.secret), 401, 'unauthorized', 'deleted PAT');
  });

  test('an expired PAT and a made-up PAT are 401', T, async () => {
    const r = await as(jwt('dev@acme.test')).post('/admin/v1/tokens', {
      name: 'dev-old',
      expires_at: '2001-01-01T00:00:00Z',
    });
    assert.equal(r.status, 201, r.text);
    assertError(await whoami(r.json.secret), 401, 'unauthorized', 'expired PAT');
    assertError(await whoami('asc-pat-' + randomBytes(32).toString('base64url')), 401, 'unauthorized', 'made-up PAT');
    assertError(await whoami(devPat.slice(0, -1)), 401, 'unauthorized', 'truncated PAT');
  });

  test("a demoted or deleted user's PAT follows the user", T, async () => {
    const up = `/admin/v1/users/${u('temp@acme.test')}`;
    let r = await admin.post('/admin/v1/users', { name: 'temp@acme.test', role: 'tenant-admin', tenant: 'acme' });
    assert.equal(r.status, 201, r.text);
    r = await as(jwt('temp@acme.test')).post('/admin/v1/tokens', { name: 'temp-pat' });
    assert.equal(r.status, 201, r.text);
    const pat = remember(r.json.secret);
    assert.equal((await whoami(pat)).json.role, 'tenant-admin');
    assert.equal((await admin.patch(up, { role: 'developer', team: 'ml' })).status, 200);
    assert.equal((await whoami(pat)).json.role, 'developer', 'the PAT keeps the old role');
    assert.equal((await admin.del(up)).status, 204);
    // the user is gone: its ID token no longer signs in ...
    assertError(await whoami(jwt('temp@acme.test')), 403, 'forbidden', 'deleted user ID token');
    // ... and its PAT must not keep the role it was created with
    const w = await whoami(pat);
    assert.ok(w.status === 401 || w.status === 403, `deleted user's PAT: ${w.status} ${w.text}`);
  });
});

describe('JWKS rotation', () => {
  test('a token with a new kid is accepted after one JWKS refetch; old kids still work', T, async () => {
    // asc refetches on an unknown kid at most every 10 s (src/admin/server.c)
    const wait = rotT0 + 11000 - performance.now();
    if (wait > 0) await sleep(wait);
    const n0 = jwksFetches(idp2);
    const oldTok = idp2.sign({ sub: 'ops', email: 'ops@corp.test', groups: ['platform-admins'] });
    const newKid = idp2.rotate();
    const tok = idp2.sign({ sub: 'ops', email: 'ops@corp.test', groups: ['platform-admins'] });
    assert.equal(seg(tok, 0).kid, newKid);
    const r = await asc2.admin('GET', '/admin/v1/whoami', { token: tok });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.role, 'platform-admin');
    assert.equal(jwksFetches(idp2), n0 + 1, 'one JWKS refetch for the new kid');
    const o = await asc2.admin('GET', '/admin/v1/whoami', { token: oldTok });
    assert.equal(o.status, 200, o.text);
    // a second new-kid token is served from the refreshed set
    const again = await asc2.admin('GET', '/admin/v1/whoami', {
      token: idp2.sign({ sub: 'ops2', email: 'ops2@corp.test', groups: ['platform-admins'] }),
    });
    assert.equal(again.status, 200, again.text);
    assert.equal(jwksFetches(idp2), n0 + 1);
  });
});

describe('logs', () => {
  test("no token, PAT, session id or key secret appears in asc's output", T, async () => {
    remember(ADMIN);
    const out = await allOutput(asc);
    assert.ok(used.size > 30, `only ${used.size} credentials collected`);
    assert.match(out, /admin: invalid credentials from 127\.0\.0\.1/); // failures are logged ...
    for (const secret of used) {
      // ... without the credential (a JWT's signature is its unique part)
      const probe = secret.split('.').pop() || secret;
      assert.ok(!out.includes(probe), `asc printed a credential: ${probe.slice(0, 12)}...`);
    }
  });
});

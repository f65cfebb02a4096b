// A test OpenID Connect identity provider for node's test runner.
//
//   const idp = await startIdp({ clientId: 'asc', clientSecret: 's3cret' });
//   idp.setUser({ sub: 'u1', email: 'alice@example.com', groups: ['admins'] });
//   const token = idp.sign({ sub: 'u1' });                // RS256, current key
//   const forged = idp.sign({ sub: 'u1' }, { alg: 'HS256' }); // HMAC keyed with the RSA public PEM
//   ...
//   await idp.close();
//
// Serves discovery, the JWKS, an auto-approving /authorize (302 straight back
// to redirect_uri with a code) and /token (authorization code + PKCE S256).
// Starts with one RSA and one P-256 key; rotate() adds another and makes it
// current while the old ones stay in the JWKS. Every request's path is
// appended to `requests` (e.g. to count JWKS fetches).
import http from 'node:http';
import crypto from 'node:crypto';

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/**
 * opts: clientId ('asc-test'), clientSecret (null = public client),
 * redirectUris (null = any http(s) URL), lifetime (token seconds, 300),
 * user (the identity /authorize logs in), discovery (members merged into
 * the discovery document, e.g. { issuer: 'https://elsewhere' }).
 */
export async function startIdp(opts = {}) {
  const clientId = opts.clientId ?? 'asc-test';
  const clientSecret = opts.clientSecret ?? null;
  const lifetime = opts.lifetime ?? 300;
  let user = opts.user ?? { sub: 'user-1', email: 'alice@example.com', groups: ['admins'] };
  const keys = []; // { kid, alg, privateKey, publicKey }
  const current = {}; // alg -> key
  const codes = new Map(); // code -> { redirectUri, challenge, nonce, user }
  const requests = [];
  let seq = 0;

  function addKey(alg) {
    const { privateKey, publicKey } =
      alg === 'ES256'
        ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = { kid: `${alg.toLowerCase()}-${++seq}`, alg, privateKey, publicKey };
    keys.push(key);
    current[alg] = key;
    return key.kid;
  }
  addKey('RS256');
  addKey('ES256');

  const server = http.createServer((req, res) => {
    const u = new URL(req.url, issuer);
    requests.push(u.pathname);
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        route(req, res, u, body);
      } catch (e) {
        json(res, 500, { error: 'server_error', error_description: String(e) });
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${server.address().port}`;

  function json(res, status, obj, headers = {}) {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(obj));
  }
  const oauthError = (res, status, error, description) =>
    json(res, status, { error, error_description: description });

  function validRedirect(uri) {
    if (opts.redirectUris) return opts.redirectUris.includes(uri);
    try {
      return ['http:', 'https:'].includes(new URL(uri).protocol);
    } catch {
      return false;
    }
  }

  function route(req, res, u, body) {
    const q = u.searchParams;
    if (req.method === 'GET' && u.pathname === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256', 'ES256'],
        code_challenge_methods_supported: ['S256'],
        ...opts.discovery,
      });
    }
    if (req.method === 'GET' && u.pathname === '/jwks') {
      const jwks = keys.map((k) => ({ ...k.publicKey.export({ format: 'jwk' }), kid: k.kid, alg: k.alg, use: 'sig' }));
      return json(res, 200, { keys: jwks });
    }
    if (req.method === 'GET' && u.pathname === '/authorize') {
      if (q.get('client_id') !== clientId) return oauthError(res, 400, 'invalid_client', 'unknown client_id');
      const redirectUri = q.get('redirect_uri');
      if (!validRedirect(redirectUri)) return oauthError(res, 400, 'invalid_request', 'bad redirect_uri');
      if (q.get('response_type') !== 'code') return oauthError(res, 400, 'unsupported_response_type', 'code only');
      if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge'))
        return oauthError(res, 400, 'invalid_request', 'PKCE S256 required');
      const code = b64url(crypto.randomBytes(24));
      codes.set(code, { redirectUri, challenge: q.get('code_challenge'), nonce: q.get('nonce'), user: { ...user } });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      if (q.has('state')) back.searchParams.set('state', q.get('state'));
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (req.method === 'POST' && u.pathname === '/token') {
      const f = new URLSearchParams(body);
      let [id, secret] = [f.get('client_id'), f.get('client_secret')];
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
      if (basic) [id, secret] = Buffer.from(basic[1], 'base64').toString().split(':').map(decodeURIComponent);
      if (id !== clientId || (clientSecret !== null && secret !== clientSecret))
        return oauthError(res, 401, 'invalid_client', 'bad client credentials');
      if (f.get('grant_type') !== 'authorization_code')
        return oauthError(res, 400, 'unsupported_grant_type', 'authorization_code only');
      const grant = codes.get(f.get('code'));
      codes.delete(f.get('code')); // single use, even when the rest is wrong
      if (!grant) return oauthError(res, 400, 'invalid_grant', 'unknown or used code');
      if (f.get('redirect_uri') !== grant.redirectUri) return oauthError(res, 400, 'invalid_grant', 'redirect_uri mismatch');
      const verifier = f.get('code_verifier') ?? '';
      if (b64url(crypto.createHash('sha256').update(verifier).digest()) !== grant.challenge)
        return oauthError(res, 400, 'invalid_grant', 'PKCE verification failed');
      const claims = { ...grant.user };
      if (grant.nonce !== null) claims.nonce = grant.nonce;
      return json(res, 200, {
        id_token: sign(claims),
        access_token: b64url(crypto.randomBytes(32)),
        token_type: 'Bearer',
        expires_in: lifetime,
      });
    }
    oauthError(res, 404, 'not_found', `no route for ${req.method} ${u.pathname}`);
  }

  /**
   * A compact JWS of `claims` (iss, aud, iat, exp filled unless present;
   * pass e.g. exp: undefined to leave one out). o.alg: 'RS256' (default),
   * 'ES256', 'HS256' (key = the HMAC secret; default the current RSA public
   * key's PEM, the classic HS/RS confusion) or 'none' (empty signature).
   * o.kid overrides the header kid (null = none); o.key signs instead of
   * the current key (a KeyObject); o.header adds or overrides header members.
   */
  function sign(claims = {}, o = {}) {
    const alg = o.alg ?? 'RS256';
    const t = now();
    const payload = { iss: issuer, aud: clientId, iat: t, exp: t + lifetime, ...claims };
    const signer = current[alg];
    const header = { alg, typ: 'JWT' };
    const kid = 'kid' in o ? o.kid : signer?.kid;
    if (kid !== null && kid !== undefined) header.kid = kid;
    Object.assign(header, o.header);
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    let sig = Buffer.alloc(0);
    if (alg === 'HS256') {
      const secret = o.key ?? current.RS256.publicKey.export({ type: 'spki', format: 'pem' });
      sig = crypto.createHmac('sha256', secret).update(input).digest();
    } else if (alg === 'RS256' || alg === 'ES256') {
      sig = crypto.sign('sha256', Buffer.from(input), {
        key: o.key ?? signer.privateKey,
        dsaEncoding: 'ieee-p1363', // JWS ES256 is raw r||s
      });
    } else if (alg !== 'none') {
      throw new Error(`idp.sign: unsupported alg ${alg}`);
    }
    return `${input}.${b64url(sig)}`;
  }

  return {
    url: issuer,
    issuer,
    clientId,
    sign,
    /** Add a new signing key (new kid) for alg and make it current; old keys stay published. */
    rotate: (alg = 'RS256') => addKey(alg),
    /** The identity the next /authorize logs in (sub, email, groups, ...). */
    setUser(claims) {
      user = { ...claims };
    },
    requests,
    /** A key pair the IdP does not publish (to forge tokens with). */
    foreignKey: (alg = 'RS256') =>
      (alg === 'ES256'
        ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
      ).privateKey,
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

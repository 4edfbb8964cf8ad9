#!/usr/bin/env node
// A real OpenID Provider for tests and `make demo`: oidc-provider (OpenID Certified), pinned in
// package.json / package-lock.json, listening on 127.0.0.1 only.
//
//   node tests/idp/provider.js --port N [--issuer URL] [--alg RS256|ES256]
//        [--clients clients.json] [--redirect-uri URI]... [--post-logout-redirect-uri URI]...
//        [--always-refresh] [--keys keys.json] [--backchannel-logout-uri URI]
//
// Without --clients two confidential clients are registered:
//   authflow-basic / authflow-basic-secret-0123456789abcdef   (client_secret_basic)
//   authflow-post  / authflow-post-secret-0123456789abcdefgh  (client_secret_post)
// with the redirect URIs given by --redirect-uri (default http://127.0.0.1:8080/auth/callback).
// A clients file is a JSON array of oidc-provider client metadata objects; missing fields get
// the defaults above (response_types code, grant_types authorization_code + refresh_token, the
// id_token alg from --alg).
//
// Demo users (dev interactions: the login form accepts any username, any password):
//   alice  alice@example.com  verified  groups [ops, dev]
//   bob    bob@example.com    unverified groups [dev]
//   anyone else: sub = the username, no email, groups []
// PKCE (S256) is required for every client.  Refresh tokens: with offline_access (and
// prompt=consent) as usual, or always with --always-refresh.
// Prints one line "READY {json}" on stdout when listening; SIGTERM/SIGINT stop it.

import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

function parseArgs(argv) {
  const o = { port: 0, issuer: null, alg: 'RS256', clients: null, redirectUris: [],
              postLogout: [], alwaysRefresh: false, keys: null };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '--port': o.port = Number.parseInt(next(), 10); break;
      case '--issuer': o.issuer = next(); break;
      case '--alg': o.alg = next(); break;
      case '--clients': o.clients = next(); break;
      case '--redirect-uri': o.redirectUris.push(next()); break;
      case '--post-logout-redirect-uri': o.postLogout.push(next()); break;
      case '--always-refresh': o.alwaysRefresh = true; break;
      case '--keys': o.keys = next(); break;
      case '--backchannel-logout-uri': o.backchannel = next(); break;
      case '-h': case '--help':
        process.stdout.write(readFileSync(new URL(import.meta.url)).toString()
          .split('\n').filter((l) => l.startsWith('//')).join('\n') + '\n');
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (!Number.isInteger(o.port) || o.port <= 0 || o.port > 65535) throw new Error('--port N is required');
  if (!['RS256', 'ES256'].includes(o.alg)) throw new Error('--alg must be RS256 or ES256');
  if (!o.issuer) o.issuer = `http://127.0.0.1:${o.port}`;
  if (o.redirectUris.length === 0) o.redirectUris.push('http://127.0.0.1:8080/auth/callback');
  return o;
}

function signingKey(alg) {
  const kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`;
  const { privateKey } = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

const USERS = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice Example',
           given_name: 'Alice', family_name: 'Example', groups: ['ops', 'dev'] },
  bob: { email: 'bob@example.com', email_verified: false, name: 'Bob Example',
         given_name: 'Bob', family_name: 'Example', groups: ['dev'] },
};

function account(id) {
  const u = USERS[id] || { groups: [] };
  return {
    accountId: id,
    async claims() {
      return { sub: id, preferred_username: id, ...u };
    },
  };
}

function clientDefaults(c, o) {
  return {
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    redirect_uris: o.redirectUris,
    post_logout_redirect_uris: o.postLogout,
    id_token_signed_response_alg: o.alg,
    // OpenID Connect Back-Channel Logout: logout tokens (with sid) to this URI when the
    // session ends at the IdP
    ...(o.backchannel ? { backchannel_logout_uri: o.backchannel,
                          backchannel_logout_session_required: true } : {}),
    ...c,
  };
}

function loadClients(o) {
  if (o.clients) {
    const list = JSON.parse(readFileSync(o.clients, 'utf8'));
    if (!Array.isArray(list)) throw new Error('--clients: a JSON array of client metadata');
    return list.map((c) => clientDefaults(c, o));
  }
  return [
    clientDefaults({ client_id: 'authflow-basic',
                     client_secret: 'authflow-basic-secret-0123456789abcdef',
                     token_endpoint_auth_method: 'client_secret_basic' }, o),
    clientDefaults({ client_id: 'authflow-post',
                     client_secret: 'authflow-post-secret-0123456789abcdefgh',
                     token_endpoint_auth_method: 'client_secret_post' }, o),
  ];
}

function main() {
  const o = parseArgs(process.argv);
  const keys = o.keys ? JSON.parse(readFileSync(o.keys, 'utf8')).keys : [signingKey(o.alg)];

  const provider = new Provider(o.issuer, {
    clients: loadClients(o),
    jwks: { keys },
    findAccount: async (_ctx, id) => account(id),
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      groups: ['groups'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    conformIdTokenClaims: false, // scope claims in the id_token too (userinfo has them as well)
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
      userinfo: { enabled: true },
      revocation: { enabled: true },
    },
    issueRefreshToken: async (_ctx, client, code) => {
      if (!client.grantTypeAllowed('refresh_token')) return false;
      return o.alwaysRefresh || code.scopes.has('offline_access');
    },
    cookies: { keys: [randomUUID(), randomUUID()] },
    // outgoing requests (back-channel logout tokens) go to the RP under test on 127.0.0.1,
    // which oidc-provider's SSRF guard (a dispatcher refusing special-use addresses) would
    // refuse: a test IdP on loopback sends them with the default dispatcher, loopback only
    fetch: (url, options) => {
      if (new URL(url).hostname !== '127.0.0.1') throw new Error(`${url}: loopback only`);
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86400,
           Interaction: 600, Session: 3600, Grant: 3600 },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      ctx.body = `<!doctype html><title>IdP error</title><h1>${esc(out.error)}</h1>`
        + `<p>${esc(out.error_description || '')}</p>`;
    },
  });
  provider.proxy = false;
  provider.on('backchannel.error', (_ctx, err, client) => {
    process.stderr.write(`backchannel logout to ${client.clientId} failed: ${err.message}\n`);
  });

  const server = provider.listen(o.port, '127.0.0.1', () => {
    process.stdout.write(`READY ${JSON.stringify({ issuer: o.issuer, port: o.port, pid: process.pid,
      alg: o.alg, kid: keys[0].kid })}\n`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

try {
  main();
} catch (e) {
  process.stderr.write(`provider.js: ${e.message}\n`);
  process.exit(2);
}

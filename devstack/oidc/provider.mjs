// A real, standards-conformant OpenID provider on loopback, for tests and for
// local trying-out. It is panva's oidc-provider (OpenID-certified) with a tiny
// login page of its own and no consent screen.
//
//   OIDC_CONFIG='{"port": 12345, "issuer": "http://127.0.0.1:12345", ...}' \
//     node devstack/oidc/provider.mjs
//
// OIDC_CONFIG (JSON):
//   port          TCP port to listen on (127.0.0.1 unless "host" says otherwise)
//   issuer        Issuer Identifier, e.g. "http://127.0.0.1:12345" (plain http is fine)
//   clients       [{client_id, client_secret, redirect_uris, ...other client metadata}]
//                 confidential clients, authorization code flow, response_type code;
//                 client_secret_basic and client_secret_post are both accepted
//   users         [{sub, email, email_verified, given_name, family_name, name}]
//   jwks          {keys: [private RSA JWK with kid, alg RS256, use sig]}
//   id_token_ttl  ID Token lifetime in seconds (default 3600)
//   pkce_required optional; true makes PKCE (S256) mandatory for every client.
//                 Otherwise PKCE is accepted and verified when sent, and only
//                 required of public clients (the library's default policy).
//   host          optional bind address (default "127.0.0.1")
//
// Prints exactly one line "READY <issuer>" on stdout once listening; exits 0 on
// SIGTERM/SIGINT. The library's own advisory notices are dropped; its warnings
// and any unexpected error go to stderr as single lines. OIDC_VERBOSE=1 keeps
// every library message (DEBUG=oidc-provider:* adds the library's debug log).

import * as crypto from 'node:crypto';
import * as http from 'node:http';

const VERBOSE = Boolean(process.env.OIDC_VERBOSE);

// stdout carries nothing but the READY line: the library writes its notices with
// console.info, so every console method goes to stderr (or nowhere) from here on.
// This must happen before oidc-provider is imported (it warns at import time).
const toStderr = (...args) => {
  const line = args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ');
  if (!VERBOSE) {
    if (line.startsWith('oidc-provider NOTICE:')) return;
    if (line.includes('development-only in-memory adapter')) return; // by design here
  }
  process.stderr.write(`${line}\n`);
};
console.log = toStderr;
console.info = toStderr;
console.warn = toStderr;
console.error = toStderr;
console.debug = toStderr;

function fail(message) {
  process.stderr.write(`oidc devstack: ${message}\n`);
  process.exit(2);
}

let config;
try {
  config = JSON.parse(process.env.OIDC_CONFIG ?? '');
} catch (err) {
  fail(`OIDC_CONFIG must hold the provider's configuration as JSON (${err.message})`);
}

const {
  port,
  issuer,
  clients = [],
  users = [],
  jwks,
  id_token_ttl: idTokenTTL = 3600,
  pkce_required: pkceRequired = false,
  host = '127.0.0.1',
} = config;

if (!Number.isInteger(port) || port < 0 || port > 65535) fail('"port" must be an integer 0..65535');
if (typeof issuer !== 'string' || !issuer) fail('"issuer" must be a URL string');
if (!Array.isArray(clients)) fail('"clients" must be a list');
if (!Array.isArray(users)) fail('"users" must be a list');
if (!jwks || !Array.isArray(jwks.keys) || !jwks.keys.length) fail('"jwks" must be {"keys": [private JWK, ...]}');
if (!Number.isSafeInteger(idTokenTTL) || idTokenTTL <= 0) fail('"id_token_ttl" must be a positive integer');

const { default: Provider, errors } = await import('oidc-provider');

// ---------------------------------------------------------------- accounts ---

const CLAIM_NAMES = ['sub', 'email', 'email_verified', 'name', 'given_name', 'family_name'];
const AUTO_SCOPE = 'openid email profile';

const usersBySub = new Map();
for (const user of users) {
  if (typeof user?.sub !== 'string' || !user.sub) fail('every user needs a non-empty string "sub"');
  usersBySub.set(user.sub, user);
}

function findUserByEmail(login) {
  const wanted = String(login ?? '').trim().toLowerCase();
  if (!wanted) return undefined;
  return users.find((u) => typeof u.email === 'string' && u.email.toLowerCase() === wanted);
}

async function findAccount(ctx, sub) {
  const user = usersBySub.get(sub);
  if (!user) return undefined;
  return {
    accountId: sub,
    // the library masks these by the granted scopes and the "claims" map below
    async claims() {
      const out = {};
      for (const name of CLAIM_NAMES) {
        if (user[name] !== undefined && user[name] !== null) out[name] = user[name];
      }
      out.sub = sub;
      return out;
    },
  };
}

// ----------------------------------------------------------------- grants ---

// Consent is never asked: every signed-in user grants openid/email/profile to
// every client. loadExistingGrant runs after login on each authorization, so the
// consent prompt never finds anything missing.
async function autoGrant(accountId, clientId, grantId) {
  const { Grant } = provider;
  let grant = grantId ? await Grant.find(grantId) : undefined;
  if (grant && (grant.accountId !== accountId || grant.clientId !== clientId)) grant = undefined;
  grant ??= new Grant({ accountId, clientId });
  grant.addOIDCScope(AUTO_SCOPE);
  grant.addOIDCClaims(CLAIM_NAMES);
  await grant.save();
  return grant;
}

async function loadExistingGrant(ctx) {
  const clientId = ctx.oidc.client.clientId;
  const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(clientId);
  return autoGrant(ctx.oidc.session.accountId, clientId, grantId);
}

// --------------------------------------------------------------- provider ---

let provider;
try {
  provider = new Provider(issuer, {
    clients: clients.map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic', // client_secret_post is accepted too
      ...client,
    })),
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    jwks,
    findAccount,
    loadExistingGrant,
    scopes: ['openid'], // plus email and profile, taken from the claims map
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    // Put scope-requested claims (email, name, ...) into the ID Token too, not only
    // into the UserInfo response (the OIDC Core default for response_type=code).
    conformIdTokenClaims: false,
    pkce: {
      required(ctx, client) {
        return Boolean(pkceRequired) || client.clientAuthMethod === 'none';
      },
    },
    features: {
      devInteractions: { enabled: false }, // our own login page below
    },
    interactions: {
      url(ctx, interaction) {
        return `/interaction/${interaction.uid}`;
      },
    },
    // Cookies are "secure" only when the request is (ctx.secure), so they work over
    // plain http on 127.0.0.1; signed with a per-process key.
    cookies: {
      keys: [crypto.randomBytes(32).toString('base64url')],
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      Grant: 14 * 24 * 3600,
      IdToken: idTokenTTL,
      Interaction: 3600,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = page('Error', `<h1>Error</h1>\n<p>${esc(out.error)}: ${esc(out.error_description ?? '')}</p>`);
    },
  });
} catch (err) {
  fail(`invalid configuration: ${err.message}`);
}

const logError = (err, ctx) => {
  const where = ctx ? ` (${ctx.method} ${ctx.path})` : '';
  process.stderr.write(`oidc devstack: ${err?.name ?? 'Error'}: ${err?.message ?? err}${where}\n`);
};
provider.on('server_error', (ctx, err) => logError(err, ctx));
// Any listener on "error" replaces Koa's default, which prints whole stack traces.
provider.on('error', (err, ctx) => {
  if (err?.expose || (err?.status && err.status < 500)) return;
  logError(err, ctx);
});

// ------------------------------------------------------------ login pages ---

function esc(value) {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
</head>
<body>
${body}
</body>
</html>
`;
}

function loginPage(uid, clientName, error) {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return page('Sign in', `<h1>Sign in</h1>
<p>to continue to ${esc(clientName)}</p>
${error ? `<p role="alert">${esc(error)}</p>\n` : ''}<form method="post" action="${esc(action)}">
<label>Email <input name="login" type="email"></label>
<label>Password <input name="password" type="password"></label>
<button type="submit">Sign in</button>
</form>`);
}

const MAX_BODY = 64 * 1024;

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) {
      const err = new Error('request body too large');
      err.status = 413;
      throw err;
    }
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function finishConsent(ctx, details) {
  const grant = await autoGrant(details.session?.accountId, details.params.client_id, details.grantId);
  const consent = details.grantId ? {} : { grantId: grant.jti };
  await finish(ctx, { consent }, true);
}

// like provider.interactionFinished, but answered through koa
async function finish(ctx, result, mergeWithLastSubmission) {
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

const INTERACTION_PATH = /^\/interaction\/([^/]+)$/;

provider.use(async (ctx, next) => {
  const match = INTERACTION_PATH.exec(ctx.path);
  if (!match) return next();

  ctx.set('cache-control', 'no-store');
  if (ctx.method !== 'GET' && ctx.method !== 'POST') {
    ctx.status = 405;
    ctx.set('allow', 'GET, POST');
    return undefined;
  }

  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    if (!(err instanceof errors.SessionNotFound)) throw err;
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = page('Sign-in expired', `<h1>Sign-in expired</h1>
<p>This sign-in request is unknown or has expired (or cookies were not sent). Start again from the application.</p>`);
    return undefined;
  }
  if (details.uid !== decodeURIComponent(match[1])) {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = page('Sign-in mismatch', '<h1>Sign-in mismatch</h1>\n<p>This page does not belong to the current sign-in request.</p>');
    return undefined;
  }

  const { prompt, params } = details;

  if (prompt.name === 'consent') {
    // never ask: grant and carry on (reached only when e.g. prompt=consent was requested)
    if (ctx.method === 'POST') await readForm(ctx.req);
    await finishConsent(ctx, details);
    return undefined;
  }

  if (prompt.name !== 'login') {
    ctx.status = 400;
    ctx.type = 'html';
    ctx.body = page('Unsupported', `<h1>Unsupported interaction</h1>\n<p>${esc(prompt.name)}</p>`);
    return undefined;
  }

  const client = await provider.Client.find(params.client_id);
  const clientName = client?.clientName || params.client_id;

  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, clientName);
    return undefined;
  }

  const form = await readForm(ctx.req);
  const user = findUserByEmail(form.get('login'));
  if (!user) {
    ctx.status = 200;
    ctx.type = 'html';
    ctx.body = loginPage(details.uid, clientName, 'No such user');
    return undefined;
  }

  await finish(ctx, { login: { accountId: user.sub, amr: ['pwd'], remember: false } }, false);
  return undefined;
});

// ----------------------------------------------------------------- server ---

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 5000;

server.on('error', (err) => {
  fail(`cannot listen on ${host}:${port}: ${err.code ?? ''} ${err.message}`);
});

server.listen(port, host, () => {
  process.stdout.write(`READY ${issuer}\n`);
});

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);

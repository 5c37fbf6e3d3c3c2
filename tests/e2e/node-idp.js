// A small Node IdP for fedrp's end-to-end tests: auth0's `wsfed` (WS-Federation, SAML 1.1 tokens;
// SAML 2.0 tokens from the same auth0 `saml` library wsfed uses) and `samlp` (SAML-P) middleware
// behind a login form. TEST ONLY. Everything it signs is signed by those packages' own code.
//
// Usage: node node-idp.js CONFIG.json   (CONFIG is written by tests/e2e.rs)
// It listens on 127.0.0.1:<config.port> (0 = any free port) and prints `LISTENING <port>` once
// it accepts connections. Routes, for each tenant T (an IdP entity with its own users):
//   GET  /T/wsfed?wa=wsignin1.0&wtrealm=..&wreply=..&wctx=..   sign-in (login form first)
//   GET  /T/wsfed?wa=wsignout1.0[&wreply=..]                  sign-out (ends the IdP session)
//   GET  /T/samlp?SAMLRequest=..&RelayState=..                  SAML-P sign-in (HTTP-Redirect)
//   POST /T/login                                               the login form's target
//   GET  /T/logout                     IdP-initiated sign-out (wsignoutcleanup1.0 to the RPs)
//   GET  /healthz
// How a token is made depends on the relying party (as an ADFS relying-party trust does): the
// realm's entry in config.realms chooses the token type and the signature algorithm.
'use strict';

const fs = require('fs');
const http = require('http');
const querystring = require('querystring');
const wsfed = require('wsfed');
const samlp = require('samlp');
const path = require('path');
// The `saml` library version wsfed itself depends on (samlp brings a newer one).
const saml = require(require.resolve('saml', { paths: [path.dirname(require.resolve('wsfed'))] }));
const wsfedTemplates = require('wsfed/lib/templates');

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
// Each tenant (IdP entity) signs with its own key.
for (const t of config.tenants) {
  t.keyPem = fs.readFileSync(t.key);
  t.certPem = fs.readFileSync(t.cert);
}

// The IdP's session cookie. An IdP that lets itself be framed (config.framed) needs a
// cross-site cookie there: SameSite=None; Secure; Partitioned (Chromium treats
// http://127.0.0.1 as a secure context, so Secure cookies work over plain HTTP).
const COOKIE_ATTRS = config.framed ? 'HttpOnly; SameSite=None; Secure; Partitioned' : 'HttpOnly; SameSite=Lax';

const ALGS = {
  sha256: { signatureAlgorithm: 'rsa-sha256', digestAlgorithm: 'sha256' },
  sha1: { signatureAlgorithm: 'rsa-sha1', digestAlgorithm: 'sha1' },
};

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

// Minimal express-like request/response helpers the auth0 middleware expects.
function decorate(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  req.path = url.pathname;
  req.query = Object.fromEntries(url.searchParams);
  req.cookies = querystring.parse(req.headers.cookie || '', '; ');
  res.set = (k, v) => res.setHeader(k, v);
  res.send = (a, b) => {
    let status = 200;
    let body = a;
    if (typeof a === 'number') { status = a; body = b === undefined ? http.STATUS_CODES[a] : b; }
    if (!res.getHeader('Content-Type')) res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.statusCode = status;
    res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  };
}

function fail(res, status, message) {
  console.error(`node-idp: ${status} ${message}`);
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(message);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { data += c; if (data.length > 1e6) reject(new Error('body too large')); });
    req.on('end', () => resolve(querystring.parse(data)));
    req.on('error', reject);
  });
}

// Reply / ACS URLs must be on the relying party's origin (an IdP only posts to registered RPs).
function allowedReply(url) {
  return typeof url === 'string' && config.rp_origins.some((o) => url === o || url.startsWith(o + '/'));
}

function realmSettings(realm) {
  const r = config.realms[realm];
  if (!r) return null;
  return Object.assign({ token: 'saml11', alg: 'sha256', samlp_sign: 'assertion' }, r);
}

function sessionUser(req, tenant) {
  const login = req.cookies[`nodeidp_${tenant.name}`];
  return login ? tenant.users.find((u) => u.login === login) : undefined;
}

// The profile mapper: the user's configured claims, verbatim.
function profileMapper(user) {
  return {
    getClaims: () => user.claims,
    getNameIdentifier: () => ({ nameIdentifier: user.name_id, nameIdentifierFormat: user.name_id_format }),
  };
}
profileMapper.prototype.metadata = [];

function loginPage(res, tenant, returnTo, message) {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${escapeHtml(tenant.display_name)} sign-in</title></head>
<body><h1>${escapeHtml(tenant.display_name)}</h1>
${message ? `<p id="error">${escapeHtml(message)}</p>` : ''}
<form id="login" method="post" action="/${tenant.name}/login">
<input type="hidden" name="return" value="${escapeHtml(returnTo)}">
<label>User name <input id="username" name="username" autocomplete="off"></label>
<label>Password <input id="password" name="password" type="password"></label>
<button id="submit" type="submit">Sign in</button>
</form></body></html>`);
}

function wsfedSignIn(req, res, tenant, user) {
  const realm = req.query.wtrealm;
  const settings = realmSettings(realm);
  if (!settings) return fail(res, 400, `unknown realm ${realm}`);
  const alg = ALGS[settings.alg];
  const common = {
    issuer: tenant.entity_id,
    cert: tenant.certPem,
    key: tenant.keyPem,
    signatureAlgorithm: alg.signatureAlgorithm,
    digestAlgorithm: alg.digestAlgorithm,
    getUserFromRequest: () => user,
    profileMapper,
    lifetimeInSeconds: 3600,
    getPostURL: (wtrealm, wreply, _req, cb) => (allowedReply(wreply) ? cb(null, wreply) : cb(new Error(`wreply not allowed: ${wreply}`))),
  };
  const next = (err) => fail(res, 500, String(err && err.stack ? err.stack : err));
  if (settings.token === 'saml11') {
    // The saml library wsfed uses (1.0.x) stamps AuthenticationInstant with IssueInstant +
    // lifetime (moment's add() mutates `now`). A realm may set a lifetime within the relying
    // party's clock skew (`wsfed_lifetime`); without one wsfed's default (8 h) applies.
    const opts = Object.assign({}, common);
    if (settings.wsfed_lifetime) opts.lifetimeInSeconds = settings.wsfed_lifetime;
    else delete opts.lifetimeInSeconds;
    return wsfed.auth(opts)(req, res, next);
  }
  // SAML 2.0 in WS-Fed: the wsfed package only mints SAML 1.1, so the assertion comes from the
  // auth0 `saml` library (Saml20.create, the signer wsfed and samlp use) and is wrapped in the
  // same WS-Trust 2005/02 RSTR that wsfed writes, then posted with wsfed's own form template.
  const wreply = req.query.wreply;
  if (!allowedReply(wreply)) return fail(res, 400, `wreply not allowed: ${wreply}`);
  saml.Saml20.create({
    signatureAlgorithm: alg.signatureAlgorithm,
    digestAlgorithm: alg.digestAlgorithm,
    cert: tenant.certPem,
    key: tenant.keyPem,
    issuer: tenant.entity_id,
    lifetimeInSeconds: 3600,
    audiences: realm,
    attributes: user.claims,
    nameIdentifier: user.name_id,
    nameIdentifierFormat: user.name_id_format,
    // WS-Fed has no AuthnRequest: a bearer confirmation to the reply URL.
    recipient: wreply,
  }, (err, assertion) => {
    if (err) return next(err);
    const rstr = '<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust">'
      + '<t:RequestedSecurityToken>' + assertion + '</t:RequestedSecurityToken>'
      + '<t:TokenType>urn:oasis:names:tc:SAML:2.0:assertion</t:TokenType>'
      + '</t:RequestSecurityTokenResponse>';
    res.setHeader('Content-Type', 'text/html');
    res.end(wsfedTemplates.form({ callback: wreply, wctx: req.query.wctx || '', wresult: rstr }));
  });
  return undefined;
}

function samlpSignIn(req, res, tenant, user) {
  const next = (err) => fail(res, 500, String(err && err.stack ? err.stack : err));
  // Parse first to learn the SP (the AuthnRequest's Issuer) and its ACS.
  samlp.parseRequest(req, (err, request) => {
    if (err) return next(err);
    if (!request) return fail(res, 400, 'no SAMLRequest');
    const settings = realmSettings(request.issuer);
    if (!settings) return fail(res, 400, `unknown SP ${request.issuer}`);
    const acs = request.assertionConsumerServiceURL;
    if (!allowedReply(acs)) return fail(res, 400, `ACS not allowed: ${acs}`);
    const alg = ALGS[settings.alg];
    samlp.auth({
      issuer: tenant.samlp_entity_id,
      cert: tenant.certPem,
      key: tenant.keyPem,
      signatureAlgorithm: alg.signatureAlgorithm,
      digestAlgorithm: alg.digestAlgorithm,
      signResponse: settings.samlp_sign !== 'assertion',
      signAssertion: settings.samlp_sign !== 'response',
      getUserFromRequest: () => user,
      profileMapper,
      lifetimeInSeconds: 3600,
      recipient: acs,
      destination: acs,
      getPostURL: (_audience, _dom, _req, cb) => cb(null, acs),
    })(req, res, next);
  });
}

async function handle(req, res) {
  decorate(req, res);
  if (req.path === '/healthz') return res.send('ok');
  // A page of another site that frames a URL (the SharePoint page hosting an add-in part). It
  // also frames /probe3p, whose unpartitioned third-party cookie tells whether the browser
  // accepts third-party cookies at all.
  if (req.path === '/host') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    return res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Host page</title></head>
<body style="font-family:sans-serif"><h1>Host page (${escapeHtml(req.headers.host || '')})</h1>
<iframe id="app" src="${escapeHtml(req.query.src || 'about:blank')}" width="900" height="420" style="border:2px solid #36c"></iframe>
<iframe id="probe3p" src="${escapeHtml(req.query.probe || 'about:blank')}" width="300" height="40"></iframe>
</body></html>`);
  }
  if (req.path === '/probe3p') {
    res.setHeader('Set-Cookie', ['e2e_3p_probe=1; Path=/; SameSite=None; Secure',
      'e2e_chips_probe=1; Path=/; SameSite=None; Secure; Partitioned']);
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    return res.end('<!DOCTYPE html><p id="probe">third-party cookie probe</p>');
  }
  const m = /^\/([a-z0-9-]+)\/(wsfed|samlp|login|logout)$/.exec(req.path);
  const tenant = m && config.tenants.find((t) => t.name === m[1]);
  if (!tenant) return fail(res, 404, `no route ${req.method} ${req.path}`);
  const route = m[2];

  if (route === 'login' && req.method === 'POST') {
    const form = await readBody(req);
    const user = tenant.users.find((u) => u.login === form.username && u.password === form.password);
    const back = typeof form.return === 'string' && form.return.startsWith(`/${tenant.name}/`) ? form.return : `/${tenant.name}/wsfed`;
    if (!user) return loginPage(res, tenant, back, 'Wrong user name or password');
    res.statusCode = 303;
    res.setHeader('Set-Cookie', `nodeidp_${tenant.name}=${encodeURIComponent(user.login)}; Path=/${tenant.name}/; ${COOKIE_ATTRS}`);
    res.setHeader('Location', back);
    return res.end();
  }
  if (req.method !== 'GET') return fail(res, 405, 'method not allowed');

  // IdP-initiated sign-out, as ADFS does it: end the IdP session and load every relying
  // party's wsignoutcleanup1.0 URL as an image; `#signed-out` appears once all have answered.
  if (route === 'logout') {
    res.setHeader('Set-Cookie', `nodeidp_${tenant.name}=; Path=/${tenant.name}/; Max-Age=0; ${COOKIE_ATTRS}`);
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    const imgs = (config.rp_cleanup_urls || []).map((u) => `<img class="cleanup" alt="" width="1" height="1" src="${escapeHtml(u)}">`).join('');
    return res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signing out</title></head><body>
<h1>${escapeHtml(tenant.display_name)}</h1><p id="status">Signing out of the applications…</p>${imgs}
<script>
const imgs = Array.from(document.querySelectorAll('img.cleanup'));
let left = imgs.length;
function done() { document.getElementById('status').outerHTML = '<p id="signed-out">Signed out of ' + imgs.length + ' application(s)</p>'; }
function one(ok) { return () => { if (!ok) document.body.insertAdjacentHTML('beforeend', '<p class="cleanup-failed">cleanup failed</p>'); if (--left === 0) done(); }; }
if (left === 0) done();
imgs.forEach((i) => { if (i.complete) { one(i.naturalWidth > 0)(); } else { i.onload = one(true); i.onerror = one(false); } });
</script></body></html>`);
  }

  if (route === 'wsfed' && req.query.wa === 'wsignout1.0') {
    res.setHeader('Set-Cookie', `nodeidp_${tenant.name}=; Path=/${tenant.name}/; Max-Age=0; ${COOKIE_ATTRS}`);
    if (allowedReply(req.query.wreply)) {
      res.statusCode = 302;
      res.setHeader('Location', req.query.wreply);
      return res.end();
    }
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    return res.end('<!DOCTYPE html><html><body><h1 id="signed-out">Signed out</h1></body></html>');
  }
  if (route === 'wsfed' && req.query.wa !== 'wsignin1.0') return fail(res, 400, `unsupported wa=${req.query.wa}`);

  const user = sessionUser(req, tenant);
  if (!user) return loginPage(res, tenant, req.url, null);
  return route === 'wsfed' ? wsfedSignIn(req, res, tenant, user) : samlpSignIn(req, res, tenant, user);
}

const onRequest = (req, res) => {
  handle(req, res).catch((err) => fail(res, 500, String(err && err.stack ? err.stack : err)));
};
const server = http.createServer(onRequest);
// With config.host_tls, the same routes over HTTPS too (host pages must be https:// origins
// to be allowed to frame fedrp).
const tlsServer = config.host_tls
  ? require('https').createServer({ key: fs.readFileSync(config.host_tls.key), cert: fs.readFileSync(config.host_tls.cert) }, onRequest)
  : null;
server.listen(config.port || 0, '127.0.0.1', () => {
  if (!tlsServer) return process.stdout.write(`LISTENING ${server.address().port}\n`);
  tlsServer.listen(0, '127.0.0.1', () => {
    process.stdout.write(`LISTENING ${server.address().port} ${tlsServer.address().port}\n`);
  });
});
// Stop promptly when the test harness ends us or closes our stdin.
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();

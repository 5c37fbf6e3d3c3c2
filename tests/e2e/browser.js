// Headless Chromium driver of fedrp's end-to-end tests (playwright-core, the system Chromium).
//
// Usage: node browser.js PLAN.json      (PLAN is written by tests/e2e.rs)
// A plan is a list of steps run in order; each step's observations are written as one JSON
// report to stdout: {"steps":[{op, ok, ...}], "error": null | "..."}. The first failing step
// stops the plan (its record says why, with a screenshot of that moment). Assertions live in
// the Rust test; this script only drives the browser and reports what it saw. Every wait is a
// condition with a time limit (URL, DOM, network), never a fixed sleep.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const plan = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const TIMEOUT = plan.timeout_ms || 30000;
const MAX_NAVIGATIONS = plan.max_navigations || 12;

// The flags the project runs Chromium with (playwright adds --headless, --no-sandbox through
// chromiumSandbox: false, and a fresh temporary --user-data-dir per launch).
const FLAGS = [
  '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

function formFields(postData) {
  const out = {};
  for (const [k, v] of new URLSearchParams(postData || '')) out[k] = v;
  return out;
}

async function main() {
  const args = FLAGS.concat(plan.extra_args || []);
  const launch = {
    executablePath: plan.chromium || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false,
    args,
    timeout: TIMEOUT,
  };
  const contextOptions = {
    ignoreHTTPSErrors: !!plan.ignore_https_errors,
    viewport: { width: 1000, height: 700 },
  };
  // Contexts made with newContext() are off-the-record profiles, which block third-party
  // cookies by default (as Incognito windows do). A plan that needs a regular profile (the
  // third-party cookie settings a user has) runs in one persistent context on the fresh
  // user-data-dir it names.
  let browser = null;
  let persistent = null;
  if (plan.user_data_dir) {
    // The profile's settings, as a user would have chosen them (e.g. the third-party cookie
    // setting: profile.cookie_controls_mode 0 = allow, 1 = block).
    if (plan.preferences) {
      fs.mkdirSync(path.join(plan.user_data_dir, 'Default'), { recursive: true });
      fs.writeFileSync(path.join(plan.user_data_dir, 'Default', 'Preferences'), JSON.stringify(plan.preferences));
    }
    persistent = await chromium.launchPersistentContext(plan.user_data_dir, Object.assign({}, launch, contextOptions));
  } else {
    browser = await chromium.launch(launch);
  }
  const contexts = new Map(); // name -> {context, page, nav, posts}
  const records = [];
  let error = null;

  async function getCtx(name) {
    if (contexts.has(name)) return contexts.get(name);
    if (persistent && contexts.size > 0) throw new Error('a persistent-profile plan has one context');
    const context = persistent || await browser.newContext(contextOptions);
    context.setDefaultTimeout(TIMEOUT);
    context.setDefaultNavigationTimeout(TIMEOUT);
    const state = { context, page: null, nav: [], posts: [], popups: [] };
    const postOf = new Map();
    const navOf = new Map();
    // Capture mode: no relying party listens; the token POST is recorded and answered here.
    for (const pattern of plan.capture_urls || []) {
      await context.route(pattern, (route) => route.fulfill({
        status: 200, contentType: 'text/html', body: '<!DOCTYPE html><h1 id="captured">captured</h1>',
      }));
    }
    context.on('request', (req) => {
      if (req.isNavigationRequest()) {
        let where = 'popup';
        try {
          where = req.frame() === state.page?.mainFrame() ? 'main' : 'sub';
        } catch (_) { /* a pop-up's first navigation has no frame yet */ }
        const n = { method: req.method(), url: req.url(), frame: where };
        state.nav.push(n);
        navOf.set(req, n);
      }
      if (req.method() === 'POST' && (plan.record_posts || []).some((p) => req.url().includes(p))) {
        const rec = { url: req.url(), fields: formFields(req.postData()) };
        state.posts.push(rec);
        postOf.set(req, rec);
      }
    });
    // The relying party's answer to a recorded POST: status, redirect, reason header, cookies.
    context.on('response', async (resp) => {
      const n = navOf.get(resp.request());
      if (n) {
        n.status = resp.status();
        const h = await resp.allHeaders().catch(() => ({}));
        n.csp = h['content-security-policy'] || null;
        n.xfo = h['x-frame-options'] || null;
      }
      const rec = postOf.get(resp.request());
      if (!rec) return;
      rec.status = resp.status();
      const h = await resp.allHeaders().catch(() => ({}));
      rec.location = h.location || null;
      rec.reason = h['x-fedrp-reason'] || null;
      rec.set_cookie = (await resp.headersArray().catch(() => []))
        .filter((x) => x.name.toLowerCase() === 'set-cookie').map((x) => x.value);
    });
    context.on('page', (p) => { if (state.page && p !== state.page) state.popups.push(p); });
    state.page = persistent ? (context.pages()[0] || await context.newPage()) : await context.newPage();
    contexts.set(name, state);
    return state;
  }

  function target(state, step) {
    if (step.popup) return state.popups[state.popups.length - 1];
    if (step.frame) return state.page.frameLocator(step.frame);
    return state.page;
  }

  function urlMatcher(step) {
    return (u) => {
      const s = u.toString();
      if (step.wait_url_prefix && !s.startsWith(step.wait_url_prefix)) return false;
      if (step.wait_url_not_prefix && s.startsWith(step.wait_url_not_prefix)) return false;
      return true;
    };
  }

  async function loginOn(where, step) {
    // Fill and submit the IdP's own login page.
    if (step.form === 'node' || step.form === 'ssp') {
      await where.locator('#username').fill(step.user);
      await where.locator('#password').fill(step.password);
      await where.locator(step.form === 'node' ? '#submit' : '#submit_button').click();
    } else if (step.form === 'dev') {
      await where.locator(`input[name="user"][value="${step.user}"]`).check();
      if (step.saml) await where.locator(`input[name="saml"][value="${step.saml}"]`).check();
      await where.locator('button[type="submit"]').click();
    } else {
      throw new Error(`unknown login form ${step.form}`);
    }
  }

  const ops = {
    async goto(state, step) {
      const navBefore = state.nav.length;
      const resp = await state.page.goto(step.url, { waitUntil: 'load' });
      if (step.wait_url_prefix || step.wait_url_not_prefix) await state.page.waitForURL(urlMatcher(step));
      if (step.wait_selector) await state.page.locator(step.wait_selector).first().waitFor();
      return { status: resp ? resp.status() : null, headers: resp ? await resp.allHeaders() : {}, url: state.page.url(), navigations: state.nav.slice(navBefore) };
    },
    // Log in on the IdP page now shown (top level, in a frame, or in the pop-up), then wait for
    // the browser to land where the step says.
    async login(state, step) {
      const navBefore = state.nav.length;
      const postsBefore = state.posts.length;
      if (step.popup) {
        const p = state.popups[state.popups.length - 1];
        if (!p) throw new Error('no pop-up window is open');
        await p.waitForLoadState('load');
        await loginOn(p, step);
        if (step.wait_popup_closed) await p.waitForEvent('close');
      } else {
        await loginOn(target(state, step), step);
      }
      if (step.wait_url_prefix || step.wait_url_not_prefix) {
        await state.page.waitForURL(urlMatcher(step), { waitUntil: 'load' });
      }
      if (step.wait_post) {
        // The relying party has answered a POST (e.g. the frame's hand-off) and that frame's
        // next document has loaded.
        if (!state.posts.some((p) => p.url.includes(step.wait_post) && p.status)) {
          await state.context.waitForEvent('response', (r) => r.request().method() === 'POST' && r.url().includes(step.wait_post));
        }
        if (step.wait_in_frame) {
          const el = await state.page.locator(step.wait_in_frame).elementHandle();
          await (await el.contentFrame()).waitForLoadState('load');
        }
      }
      if (step.wait_selector) {
        const where = step.wait_in_frame ? state.page.frameLocator(step.wait_in_frame) : state.page;
        await where.locator(step.wait_selector).first().waitFor();
      }
      const navigations = state.nav.slice(navBefore);
      if (navigations.length > MAX_NAVIGATIONS) throw new Error(`redirect loop: ${navigations.length} navigations`);
      return { url: state.page.url(), navigations, posts: state.posts.slice(postsBefore) };
    },
    async click(state, step) {
      const navBefore = state.nav.length;
      const where = target(state, step);
      if (step.expect_popup) {
        const [popup] = await Promise.all([state.context.waitForEvent('page'), where.locator(step.selector).first().click()]);
        await popup.waitForLoadState('load');
        if (step.popup_wait_selector) await popup.locator(step.popup_wait_selector).first().waitFor();
        return { popup_url: popup.url() };
      }
      await where.locator(step.selector).first().click();
      if (step.wait_url_prefix || step.wait_url_not_prefix) await state.page.waitForURL(urlMatcher(step), { waitUntil: 'load' });
      if (step.wait_selector) {
        const w = step.wait_in_frame ? state.page.frameLocator(step.wait_in_frame) : state.page;
        await w.locator(step.wait_selector).first().waitFor();
      }
      return { url: state.page.url(), navigations: state.nav.slice(navBefore) };
    },
    // Wait for an element (top level or in a frame) and report its text.
    async wait(state, step) {
      const where = target(state, step);
      const loc = where.locator(step.selector).first();
      await loc.waitFor({ state: step.state || 'visible' });
      return { text: step.state === 'attached' ? null : await loc.innerText() };
    },
    // A GET with the context's cookies, as a top-level navigation: status and body.
    async fetch(state, step) {
      const resp = await state.page.goto(step.url, { waitUntil: 'load' });
      const body = resp ? await resp.text() : '';
      let json = null;
      try { json = JSON.parse(body); } catch (_) { /* not JSON */ }
      return { status: resp ? resp.status() : null, url: state.page.url(), headers: resp ? await resp.allHeaders() : {}, json, body: json ? undefined : body.slice(0, 2000) };
    },
    // The same GET from inside a frame (its own, possibly partitioned, cookie jar).
    async frame_fetch(state, step) {
      const frame = state.page.frames().find((f) => f.url().startsWith(step.frame_origin));
      if (!frame) throw new Error(`no frame from ${step.frame_origin}`);
      return frame.evaluate(async (u) => {
        const r = await fetch(u, { credentials: 'include' });
        const t = await r.text();
        let json = null;
        try { json = JSON.parse(t); } catch (_) { /* not JSON */ }
        return { status: r.status, json, body: json ? undefined : t.slice(0, 2000) };
      }, step.url);
    },
    // How many elements match (top level or in a frame), and the text of the first.
    async count(state, step) {
      const loc = target(state, step).locator(step.selector);
      const n = await loc.count();
      return { count: n, text: n ? await loc.first().innerText() : null };
    },
    // The URL the framed document (iframe `selector`) ended on once it has loaded, e.g.
    // chrome-error://chromewebdata/ when the browser refused to frame it.
    async frame_url(state, step) {
      const el = await state.page.locator(step.selector).elementHandle();
      const f = await el.contentFrame();
      let blocked = null;
      if (step.wait_prefix) {
        // A navigation the browser refuses to render (frame-ancestors) ends the wait with
        // net::ERR_BLOCKED_BY_RESPONSE; that is an answer, not a failure.
        await f.waitForURL((u) => u.toString().startsWith(step.wait_prefix)).catch((e) => {
          if (!String(e).includes('ERR_BLOCKED_BY_RESPONSE')) throw e;
          blocked = 'net::ERR_BLOCKED_BY_RESPONSE';
        });
      }
      await f.waitForLoadState('load');
      return { frame_url: f.url(), blocked, navigations: state.nav };
    },
    // Runs `then` or `else` (lists of steps) depending on whether `selector` becomes visible
    // (in `frame`, if given) before `other` does; both are waited for together.
    async branch(state, step) {
      const where = target(state, step);
      const a = where.locator(step.selector).first();
      const b = where.locator(step.other).first();
      await a.or(b).waitFor();
      const taken = (await a.isVisible()) ? 'then' : 'else';
      const sub = [];
      for (const s of step[taken] || []) {
        const r = { op: s.op, ctx: s.ctx, label: s.label };
        sub.push(r);
        Object.assign(r, await ops[s.op](await getCtx(s.ctx || 'main'), s), { ok: true });
      }
      return { taken, steps: sub };
    },
    async add_cookies(state, step) {
      await state.context.addCookies(step.cookies);
      return {};
    },
    async cookies(state, step) {
      return { cookies: await state.context.cookies(step.urls || []) };
    },
    async screenshot(state, step) {
      fs.mkdirSync(path.dirname(step.path), { recursive: true });
      await state.page.screenshot({ path: step.path, fullPage: true });
      return { path: step.path };
    },
    async frames(state) {
      return { frames: state.page.frames().map((f) => f.url()) };
    },
    async close(state, step) {
      await state.context.close();
      contexts.delete(step.ctx);
      return {};
    },
  };

  for (const step of plan.steps) {
    const rec = { op: step.op, ctx: step.ctx, label: step.label };
    records.push(rec);
    const t0 = Date.now();
    try {
      const state = await getCtx(step.ctx || 'main');
      Object.assign(rec, await ops[step.op](state, step), { ok: true, ms: Date.now() - t0 });
    } catch (e) {
      rec.ok = false;
      rec.error = String(e && e.message ? e.message : e);
      error = `step ${records.length} (${step.op}${step.label ? ' ' + step.label : ''}): ${rec.error}`;
      const state = contexts.get(step.ctx || 'main');
      if (state && plan.failure_screenshot) {
        try {
          await state.page.screenshot({ path: plan.failure_screenshot, fullPage: true });
          rec.failure_screenshot = plan.failure_screenshot;
          rec.url = state.page.url();
          rec.navigations = state.nav;
        } catch (_) { /* the page may be gone */ }
      }
      break;
    }
  }
  await (persistent || browser).close();
  process.stdout.write(JSON.stringify({ steps: records, error }) + '\n');
}

main().catch((e) => {
  process.stdout.write(JSON.stringify({ steps: [], error: String(e && e.stack ? e.stack : e) }) + '\n');
  process.exitCode = 1;
});

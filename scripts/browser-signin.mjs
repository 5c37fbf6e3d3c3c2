// Checks the development sign-in in a real browser (headless Chromium over the DevTools
// protocol; needs `chromium` and Node 20+, not part of CI):
//
//   target/release/fedrp serve --listen 127.0.0.1:8080 &
//   chromium --headless=new --remote-debugging-port=9333 --user-data-dir=$(mktemp -d) about:blank &
//   node --experimental-websocket scripts/browser-signin.mjs http://localhost:8080/ 9333 /tmp/signed-in.png
//
// Drives headless Chromium through the development sign-in: open the app, submit the dev IdP
// form (first user), follow the auto-post, print the final page text, save a screenshot.
const [,, appUrl, debugPort, shot] = process.argv;
const sleep = (ms) => new Promise(r => setTimeout(r, ms));
const list = await (await fetch(`http://127.0.0.1:${debugPort}/json/list`)).json();
const page = list.find(t => t.type === 'page');
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise(r => ws.addEventListener('open', r));
let id = 0; const pending = new Map();
ws.addEventListener('message', (ev) => { const m = JSON.parse(ev.data); if (m.id && pending.has(m.id)) { pending.get(m.id)(m); pending.delete(m.id); } });
const send = (method, params = {}) => new Promise(r => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
const evaluate = async (expr) => (await send('Runtime.evaluate', { expression: expr, returnByValue: true })).result?.result?.value;
await send('Page.enable');
await send('Page.navigate', { url: appUrl });
await sleep(2500);
console.log('at:', await evaluate('location.href'));
console.log('title:', await evaluate('document.title'));
await evaluate("document.querySelector('form').submit()");
await sleep(3000);
console.log('at:', await evaluate('location.href'));
console.log('text:', (await evaluate('document.body.innerText')).slice(0, 300));
console.log('cookies visible to JS (HttpOnly expected: none):', await evaluate('document.cookie'));
const s = await send('Page.captureScreenshot', { format: 'png' });
(await import('node:fs')).writeFileSync(shot, Buffer.from(s.result.data, 'base64'));
// Reload: the session cookie must still be there.
await send('Page.reload'); await sleep(1500);
console.log('after reload:', (await evaluate('document.body.innerText')).slice(0, 80));
ws.close();

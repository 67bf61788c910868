/* Helpers for the browser tests: one Debian chromium (playwright-core) per
 * run with a fresh phone context per test, a static server for htdocs, a
 * stubbed API, fresh applicants, the sandbox's captcha and SMS, the steps of
 * the manual as a person does them, and the screenshots named by screen. */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HTDOCS = path.join(ROOT, 'htdocs');
const ARTIFACTS = path.resolve(process.env.CNCA_ARTIFACTS || path.join(ROOT, 't', 'artifacts'));
const CHROMIUM = process.env.CNCA_CHROMIUM || '/usr/bin/chromium';
/* How many tests run side by side (each in its own browser context). */
const CONCURRENCY = Math.max(1, +process.env.CNCA_BROWSER_CONCURRENCY || 4);
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'";
const WECHAT_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage', '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/* Every page in htdocs/ (not vendor/, not sandbox/). */
const PAGES = fs.readdirSync(HTDOCS).filter((f) => f.endsWith('.html')).map((f) => f.slice(0, -5)).sort();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(150);
  }
}

/* ---- browser: one chromium, a new context (profile) per phone ---- */

let shared = null;
function browser() {
  if (!shared) shared = chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  return shared;
}

/* A phone (375x667, touch, WeChat UA) with its own cookies and storage. */
async function phone(opts = {}) {
  const context = await (await browser()).newContext({
    viewport: { width: opts.width || 375, height: opts.height || 667 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
    userAgent: WECHAT_UA,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    permissions: ['camera'],
  });
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  const problems = watch(page);
  return { context, page, problems, close: () => context.close().catch(() => {}) };
}

/* Console errors and uncaught exceptions, with the URL they came from. */
function watch(page) {
  const list = [];
  page.on('console', (m) => {
    if (m.type() === 'error') list.push({ text: m.text(), url: (m.location() || {}).url || '' });
  });
  page.on('pageerror', (e) => list.push({ text: 'uncaught: ' + e.message, url: '' }));
  return list;
}

/* ---- screenshots ---- */

async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });
}

/* The manual's answers, word for word. */
const NOT_APPLIED = '您尚未申请数字证书';
const HAS_CERTIFICATE = '您已取得上海建筑业个人数字证书，请选择“我已有证书”';
const NOT_REALNAME = '您的手机未能通过实名认证，请点击“确定”进行银行卡认证，若更换其他手机，请点击“取消”';
const BANK_PASSED = '您已通过银行卡认证，确认使用你银行卡开户时预留在银行的手机号码作为申领数字证书手机号码';
const ACCEPTED = '您的证书申请已受理，证书正在签发中。请设置您的个性签名图片';

/* The screens of the manual (and the error screens it describes), by the
 * name their screenshot gets: t/artifacts/screen-NAME.png. */
const SCREENS = {
  '3.1-01-index': '3.1 step 1: 新申请证书 / 我已有证书',
  '3.1-02-apply': '3.1 step 2: 姓名, 身份证号码, 手机号码, 提交',
  '3.1-03-not-applied': '3.1 step 3: 您尚未申请数字证书, 现在申请证书',
  '3.1-04-verify': '3.1 step 4: 图形验证码, 短信验证码 with 重新获取验证码(NN), 使用条款',
  '3.1-05-1-face': '3.1 step 5 (1): 快速验证',
  '3.1-05-2-camera': '3.1 step 5 (2): the front camera (the gateway\'s page)',
  '3.1-05-3-recognizing': '3.1 step 5 (3): 系统识别中，请耐心等待',
  '3.1-05-4-face-done': '3.1 step 5 (4): 人脸识别认证成功, 下一步',
  '3.1-05-5-processing': '3.1 step 5 (5): 系统处理中，请耐心等待，不要点击手机回退键',
  '3.1-06-confirm': '3.1 step 6: 请再次确认你个人数字证书的验证手机',
  '3.1-07-accepted': '3.1 step 7: 您的证书申请已受理…请设置您的个性签名图片',
  '3.1-08-1-handwrite': '3.1 step 8 (1): 手写签名, 设置签名',
  '3.1-08-1-pad': '3.1 step 8 (1): the pad with 取消 清除 保存',
  '3.1-08-1-saved': '3.1 step 8 (1): 保存 done, 提交',
  '3.1-08-2-upload': '3.1 step 8 (2): 上传签名',
  '3.1-08-3-photo': '3.1 step 8 (3): 拍摄签名',
  '3.1-09-terms': '3.1 step 9: 证书使用条款告知, 查看个人信息',
  '3.1-10-me': '3.1 steps 10-11: 个人用户信息, 修改签名图片, 修改手机号码',
  '3.2-05-not-realname': '3.2 step 5: 您的手机未能通过实名认证… 确定 / 取消',
  '3.2-06-bank': '3.2 step 6: 银行卡号, 预留手机号码, 验证码',
  '3.2-06-bank-passed': '3.2 step 6: 您已通过银行卡认证…',
  '3.2-08-confirm': '3.2 step 8: the bank-reserved mobile to confirm',
  '3.2-12-me': '3.2 step 12: 个人用户信息 with the bank-reserved mobile',
  '4-login': '4: 我已有证书, 姓名, 身份证号码, 手机号码',
  '4-login-verify': '4: the verified mobile\'s SMS code',
  '4-me': '4: logged in, 个人用户信息',
  '4-no-certificate': '4: 您尚未申请数字证书 (no certificate)',
  '4-1-signature': '4 (1): 修改签名图片',
  '4-2-mobile': '4 (2): 修改手机号码, the new mobile',
  '4-2-verify': '4 (2): the new mobile\'s SMS code',
  '4-2-bank': '4 (2): a non-real-name new mobile: 银行卡认证',
  '4-2-me': '4 (2): the information page with the new mobile',
  '5-terms-of-use': '5: 上海建筑业个人数字证书使用条款',
  '6-help': '6: 常见问题 and 6.7 异常提示说明',
  'error-has-certificate': HAS_CERTIFICATE,
  'error-sms-wrong': '短信验证码错误, next to the field',
  'error-captcha-wrong': '图形验证码错误, next to the field',
  'error-too-many-requests': '操作过于频繁 (429) in a dialog',
  'error-face-failed': 'the face check did not pass (face.html?failed=1)',
  'error-session-expired': '会话已过期，请重新开始',
  'error-no-api': 'the service cannot be reached',
};

/* The screenshot of one of SCREENS. */
async function screen(page, name) {
  if (!(name in SCREENS)) throw new Error('not a screen of the manual: ' + name);
  await shot(page, 'screen-' + name);
}

/* ---- a static server for htdocs, mounted at /cnca/ like the module ---- */

const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.json': 'application/json', '.map': 'application/json' };

function startStatic() {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store' };
    let file = null;
    if (u.pathname.startsWith('/cnca/') && !u.pathname.startsWith('/cnca/api/')) {
      const rel = decodeURIComponent(u.pathname.slice(6)) || 'index.html';
      const p = path.resolve(HTDOCS, rel);
      if (p.startsWith(HTDOCS + path.sep) && fs.existsSync(p) && fs.statSync(p).isFile()) file = p;
    }
    if (!file) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      return res.end('not found');
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
    return fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ base: 'http://127.0.0.1:' + server.address().port, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/* One static server for the whole run, started when first asked for. */
let staticServer = null;
async function staticBase() {
  if (!staticServer) staticServer = startStatic();
  return (await staticServer).base;
}

/* Ends what the run started: the browser and the static server. */
async function closeAll() {
  const b = shared && (await shared.catch(() => null));
  shared = null;
  if (b) await b.close().catch(() => {});
  const s = staticServer && (await staticServer);
  staticServer = null;
  if (s) await s.close();
}

/* ---- a stubbed API (page.route) for the page logic ---- */

const CAPTCHA_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="42"><rect width="100" height="42" ' +
  'fill="#eef"/><text x="50" y="30" font-size="24" text-anchor="middle" font-family="monospace">6160</text></svg>';

function session(over = {}) {
  return { ok: true, csrf: 'csrf-token', step: 'index', logged_in: false, sandbox: false, hotline: '962600',
    flow: 'apply', mobile: '13912345678', face: null, ...over };
}

const ME = { ok: true, name: '刘测试', id_number: '3101**********123X', mobile: '139****5678',
  certificate: { serial: '5A1F9C03D2E47B61', not_before: '2025-01-02T03:04:05Z', not_after: '2027-04-06T03:04:05Z',
    algorithm: 'ec-p256', status: 'valid' }, has_signature: true };

/* routes: { 'GET session': obj | fn(req, calls) -> obj, 'POST apply': {status, body} |
 * {status, raw, type} (not JSON) | {abort: 'failed'} (no answer) | fn }; records every
 * API request in the returned list. */
async function stubApi(page, routes = {}) {
  const calls = [];
  await page.route('**/cnca/api/**', async (route) => {
    const req = route.request();
    const u = new URL(req.url());
    const name = req.method() + ' ' + u.pathname.replace(/^.*\/api\//, '');
    calls.push({ name, headers: req.headers(), body: req.postDataBuffer(), query: u.search });
    if (name === 'GET captcha') {
      return route.fulfill({ status: 200, contentType: 'image/svg+xml', body: CAPTCHA_SVG,
        headers: { 'X-CNCA-Sandbox-Captcha': '6160' } });
    }
    if (name === 'GET me/signature.png') {
      return route.fulfill({ status: 200, contentType: 'image/svg+xml',
        body: CAPTCHA_SVG.replace('6160', '刘测试') });
    }
    let r = routes[name];
    if (typeof r === 'function') r = await r(req, calls);
    if (r === undefined && name === 'GET session') r = session();
    if (r === undefined && name === 'GET me') r = ME;
    if (r === undefined) r = { status: 503, body: { ok: false, error: 'lookup_failed', message: '系统异常，请稍后重试！' } };
    if (r.abort) return route.abort(r.abort);
    if ('raw' in r) return route.fulfill({ status: r.status, contentType: r.type || 'text/html', body: r.raw });
    if (!('status' in r && 'body' in r)) r = { status: 200, body: r };
    return route.fulfill({ status: r.status, contentType: 'application/json', body: JSON.stringify(r.body),
      headers: r.headers || {} });
  });
  return calls;
}

/* ---- the real server ---- */

const BASE = (process.env.CNCA_BASE_URL || '').replace(/\/+$/, '');
let reachable = null;

/* Why the flow tests cannot run, or '' when the API answers. */
function apiUnavailable() {
  if (reachable) return reachable;
  reachable = (async () => {
    if (!BASE) return 'CNCA_BASE_URL is not set: flow tests need the module and its sandbox';
    try {
      const r = await fetch(BASE + '/cnca/api/session', { signal: AbortSignal.timeout(5000) });
      const j = await r.json();
      if (!j.ok) return 'GET /cnca/api/session at ' + BASE + ' did not answer ok';
      if (!j.sandbox) return 'the server at ' + BASE + ' is not in sandbox mode (CNCASandbox On)';
      return '';
    } catch (e) {
      return 'the API at ' + BASE + '/cnca/api/ is not reachable: ' + e.message;
    }
  })();
  return reachable;
}

/* A flow test: skipped with the reason when the API is not there; a
 * screenshot of the page as it was when it failed. */
function flowTest(test, name, fn, { timeout = 120000 } = {}) {
  test(name, { timeout }, async (t) => {
    const why = await apiUnavailable();
    if (why) return t.skip(why);
    const ph = await phone();
    try {
      await fn(ph.page, ph);
    } catch (e) {
      await shot(ph.page, 'FAILED-' + name.replace(/[^\w]+/g, '-')).catch(() => {});
      throw e;
    } finally {
      await ph.close();
    }
    return undefined;
  });
}

/* ---- applicants ---- */

const rnd = (n) => Math.floor(Math.random() * n);
const digits = (n) => Array.from({ length: n }, () => rnd(10)).join('');

/* A valid GB 11643 ID number: Shanghai Huangpu, born 1960-1999. */
function idNumber() {
  const d = new Date(Date.UTC(1960 + rnd(40), rnd(12), 1 + rnd(28)));
  const body = '310101' + d.toISOString().slice(0, 10).replace(/-/g, '') + digits(3);
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = w.reduce((s, x, i) => s + x * +body[i], 0);
  return body + '10X98765432'[sum % 11];
}

/* 139…: the sandbox's carrier check passes; 170…: it fails. */
function mobile(prefix = '139') { return prefix + digits(11 - prefix.length); }

/* A bank card number that passes the Luhn check. */
function cardNumber() {
  const body = '622202' + digits(12);
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let v = +body[body.length - 1 - i];
    if (i % 2 === 0) { v *= 2; if (v > 9) v -= 9; }
    sum += v;
  }
  return body + ((10 - (sum % 10)) % 10);
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华';
function person(prefix = '139', surname = SURNAMES[rnd(SURNAMES.length)]) {
  return { name: surname + GIVEN[rnd(GIVEN.length)] + GIVEN[rnd(GIVEN.length)],
    id_number: idNumber(), mobile: mobile(prefix) };
}

/* 13912345678 → 139 1234 5678, as confirm.html shows it. */
const spaced = (m) => m.replace(/^(\d{3})(\d{4})(\d{4})$/, '$1 $2 $3');

/* As api/me masks them (mod_cnca/cnca_mask.c): 139****5678 and
 * 3101**********123X. */
const maskedMobile = (m) => m.slice(0, 3) + '****' + m.slice(-4);
const maskedId = (id) => id.slice(0, 4) + '*'.repeat(10) + id.slice(-4).toUpperCase();

/* ---- the sandbox: captcha answers and SMS codes ---- */

/* Records the X-CNCA-Sandbox-Captcha header of every captcha image. */
function captchas(page) {
  const seen = [];
  let used = 0;
  page.on('response', async (r) => {
    if (!/\/api\/captcha(\?|$)/.test(r.url())) return;
    const h = await r.allHeaders().catch(() => ({}));
    if (h['x-cnca-sandbox-captcha']) seen.push(h['x-cnca-sandbox-captcha']);
  });
  return {
    /* The answer of the newest captcha not used yet. */
    async next() {
      await waitFor(() => seen.length > used, 'a captcha image');
      await sleep(100);
      used = seen.length;
      return seen[seen.length - 1];
    },
  };
}

async function smsList(m) {
  const r = await fetch(BASE + '/sandbox/sms?mobile=' + encodeURIComponent(m));
  if (!r.ok) throw new Error('GET /sandbox/sms: HTTP ' + r.status);
  return r.json();
}

/* The code of the first SMS to m that is not in `before`. */
async function smsCode(m, before) {
  const old = new Set(before.map((x) => x.at + '|' + x.text));
  const msg = await waitFor(async () => (await smsList(m)).find((x) => !old.has(x.at + '|' + x.text)), 'an SMS to ' + m);
  const code = /(?<!\d)\d{6}(?!\d)/.exec(msg.text);
  if (!code) throw new Error('no 6-digit code in SMS: ' + msg.text);
  return code[0];
}

/* ---- steps of the flows, as a person does them ---- */

const button = (page, name) => page.getByRole('button', { name, exact: true });
const link = (page, name) => page.getByRole('link', { name, exact: true });
const dialogButton = (page, name) => page.getByRole('alertdialog').getByRole('button', { name, exact: true });

async function fillIdentity(page, p) {
  await page.getByLabel('姓名').fill(p.name);
  await page.getByLabel('身份证号码').fill(p.id_number);
  await page.getByLabel('手机号码').fill(p.mobile);
}

/* On an identity page (apply.html, login.html): the person's details
 * (the screen `filled`), 提交, the answer box with exactly `message` (the
 * screen `screenName`); then its link `go` and the page `to` (a RegExp of
 * the URL) it leads to. */
async function identityAnswer(page, p, message, { filled, screenName, go, to } = {}) {
  await fillIdentity(page, p);
  if (filled) await screen(page, filled);
  await button(page, '提交').click();
  await page.locator('#result-msg').getByText(message, { exact: true }).waitFor();
  if (screenName) await screen(page, screenName);
  if (!go) return;
  await link(page, go).click();
  await page.waitForURL(to);
}

const isSmsPost = (r) => r.request().method() === 'POST' && /\/api\/sms$/.test(new URL(r.url()).pathname);

/* Captcha, 获取验证码, the code from the sandbox, 使用条款. Returns the code.
 * While the button counts down (a code went to this number a moment ago)
 * it waits as a person would; a 429 shows 操作过于频繁 in a dialog and
 * starts the countdown from retry_after: on429(page, body) sees it, then
 * the countdown is waited out and the code asked for again. */
async function smsStep(page, cap, m, { screenName, wrongCode, on429 } = {}) {
  const smsBtn = page.locator('#sms-btn');
  let before;
  for (let attempt = 1; ; attempt++) {
    await page.locator('#sms-btn:not([disabled])').waitFor({ timeout: 130000 });
    await page.getByRole('textbox', { name: /^图形验证码/ }).fill(await cap.next());
    before = await smsList(m);
    const [r] = await Promise.all([page.waitForResponse(isSmsPost), smsBtn.click()]);
    if (r.status() === 429 && attempt < 3) {
      const body = await r.json();
      await page.getByRole('alertdialog').getByText(body.message).waitFor();
      await page.getByRole('button', { name: /^重新获取验证码\(\d+\)$/ }).waitFor();
      if (on429) await on429(page, body);
      await dialogButton(page, '确定').click();
      continue;
    }
    if (!r.ok()) throw new Error('POST sms: ' + r.status() + ' ' + (await r.text()));
    break;
  }
  await page.getByRole('button', { name: /^重新获取验证码\(\d+\)$/ }).waitFor();
  const code = await smsCode(m, before);
  const entered = wrongCode ? String((+code + 1) % 1000000).padStart(6, '0') : code;
  await page.getByLabel('短信验证码').fill(entered);
  await page.getByLabel('我已阅读并同意使用条款').check();
  if (screenName) await screen(page, screenName);
  return code;
}

/* face.html → the sandbox's face page (快速验证, the fake front camera,
 * 拍照验证, 系统识别中, 下一步) → face-done.html (下一步, 系统处理中) →
 * confirm.html. With screens (a name prefix) each state is photographed;
 * the capture upload and the session call are held back a little so that
 * the waiting states can be. */
async function faceStep(page, screens) {
  await page.waitForURL(/\/cnca\/face\.html/);
  if (screens) await screen(page, screens + '-1-face');
  await button(page, '快速验证').click();
  await page.waitForURL(/\/sandbox\/face\?/);
  await page.locator('#start').click();
  const shoot = page.locator('#shoot:not([disabled])');
  const picker = page.locator('#picker:not([hidden])');
  await shoot.or(picker).waitFor();
  if (screens) {
    await page.route('**/sandbox/face/capture**', async (route) => {
      await sleep(700);
      await route.continue();
    });
  }
  if (await picker.isVisible()) {
    await page.locator('#file').setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: await namePng(page, '人脸') });
  } else {
    if (screens) await screen(page, screens + '-2-camera');
    await shoot.click();
  }
  if (screens) {
    await page.getByText('系统识别中，请耐心等待').waitFor();
    await screen(page, screens + '-3-recognizing');
  }
  await page.locator('#done').getByText('人脸识别认证成功').waitFor();
  await page.locator('#next').click();
  await page.waitForURL(/\/cnca\/face-done\.html/);
  await page.getByText('人脸识别认证成功').waitFor();
  if (screens) {
    await screen(page, screens + '-4-face-done');
    await page.route('**/cnca/api/session', async (route) => {
      await sleep(700);
      await route.continue();
    });
  }
  await button(page, '下一步').click();
  if (screens) {
    await page.getByText('系统处理中，请耐心等待，不要点击手机回退键').waitFor();
    await screen(page, screens + '-5-processing');
  }
  await page.waitForURL(/\/confirm\.html/);
  if (screens) await page.unroute('**/cnca/api/session');
}

/* Draws with touch events on the canvas: 王 and a cursive stroke after it. */
async function drawSignature(page) {
  const box = await page.locator('#canvas').boundingBox();
  const cdp = await page.context().newCDPSession(page);
  const at = (fx, fy) => ({ x: box.x + box.width * fx, y: box.y + box.height * fy });
  const touch = (type, pts) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: pts });
  const stroke = async (pts) => {
    await touch('touchStart', [pts[0]]);
    for (const p of pts.slice(1)) await touch('touchMove', [p]);
    await touch('touchEnd', []);
  };
  const line = (a, b, n = 8) => Array.from({ length: n + 1 }, (_, i) => at(a[0] + (b[0] - a[0]) * i / n, a[1] + (b[1] - a[1]) * i / n));
  await stroke(line([0.12, 0.36], [0.34, 0.35]));
  await stroke(line([0.14, 0.46], [0.32, 0.45]));
  await stroke(line([0.10, 0.58], [0.36, 0.56]));
  await stroke(line([0.23, 0.35], [0.23, 0.57]));
  await stroke(Array.from({ length: 25 }, (_, i) => at(0.42 + 0.018 * i, 0.47 + Math.sin(i / 2.2) * 0.06 - i * 0.002)));
  await cdp.detach();
}

/* A PNG of the person's name drawn in the page's own canvas. */
async function namePng(page, name) {
  const data = await page.evaluate((n) => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 120;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, c.width, c.height);
    g.font = 'bold 64px sans-serif';
    g.fillStyle = '#000';
    g.fillText(n, 20, 88);
    g.lineWidth = 4;
    g.beginPath();
    g.moveTo(20, 100);
    g.bezierCurveTo(120, 80, 200, 120, 300, 96);
    g.stroke();
    return c.toDataURL('image/png');
  }, name);
  return Buffer.from(data.split(',')[1], 'base64');
}

/* On signature.html: set the signature by source (handwrite, upload,
 * photo) and submit. screens: the names of the states to photograph. */
async function setSignature(page, source, p, screens = {}) {
  await page.waitForURL(/\/signature\.html/);
  if (screens.page) await screen(page, screens.page);
  if (source === 'handwrite') {
    await button(page, '设置签名').click();
    await page.locator('#canvas').waitFor();
    await drawSignature(page);
    if (screens.pad) await screen(page, screens.pad);
    await button(page, '保存').click();
  } else {
    const label = source === 'upload' ? '上传签名' : '拍摄签名';
    await page.getByRole('radio', { name: label }).check();
    await page.locator('#' + source).setInputFiles({ name: 'signature.png', mimeType: 'image/png',
      buffer: await namePng(page, p.name) });
  }
  await page.waitForFunction(() => {
    const i = document.querySelector('#preview');
    return i && !i.hidden && i.naturalWidth > 1;
  });
  if (screens.set) await screen(page, screens.set);
  await button(page, '提交').click();
}

/* me.html shows the person and a loaded signature image. */
async function checkMe(page, p, screenName) {
  await page.waitForURL(/\/me\.html/);
  await page.getByText('您已取得上海建筑业个人数字证书。').waitFor();
  await page.waitForFunction((n) => document.querySelector('#v-name').textContent === n, p.name);
  await page.waitForFunction(() => {
    const i = document.querySelector('#v-sig');
    return !i.hidden && i.complete && i.naturalWidth > 1;
  });
  if (screenName) await screen(page, screenName);
  return page.evaluate(() => ({
    name: document.querySelector('#v-name').textContent,
    id: document.querySelector('#v-id').textContent,
    mobile: document.querySelector('#v-mobile').textContent,
    serial: document.querySelector('#v-serial').textContent,
    from: document.querySelector('#v-from').textContent,
    to: document.querySelector('#v-to').textContent,
  }));
}

export {
  ROOT, HTDOCS, ARTIFACTS, PAGES, BASE, CSP, CONCURRENCY, SCREENS,
  NOT_APPLIED, HAS_CERTIFICATE, NOT_REALNAME, BANK_PASSED, ACCEPTED,
  sleep, waitFor, phone, shot, screen, startStatic, staticBase, closeAll, stubApi, session, ME,
  apiUnavailable, flowTest, person, mobile, cardNumber, idNumber, spaced, maskedMobile, maskedId,
  captchas, smsList, smsCode, button, link, dialogButton, fillIdentity, identityAnswer, smsStep, faceStep,
  drawSignature, namePng, setSignature, checkMe,
};

/* Helpers for the browser tests: Debian's chromium through playwright-core,
 * a phone context, a static server for htdocs, a stubbed API, fresh
 * applicants, and the sandbox's captcha and SMS. */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const HTDOCS = path.join(ROOT, 'htdocs');
const ARTIFACTS = path.resolve(process.env.CNCA_ARTIFACTS || path.join(ROOT, 't', 'artifacts'));
const CHROMIUM = process.env.CNCA_CHROMIUM || '/usr/bin/chromium';
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "media-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'";
const WECHAT_UA = 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 ' +
  '(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];

/* Every page in htdocs/ (not vendor/, not sandbox/). */
const PAGES = fs.readdirSync(HTDOCS).filter((f) => f.endsWith('.html')).map((f) => f.slice(0, -5)).sort();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(200);
  }
}

/* ---- browser ---- */

/* A phone (375x667, touch, WeChat UA) in its own fresh profile. */
async function phone(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnca-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: opts.width || 375, height: opts.height || 667 },
    isMobile: true,
    hasTouch: true,
    deviceScaleFactor: 2,
    userAgent: WECHAT_UA,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  context.setDefaultTimeout(20000);
  const page = context.pages()[0] || (await context.newPage());
  const problems = watch(page);
  return {
    context,
    page,
    problems,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
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

async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });
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

/* routes: { 'GET session': obj | fn(req) -> obj, 'POST apply': {status, body} | fn } ;
 * records every API request in the returned list. */
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
    if (!('status' in r && 'body' in r)) r = { status: 200, body: r };
    return route.fulfill({ status: r.status, contentType: 'application/json', body: JSON.stringify(r.body) });
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

/* A flow test: skipped with the reason when the API is not there. */
function flowTest(test, name, fn) {
  test(name, { timeout: 240000 }, async (t) => {
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
function person(prefix = '139') {
  return { name: SURNAMES[rnd(SURNAMES.length)] + GIVEN[rnd(GIVEN.length)] + GIVEN[rnd(GIVEN.length)],
    id_number: idNumber(), mobile: mobile(prefix) };
}

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

async function fillIdentity(page, p) {
  await page.getByLabel('姓名').fill(p.name);
  await page.getByLabel('身份证号码').fill(p.id_number);
  await page.getByLabel('手机号码').fill(p.mobile);
}

/* Captcha, 获取验证码, the code from the sandbox, 使用条款. Returns the code.
 * A 429 (the per-number resend interval) is waited out as a person would:
 * the button counts down, then a new captcha and another try. */
async function smsStep(page, cap, m, { shotName, wrongCode } = {}) {
  const smsBtn = page.locator('#sms-btn');
  let before;
  for (let attempt = 1; ; attempt++) {
    await page.getByRole('textbox', { name: /^图形验证码/ }).fill(await cap.next());
    before = await smsList(m);
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && /\/api\/sms$/.test(new URL(r.url()).pathname));
    await smsBtn.click();
    const r = await answer;
    if (r.status() !== 429 || attempt > 2) {
      if (!r.ok()) throw new Error('POST sms: ' + r.status() + ' ' + (await r.text()));
      break;
    }
    const wait = ((await r.json().catch(() => ({}))).retry_after || 60) + 5;
    const ok = page.getByRole('alertdialog').getByRole('button', { name: '确定' });
    await ok.waitFor({ timeout: 3000 }).then(() => ok.click(), () => {}); /* or shown at a field */
    await page.locator('#sms-btn:not([disabled])').waitFor({ timeout: wait * 1000 });
  }
  await page.getByRole('button', { name: /^重新获取验证码\(\d+\)$/ }).waitFor();
  const code = await smsCode(m, before);
  const entered = wrongCode ? String((+code + 1) % 1000000).padStart(6, '0') : code;
  await page.getByLabel('短信验证码').fill(entered);
  await page.getByLabel('我已阅读并同意使用条款').check();
  if (shotName) await shot(page, shotName);
  return code;
}

/* Any visible button or link whose text matches re. */
function clickable(page, re) {
  return page.getByRole('button', { name: re }).or(page.getByRole('link', { name: re })).filter({ visible: true });
}

/* face.html → the sandbox's face page (快速验证, then its capture button, or
 * its file picker when there is no camera) → face-done.html → confirm.html. */
async function faceStep(page, prefix) {
  await page.waitForURL(/\/face\.html/);
  await shot(page, prefix + '-face');
  await button(page, '快速验证').click();
  await page.waitForURL((u) => !/\/cnca\/face\.html/.test(u.href));
  let quick = false;
  let captured = false;
  await waitFor(async () => {
    if (/\/cnca\/face-done\.html/.test(page.url())) return true;
    if (/\/cnca\/face\.html/.test(page.url())) throw new Error('face check failed: ' + (await page.textContent('#failed')));
    const cap = clickable(page, /拍照|拍摄|确认|上传/);
    if (!captured && (await cap.count()) && (await cap.first().isEnabled())) {
      await shot(page, prefix + '-face-gateway').catch(() => {});
      await cap.first().click();
      captured = true;
      return false;
    }
    const file = page.locator('input[type="file"]');
    if (quick && !captured && (await file.count()) && (await file.first().evaluate((e) => !e.closest('[hidden]')))) {
      await file.first().setInputFiles({ name: 'face.png', mimeType: 'image/png', buffer: await namePng(page, '人脸') });
      captured = true;
      return false;
    }
    const q = clickable(page, /快速验证/);
    if (!quick && (await q.count())) {
      await q.first().click();
      quick = true;
      return false;
    }
    const next = clickable(page, /下一步/);
    if (captured && (await next.count())) {
      await shot(page, prefix + '-face-gateway-done').catch(() => {});
      await next.first().click().catch(() => {});
    }
    return false;
  }, 'the face check to come back to face-done.html', 60000);
  await page.getByText('人脸识别认证成功').waitFor();
  await shot(page, prefix + '-face-done');
  await button(page, '下一步').click();
  await page.getByText('系统处理中，请耐心等待，不要点击手机回退键').waitFor({ timeout: 2000 }).catch(() => {});
  await page.waitForURL(/\/confirm\.html/);
}

/* Draws a two-stroke squiggle on the canvas with touch events. */
async function drawSignature(page) {
  const box = await page.locator('#canvas').boundingBox();
  const cdp = await page.context().newCDPSession(page);
  const touch = (type, pts) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: pts });
  for (const row of [0.35, 0.6]) {
    const y = box.y + box.height * row;
    await touch('touchStart', [{ x: box.x + box.width * 0.15, y }]);
    for (let i = 1; i <= 20; i++) {
      await touch('touchMove', [{ x: box.x + box.width * (0.15 + 0.035 * i), y: y + Math.sin(i / 2) * 30 }]);
    }
    await touch('touchEnd', []);
  }
  await cdp.detach();
}

/* A PNG of the person's name drawn in the page's own canvas. */
async function namePng(page, name) {
  const data = await page.evaluate((n) => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 120;
    const g = c.getContext('2d');
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

/* On signature.html: set the signature by source and submit. */
async function setSignature(page, source, prefix, p) {
  await page.waitForURL(/\/signature\.html/);
  await shot(page, prefix + '-signature');
  if (source === 'handwrite') {
    await button(page, '设置签名').click();
    await page.locator('#canvas').waitFor();
    await drawSignature(page);
    await shot(page, prefix + '-signature-pad');
    await button(page, '保存').click();
  } else {
    await page.getByLabel('上传签名').check();
    await page.locator('#upload').setInputFiles({ name: 'signature.png', mimeType: 'image/png',
      buffer: await namePng(page, p.name) });
  }
  await page.waitForFunction(() => {
    const i = document.querySelector('#preview');
    return i && !i.hidden && i.naturalWidth > 1;
  });
  await shot(page, prefix + '-signature-set');
  await button(page, '提交').click();
}

/* me.html shows the person and a loaded signature image. */
async function checkMe(page, p, prefix) {
  await page.waitForURL(/\/me\.html/);
  await page.getByText('您已取得上海建筑业个人数字证书。').waitFor();
  await page.waitForFunction((n) => document.querySelector('#v-name').textContent === n, p.name);
  await page.waitForFunction(() => {
    const i = document.querySelector('#v-sig');
    return !i.hidden && i.complete && i.naturalWidth > 1;
  });
  await shot(page, prefix + '-me');
  return page.evaluate(() => ({
    name: document.querySelector('#v-name').textContent,
    id: document.querySelector('#v-id').textContent,
    mobile: document.querySelector('#v-mobile').textContent,
    serial: document.querySelector('#v-serial').textContent,
    from: document.querySelector('#v-from').textContent,
    to: document.querySelector('#v-to').textContent,
  }));
}

/* Manual 3.1 from the start page to me.html; real-name mobile. */
async function enroll(page, p, { prefix = 'enroll', signature = 'handwrite' } = {}) {
  const cap = captchas(page);
  await page.goto(BASE + '/cnca/index.html');
  await shot(page, prefix + '-01-index');
  await link(page, '新申请证书').click();
  await page.waitForURL(/\/apply\.html/);
  await fillIdentity(page, p);
  await shot(page, prefix + '-02-apply');
  await button(page, '提交').click();
  await page.getByText('您尚未申请数字证书').waitFor();
  await shot(page, prefix + '-03-not-applied');
  await link(page, '现在申请证书').click();
  await page.waitForURL(/\/apply-verify\.html/);
  await page.waitForFunction((m) => document.querySelector('#mobile').value === m, p.mobile);
  await smsStep(page, cap, p.mobile, { shotName: prefix + '-04-verify' });
  await button(page, '提交').click();
  await faceStep(page, prefix + '-05');
  await page.getByText(p.mobile.replace(/^(\d{3})(\d{4})(\d{4})$/, '$1 $2 $3')).waitFor();
  await shot(page, prefix + '-06-confirm');
  await button(page, '确定').click();
  await page.getByText('您的证书申请已受理，证书正在签发中。请设置您的个性签名图片').waitFor();
  await shot(page, prefix + '-07-accepted');
  await page.getByRole('alertdialog').getByRole('button', { name: '确定' }).click();
  await setSignature(page, signature, prefix + '-08', p);
  await page.waitForURL(/\/terms\.html/);
  await shot(page, prefix + '-09-terms');
  await link(page, '查看个人信息').click();
  return checkMe(page, p, prefix + '-10');
}

export {
  ROOT, HTDOCS, ARTIFACTS, PAGES, BASE, CSP,
  sleep, waitFor, phone, shot, startStatic, stubApi, session, ME,
  apiUnavailable, flowTest, person, mobile, cardNumber, idNumber,
  captchas, smsList, smsCode, button, link, fillIdentity, smsStep, faceStep,
  drawSignature, namePng, setSignature, checkMe, enroll,
};

/* Static checks of every page: served by the module (CNCA_BASE_URL) or a
 * static server, the API stubbed so that each page renders in the state
 * where it is allowed; labels, font sizes, tap targets, widths, weight, no
 * inline code, the vendored signature_pad. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as L from './lib.mjs';

const LOGGED_IN = ['me', 'mobile', 'signature', 'terms'];
const MAX_WEIGHT = 60 * 1024;
/* Screens of the manual that are whole pages. */
const SCREEN_OF = { 'terms-of-use': '5-terms-of-use', help: '6-help' };

/* The pages as the module serves them (its headers, CSP among them) when
 * CNCA_BASE_URL is set, else from the static server. */
const pagesBase = async () => L.BASE || L.staticBase();

/* Loads a page as the session allows it; returns the phone. */
async function open(name, over = {}) {
  const base = await pagesBase();
  const ph = await L.phone();
  await L.stubApi(ph.page, {
    'GET session': L.session({ step: name, logged_in: LOGGED_IN.includes(name), face: { status: 'pass', message: '' }, ...over }),
  });
  await ph.page.goto(base + '/cnca/' + name + '.html');
  await ph.page.waitForLoadState('networkidle');
  return ph;
}

/* What the layout checks measure, in the page. */
function measure() {
  const visible = (e) => {
    const r = e.getBoundingClientRect();
    const s = getComputedStyle(e);
    return r.width > 1 && r.height > 1 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const describe = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' + (e.textContent || e.value || '').trim().slice(0, 20) + '"';
  const unlabeled = [];
  const small = [];
  for (const i of document.querySelectorAll('input, select, textarea')) {
    if (!i.labels || i.labels.length === 0) unlabeled.push(describe(i));
    if (parseFloat(getComputedStyle(i).fontSize) < 16) small.push(describe(i));
  }
  const taps = [];
  const targets = document.querySelectorAll('button, a, summary, select, label.check, label.radio, ' +
    'input:not([type="checkbox"]):not([type="radio"]):not([type="file"])');
  for (const e of targets) {
    if (!visible(e)) continue;
    if (e.tagName === 'A' && e.closest('p, li, td')) continue; /* a link inside running text */
    const h = e.getBoundingClientRect().height;
    if (h < 43.5) taps.push(describe(e) + ' ' + h.toFixed(1) + 'px');
  }
  return { unlabeled, small, taps };
}

async function noHorizontalScroll(page, width) {
  await page.setViewportSize({ width, height: 667 });
  await page.waitForTimeout(50);
  const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(sw <= cw, `horizontal scroll at ${width}px: scrollWidth ${sw} > ${cw}`);
}

/* HTML + its own CSS + JS (not vendor/), in bytes. */
async function weight(name) {
  const pageUrl = (await pagesBase()) + '/cnca/' + name + '.html';
  const html = await (await fetch(pageUrl)).text();
  const refs = [...html.matchAll(/<(?:link[^>]*rel="stylesheet"[^>]*href|script[^>]*src)="([^"]+)"/g)]
    .map((m) => m[1]).filter((u) => !/^vendor\//.test(u));
  let total = Buffer.byteLength(html);
  for (const u of refs) total += (await (await fetch(new URL(u, pageUrl))).arrayBuffer()).byteLength;
  return total;
}

export default function register(test) {
  test('htdocs has every page the manual and API.md name', () => {
    for (const p of ['index', 'apply', 'apply-verify', 'bank', 'face', 'face-done', 'confirm', 'signature',
      'terms', 'me', 'login', 'mobile', 'help', 'terms-of-use']) {
      assert.ok(L.PAGES.includes(p), p + '.html is missing');
    }
  });

  for (const name of L.PAGES) {
    test(`${name}.html: renders clean, labelled, 16px inputs, 44px targets, no side scroll, < 60 KB`, async () => {
      const ph = await open(name);
      try {
        const { page, problems } = ph;
        assert.match(page.url(), new RegExp('/' + name + '\\.html'), 'the guard moved the page away');
        await L.shot(page, 'static-' + name);
        if (SCREEN_OF[name]) await L.screen(page, SCREEN_OF[name]);
        assert.deepEqual(problems, [], 'console errors');
        const m = await page.evaluate(measure);
        assert.deepEqual(m.unlabeled, [], 'inputs without a <label>');
        assert.deepEqual(m.small, [], 'inputs under 16px');
        assert.deepEqual(m.taps, [], 'tap targets under 44px');
        assert.equal((await page.locator('footer').innerText()).replace(/\n+/g, '\n'),
          '本服务由上海CA大家签提供\nCopyright © Letusign.com. 版权所有\n客户服务热线: 962600');
        await noHorizontalScroll(page, 320);
        await page.screenshot({ path: path.join(L.ARTIFACTS, `static-${name}-320.png`), fullPage: true });
        await noHorizontalScroll(page, 414);
        const w = await weight(name);
        assert.ok(w < MAX_WEIGHT, `${name}: ${w} bytes`);
      } finally {
        await ph.close();
      }
    });
  }

  test('every page loads without the API: a notice, and only the API calls fail', async () => {
    const base = await L.staticBase();
    const ph = await L.phone();
    try {
      for (const name of L.PAGES) {
        ph.problems.length = 0;
        await ph.page.goto(base + '/cnca/' + name + '.html');
        await ph.page.locator('#banner').getByText('系统异常，请稍后重试！').waitFor();
        await ph.page.waitForLoadState('load');
        if (name === 'index') await L.screen(ph.page, 'error-no-api');
        const others = ph.problems.filter((p) => !/\/cnca\/api\//.test(p.url));
        assert.deepEqual(others, [], name + ': errors besides failed API calls');
      }
    } finally {
      await ph.close();
    }
  });

  test('the signature library is vendored from npm, not written by hand', () => {
    const vendored = path.join(L.HTDOCS, 'vendor', 'signature_pad.umd.min.js');
    const built = path.join(L.ROOT, 'node_modules', 'signature_pad', 'dist', 'signature_pad.umd.min.js');
    assert.ok(fs.existsSync(vendored), 'htdocs/vendor/signature_pad.umd.min.js: run `npm ci && npm run vendor`');
    assert.ok(fs.readFileSync(vendored).equals(fs.readFileSync(built)), 'vendor copy differs from node_modules');
  });

  test('no inline script, style or event handler in any page (CSP)', () => {
    for (const name of L.PAGES) {
      const html = fs.readFileSync(path.join(L.HTDOCS, name + '.html'), 'utf8');
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, name + ': inline <script>');
      assert.doesNotMatch(html, /<style/i, name + ': <style>');
      assert.doesNotMatch(html, /\sstyle=/i, name + ': style attribute');
      assert.doesNotMatch(html, /\son[a-z]+=/i, name + ': inline event handler');
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, name + ': a resource from another server');
    }
  });
}

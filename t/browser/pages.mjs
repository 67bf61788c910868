/* The pages' own logic against a stubbed API (page.route): guards, field
 * errors, dialogs, countdown, no double submit, the signature pad, the error
 * codes. Needs no backend: the pages come from a static server for htdocs;
 * the flows against the real module are in flow-*.mjs. */
import assert from 'node:assert/strict';
import * as L from './lib.mjs';

const sess = L.session;
const fail = (status, error, message, extra = {}) => ({ status, body: { ok: false, error, message, ...extra } });
const json = (call) => JSON.parse(call.body.toString());
const only = (calls, name) => calls.filter((c) => c.name === name);

/* 提交 on signature.html with the image set (the screenshot `shotName`):
 * the page goes on to `next`, and the one POST me/signature carries
 * ?source=SOURCE and a PNG; returns that body. */
async function submitSignature(page, calls, { shotName, source, next }) {
  await L.shot(page, shotName);
  await L.button(page, '提交').click();
  await page.waitForURL(new RegExp('/' + next + '\\.html$'));
  const posts = only(calls, 'POST me/signature');
  assert.equal(posts.length, 1, 'POST me/signature');
  assert.equal(posts[0].query, '?source=' + source);
  assert.equal(posts[0].headers['content-type'], 'image/png');
  return posts[0].body;
}

export default function register(test) {
  /* A phone on `page` with the API stubbed by routes; runs fn(page, calls). */
  function pageTest(name, page, routes, fn) {
    test(name, { timeout: 60000 }, async () => {
      const ph = await L.phone();
      try {
        const calls = await L.stubApi(ph.page, routes);
        await ph.page.goto((await L.staticBase()) + '/cnca/' + page);
        await fn(ph.page, calls, ph);
        assert.deepEqual(ph.problems.filter((p) => !/\/api\//.test(p.url)), [], 'console errors');
      } catch (e) {
        await L.shot(ph.page, 'FAILED-pages-' + name.replace(/[^\w]+/g, '-')).catch(() => {});
        throw e;
      } finally {
        await ph.close();
      }
    });
  }

  pageTest('guard: a page not allowed now goes where the session stands', 'apply-verify.html',
    { 'GET session': sess({ step: 'bank' }) }, async (page) => {
      await page.waitForURL(/\/bank\.html$/);
    });

  pageTest('guard: me.html without login goes to the flow step', 'me.html',
    { 'GET session': sess({ step: 'face', logged_in: false }) }, async (page) => {
      await page.waitForURL(/\/face\.html$/);
    });

  pageTest('apply: checks fields, posts with CSRF, shows 您尚未申请数字证书 and its buttons', 'apply.html',
    { 'POST apply': { ok: true, has_certificate: false, next: 'apply-verify' } }, async (page, calls) => {
      await L.button(page, '提交').click();
      await page.locator('#err-name').getByText('请输入姓名', { exact: true }).waitFor();
      await page.locator('#err-id_number').getByText('请输入正确的18位身份证号码', { exact: true }).waitFor();
      await page.locator('#err-mobile').getByText('请输入正确的11位手机号码', { exact: true }).waitFor();
      assert.equal(only(calls, 'POST apply').length, 0, 'sent with empty fields');
      const p = L.person();
      await L.fillIdentity(page, { ...p, id_number: p.id_number.slice(0, 17) + (p.id_number[17] === '0' ? '1' : '0') });
      await L.button(page, '提交').click();
      await page.locator('#err-id_number').getByText('请输入正确的18位身份证号码').waitFor();
      await page.getByLabel('身份证号码').fill(p.id_number.toLowerCase());
      await L.button(page, '提交').click();
      await page.locator('#result-msg').getByText(L.NOT_APPLIED, { exact: true }).waitFor();
      await L.shot(page, 'pages-apply-not-applied');
      const [call] = only(calls, 'POST apply');
      assert.equal(call.headers['x-cnca-csrf'], 'csrf-token');
      assert.match(call.headers['content-type'], /^application\/json/);
      assert.deepEqual(json(call), { name: p.name, id_number: p.id_number.toUpperCase(), mobile: p.mobile });
      for (const b of ['现在申请证书', '退出']) assert.ok(await L.link(page, b).isVisible(), b);
      await L.button(page, '重新输入信息').click();
      assert.equal(await page.getByLabel('姓名').inputValue(), '');
      assert.ok(await L.button(page, '提交').isVisible());
      await L.identityAnswer(page, p, L.NOT_APPLIED, { go: '现在申请证书', to: /\/apply-verify\.html$/ });
    });

  pageTest('apply: has_certificate shows the message and a way to 我已有证书', 'apply.html',
    { 'POST apply': fail(409, 'has_certificate', L.HAS_CERTIFICATE, { next: 'login' }) },
    async (page) => {
      await L.identityAnswer(page, L.person(), L.HAS_CERTIFICATE,
        { go: '我已有证书', to: /\/login\.html$/ });
    });

  pageTest('login: no_certificate shows 您尚未申请数字证书 with a link to apply', 'login.html',
    { 'POST login': fail(404, 'no_certificate', L.NOT_APPLIED) }, async (page) => {
      await L.identityAnswer(page, L.person(), L.NOT_APPLIED);
      await L.shot(page, 'pages-login-no-certificate');
      await L.link(page, '现在申请证书').click();
      await page.waitForURL(/\/apply\.html$/);
    });

  pageTest('apply-verify: 获取验证码 counts down from resend_after and renews the captcha', 'apply-verify.html',
    { 'GET session': sess({ step: 'apply-verify' }), 'POST sms': { ok: true, resend_after: 60 } },
    async (page, calls) => {
      await page.waitForFunction(() => document.querySelector('#mobile').value === '13912345678');
      assert.equal(await page.getByLabel('手机号码').getAttribute('readonly'), '');
      await L.button(page, '获取验证码').click();
      await page.locator('#err-captcha').getByText('请输入四位数字图形验证码', { exact: true }).waitFor();
      await page.getByRole('textbox', { name: /^图形验证码/ }).fill('6160');
      await L.button(page, '获取验证码').click();
      const counting = page.getByRole('button', { name: /^重新获取验证码\((60|59)\)$/ });
      await counting.waitFor();
      assert.ok(await counting.isDisabled());
      assert.deepEqual(json(only(calls, 'POST sms')[0]), { mobile: '13912345678', captcha: '6160' });
      assert.equal(only(calls, 'GET captcha').length, 2, 'the used captcha is replaced');
      await page.waitForFunction(() => /\(5[0-8]\)/.test(document.querySelector('#sms-btn').textContent), null, { timeout: 5000 });
      await L.shot(page, 'pages-apply-verify-countdown');
      assert.equal(await page.getAttribute('#sms_code', 'autocomplete'), 'one-time-code');
      assert.equal(await page.getAttribute('#sms_code', 'inputmode'), 'numeric');
    });

  pageTest('apply-verify: a captcha error is shown at the captcha and renews the image', 'apply-verify.html',
    { 'GET session': sess({ step: 'apply-verify' }), 'POST sms': fail(400, 'captcha_wrong', '图形验证码错误') },
    async (page, calls) => {
      await page.getByRole('textbox', { name: /^图形验证码/ }).fill('1234');
      await L.button(page, '获取验证码').click();
      await page.locator('#err-captcha').getByText('图形验证码错误', { exact: true }).waitFor();
      assert.equal(only(calls, 'GET captcha').length, 2);
      assert.ok(await L.button(page, '获取验证码').isEnabled());
    });

  pageTest('apply-verify: a wrong SMS code is shown next to the field; one submit only', 'apply-verify.html', {
    'GET session': sess({ step: 'apply-verify' }),
    'POST verify/mobile': async () => {
      await L.sleep(1500); /* the second tap comes while the first is on its way */
      return fail(400, 'sms_wrong', '短信验证码错误', { attempts_left: 4 });
    },
  }, async (page, calls) => {
    await page.getByLabel('短信验证码').fill('123456');
    await L.button(page, '提交').click();
    await page.locator('#err-agree').getByText('请阅读并同意使用条款', { exact: true }).waitFor();
    await page.getByLabel('我已阅读并同意使用条款').check();
    await L.button(page, '提交').click();
    await L.button(page, '提交').click({ force: true, timeout: 2000 }).catch(() => {});
    await page.getByLabel('短信验证码').press('Enter');
    await page.locator('#err-sms_code').getByText('短信验证码错误，还可尝试4次', { exact: true }).waitFor();
    await L.shot(page, 'pages-apply-verify-sms-wrong');
    assert.equal(only(calls, 'POST verify/mobile').length, 1, 'submitted more than once');
    assert.deepEqual(json(only(calls, 'POST verify/mobile')[0]), { sms_code: '123456', agree: true });
    assert.equal(await page.getByLabel('短信验证码').getAttribute('aria-invalid'), 'true');
  });

  for (const [flow, back] of [['apply', 'apply'], ['login', 'login'], ['change-mobile', 'mobile']]) {
    pageTest(`apply-verify (${flow}): not real-name dialog, 取消 goes to ${back}.html`, 'apply-verify.html', {
      'GET session': sess({ step: 'apply-verify', flow, logged_in: flow === 'change-mobile' }),
      'POST verify/mobile': { ok: true, realname: false, next: 'bank', message: L.NOT_REALNAME },
    }, async (page) => {
      await page.getByLabel('短信验证码').fill('123456');
      await page.getByLabel('我已阅读并同意使用条款').check();
      await L.button(page, '提交').click();
      await page.getByRole('alertdialog').getByText(L.NOT_REALNAME, { exact: true }).waitFor();
      await L.shot(page, 'pages-not-realname-' + flow);
      await L.button(page, '取消').click();
      await page.waitForURL(new RegExp('/' + back + '\\.html$'));
    });
  }

  pageTest('apply-verify: not real-name dialog, 确定 goes to bank.html', 'apply-verify.html', {
    'GET session': sess({ step: 'apply-verify' }),
    'POST verify/mobile': { ok: true, realname: false, next: 'bank', message: L.NOT_REALNAME },
  }, async (page) => {
    await page.getByLabel('短信验证码').fill('123456');
    await page.getByLabel('我已阅读并同意使用条款').check();
    await L.button(page, '提交').click();
    await L.button(page, '确定').click();
    await page.waitForURL(/\/bank\.html$/);
  });

  pageTest('bank: card, reserved mobile, SMS; the success dialog leads to face.html', 'bank.html', {
    'GET session': sess({ step: 'bank' }),
    'POST sms': { ok: true, resend_after: 60 },
    'POST verify/bank': { ok: true, next: 'face', mobile: '13800001111', message: L.BANK_PASSED },
  }, async (page, calls) => {
    assert.equal(await page.getByLabel('银行卡号').getAttribute('placeholder'), '请输入您的银行卡号码');
    assert.equal(await page.getByLabel('手机号码').getAttribute('placeholder'), '请输入银行卡开户时预留手机号码');
    const card = L.cardNumber();
    await page.getByLabel('银行卡号').fill(card);
    await page.getByLabel('手机号码').fill('13800001111');
    await page.getByRole('textbox', { name: /^图形验证码/ }).fill('6160');
    await L.button(page, '获取验证码').click();
    await page.getByRole('button', { name: /^重新获取验证码\(\d+\)$/ }).waitFor();
    assert.deepEqual(json(only(calls, 'POST sms')[0]), { mobile: '13800001111', captcha: '6160' });
    await page.getByLabel('短信验证码').fill('654321');
    await page.getByLabel('我已阅读并同意使用条款').check();
    await L.button(page, '提交').click();
    await page.getByRole('alertdialog').getByText(L.BANK_PASSED, { exact: true }).waitFor();
    await L.shot(page, 'pages-bank-passed');
    assert.deepEqual(json(only(calls, 'POST verify/bank')[0]),
      { card_number: card, mobile: '13800001111', sms_code: '654321', agree: true });
    await L.button(page, '确定').click();
    await page.waitForURL(/\/face\.html$/);
  });

  pageTest('face: 快速验证 posts face/start and goes to the redirect', 'face.html', {
    'GET session': sess({ step: 'face' }),
    'POST face/start': async () => ({ ok: true, redirect: (await L.staticBase()) + '/cnca/help.html?token=abc' }),
  }, async (page) => {
    await L.button(page, '快速验证').click();
    await page.waitForURL(/\/help\.html\?token=abc$/);
  });

  pageTest('face: ?failed=1 shows the session\'s face message', 'face.html?failed=1', {
    'GET session': sess({ step: 'face', face: { status: 'fail', message: '认证失败：“人脸比对未通过”。如有疑问，请拨打 962600。' } }),
  }, async (page) => {
    await page.locator('#failed').getByText('认证失败：“人脸比对未通过”。如有疑问，请拨打 962600。').waitFor();
    await L.shot(page, 'pages-face-failed');
  });

  pageTest('face-done: 下一步 shows 系统处理中 and moves on to confirm.html', 'face-done.html', {
    'GET session': async (req, calls) => {
      if (only(calls, 'GET session').length > 1) await L.sleep(800);
      return sess({ step: 'confirm', face: { status: 'pass', message: '' } });
    },
  }, async (page) => {
    await page.getByText('人脸识别认证成功').waitFor();
    await L.button(page, '下一步').click();
    await page.getByText('系统处理中，请耐心等待，不要点击手机回退键').waitFor();
    await L.shot(page, 'pages-face-done-processing');
    await page.waitForURL(/\/confirm\.html$/);
  });

  pageTest('confirm: shows the mobile; 确定 issues, the 已受理 dialog leads to signature.html', 'confirm.html', {
    'GET session': sess({ step: 'confirm', mobile: '13812345678' }),
    'POST confirm': { ok: true, next: 'signature', serial: '0A1B', message: L.ACCEPTED },
  }, async (page, calls) => {
    await page.getByText('138 1234 5678').waitFor();
    await page.getByText('请再次确认你个人数字证书的验证手机').waitFor();
    await L.button(page, '确定').click();
    await page.getByRole('alertdialog').getByText(L.ACCEPTED, { exact: true }).waitFor();
    await L.shot(page, 'pages-confirm-accepted');
    assert.deepEqual(json(only(calls, 'POST confirm')[0]), { mobile: '13812345678' });
    await page.getByRole('alertdialog').getByRole('button', { name: '确定' }).click();
    await page.waitForURL(/\/signature\.html$/);
  });

  pageTest('signature: handwriting on the pad is POSTed as PNG with source=handwrite', 'signature.html', {
    'GET session': sess({ step: 'signature', logged_in: true }),
    'POST me/signature': { ok: true, next: 'terms' },
  }, async (page, calls) => {
    await L.button(page, '提交').click();
    await page.locator('#err-image').getByText('请先设置签名图片', { exact: true }).waitFor();
    await L.button(page, '设置签名').click();
    for (const b of ['取消', '清除', '保存']) assert.ok(await L.button(page, b).isVisible(), b);
    const box = await page.locator('#canvas').boundingBox();
    assert.ok(box.width >= 370 && box.height > 500, 'the pad is full-screen: ' + JSON.stringify(box));
    await L.button(page, '保存').click();
    await page.getByRole('alertdialog').getByText('请先在屏幕上手写您的全名').waitFor();
    await L.button(page, '确定').click();
    await L.drawSignature(page);
    await L.shot(page, 'pages-signature-pad');
    await L.button(page, '保存').click();
    await page.waitForFunction(() => !document.querySelector('#preview').hidden &&
      document.querySelector('#preview').naturalWidth > 1);
    const body = await submitSignature(page, calls, { shotName: 'pages-signature-set', source: 'handwrite', next: 'terms' });
    assert.ok(body.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10])), 'not a PNG');
    assert.ok(body.length > 500, 'an empty image: ' + body.length);
  });

  pageTest('signature: 上传签名 sends the file\'s bytes with source=upload; 拍摄签名 uses the camera input', 'signature.html', {
    'GET session': sess({ step: 'me', logged_in: true }),
    'POST me/signature': { ok: true, next: 'me' },
  }, async (page, calls) => {
    assert.equal(await page.getAttribute('#photo', 'capture'), 'environment');
    assert.equal(await page.getAttribute('#photo', 'accept'), 'image/*');
    await page.getByLabel('拍摄签名').first().check();
    assert.ok(await page.locator('label[for="photo"]').isVisible());
    await page.getByLabel('上传签名').check();
    const png = await L.namePng(page, '刘测试');
    await page.locator('#upload').setInputFiles({ name: 'sig.png', mimeType: 'image/png', buffer: png });
    await page.getByText('sig.png').waitFor();
    await page.waitForFunction(() => document.querySelector('#preview').naturalWidth > 1);
    const body = await submitSignature(page, calls, { shotName: 'pages-signature-upload', source: 'upload', next: 'me' });
    assert.ok(body.equals(png), 'the upload is not the file as chosen');
  });

  pageTest('me: shows the certificate holder; 退出 logs out to index.html', 'me.html', {
    'GET session': sess({ step: 'me', logged_in: true }),
    'POST logout': { ok: true, next: 'index' },
  }, async (page, calls) => {
    await page.waitForFunction(() => document.querySelector('#v-sig').naturalWidth > 1 && !document.querySelector('#v-sig').hidden);
    const text = await page.locator('main').innerText();
    for (const s of ['您已取得上海建筑业个人数字证书。', '刘测试', '3101**********123X', '139****5678',
      '5A1F9C03D2E47B61', '从 2025-01-02 到 2027-04-06']) assert.ok(text.includes(s), s);
    assert.match(only(calls, 'GET me/signature.png')[0].query, /^\?t=\d+/);
    for (const b of ['修改签名图片', '修改手机号码']) assert.ok(await L.link(page, b).isVisible(), b);
    await L.button(page, '退出').click();
    await page.waitForURL(/\/index\.html$/);
    assert.equal(only(calls, 'POST logout').length, 1);
  });

  pageTest('mobile: the new mobile goes to POST me/mobile, then apply-verify.html', 'mobile.html', {
    'GET session': sess({ step: 'me', logged_in: true }),
    'POST me/mobile': { ok: true, next: 'apply-verify' },
  }, async (page, calls) => {
    await page.getByLabel('新手机号码').fill('1381234');
    await L.button(page, '提交').click();
    await page.locator('#err-mobile').getByText('请输入正确的11位手机号码', { exact: true }).waitFor();
    await page.getByLabel('新手机号码').fill('13812345678');
    await L.button(page, '提交').click();
    await page.waitForURL(/\/apply-verify\.html$/);
    assert.deepEqual(json(only(calls, 'POST me/mobile')[0]), { mobile: '13812345678' });
  });

  pageTest('a lost session (401) goes back to the start page with its message', 'apply.html', {
    'POST apply': fail(401, 'no_session', '会话已过期，请重新开始'),
  }, async (page) => {
    await L.fillIdentity(page, L.person());
    await L.button(page, '提交').click();
    await page.waitForURL(/\/index\.html$/);
    await page.getByRole('alertdialog').getByText('会话已过期，请重新开始').waitFor();
    await L.screen(page, 'error-session-expired');
  });

  pageTest('an error with a field the page lacks, and 429, show in a dialog', 'mobile.html', {
    'GET session': sess({ step: 'me', logged_in: true }),
    'POST me/mobile': fail(429, 'too_many_requests', '操作过于频繁，请60秒后重试', { retry_after: 60 }),
  }, async (page) => {
    await page.getByLabel('新手机号码').fill('13812345678');
    await L.button(page, '提交').click();
    await page.getByRole('alertdialog').getByText('操作过于频繁，请60秒后重试').waitFor();
    await L.screen(page, 'error-too-many-requests');
    await L.button(page, '确定').click();
    assert.equal(await page.locator('.mask').count(), 0);
    assert.ok(await L.button(page, '提交').isEnabled());
  });

  pageTest('the footer shows the hotline from GET session and the sandbox inbox link', 'index.html', {
    'GET session': sess({ hotline: '021-12345678', sandbox: true }),
  }, async (page) => {
    await page.locator('footer').getByText('客户服务热线: 021‑12345678').waitFor();
    assert.equal(await page.locator('footer a.hotline').getAttribute('href'), 'tel:02112345678');
    assert.equal(await L.link(page, '沙箱模式 · 短信收件箱').getAttribute('href'), '/sandbox/');
  });

  /* The codes beyond API.md's table, a proxy's HTML error page and no
   * answer at all: each shows its message in a dialog, and 快速验证 can be
   * tapped again. */
  const FACE_ERRORS = [
    fail(502, 'face_start_failed', 'face auth accor error（进入人脸识别环节时系统处理您的信息失败，请稍后重试或致电 962600 咨询）'),
    fail(409, 'conflict', '请求正在处理中，请勿重复提交'),
    fail(404, 'not_found', '您访问的内容不存在'),
    fail(405, 'method_not_allowed', '不支持的请求方式'),
    fail(415, 'unsupported_media_type', '提交的内容格式不正确'),
    fail(413, 'too_large', '提交的内容过大'),
    { status: 502, raw: '<html><body><h1>502 Bad Gateway</h1></body></html>' },
    { abort: 'connectionreset' },
  ];
  const SHOWN = ['face auth accor error（进入人脸识别环节时系统处理您的信息失败，请稍后重试或致电 962600 咨询）',
    '请求正在处理中，请勿重复提交', '您访问的内容不存在', '不支持的请求方式', '提交的内容格式不正确', '提交的内容过大',
    '系统异常，请稍后重试！', '网络异常，请检查网络后重试！'];
  pageTest('face: face_start_failed, conflict, 404/405/413/415, a proxy page, no answer: each in a dialog', 'face.html', {
    'GET session': sess({ step: 'face' }),
    'POST face/start': (req, calls) => FACE_ERRORS[only(calls, 'POST face/start').length - 1],
  }, async (page, calls) => {
    for (const message of SHOWN) {
      await L.button(page, '快速验证').click();
      await page.getByRole('alertdialog').getByText(message, { exact: true }).waitFor();
      await L.dialogButton(page, '确定').click();
      await page.locator('#start:not([disabled])').waitFor();
    }
    assert.equal(only(calls, 'POST face/start').length, SHOWN.length);
    assert.match(page.url(), /\/face\.html$/);
  });

  pageTest('confirm: mobile_update_failed shows manual 6.7\'s row and its meaning; 确定 can be tapped again', 'confirm.html', {
    'GET session': sess({ step: 'confirm', flow: 'change-mobile', logged_in: true, mobile: '13812345678' }),
    'POST confirm': fail(503, 'mobile_update_failed',
      'modify mobile accor error（人脸识别已通过，但修改手机号码失败，请重新修改或致电 962600 咨询）'),
  }, async (page) => {
    await page.getByText('138 1234 5678').waitFor();
    await L.button(page, '确定').click();
    await page.getByRole('alertdialog').getByText(
      'modify mobile accor error（人脸识别已通过，但修改手机号码失败，请重新修改或致电 962600 咨询）', { exact: true }).waitFor();
    await L.dialogButton(page, '确定').click();
    await page.locator('#ok:not([disabled])').waitFor();
    assert.match(page.url(), /\/confirm\.html$/);
  });

  pageTest('wrong_step: the message, then the page the session stands at', 'confirm.html', {
    'GET session': (req, calls) => sess({ step: only(calls, 'GET session').length > 1 ? 'face' : 'confirm' }),
    'POST confirm': fail(409, 'wrong_step', '请先完成人脸识别认证'),
  }, async (page) => {
    await L.button(page, '确定').click();
    await page.getByRole('alertdialog').getByText('请先完成人脸识别认证').waitFor();
    await L.dialogButton(page, '确定').click();
    await page.waitForURL(/\/face\.html$/);
  });

  pageTest('a new csrf in an answer is the one the next POST carries', 'signature.html', {
    'GET session': sess({ step: 'me', logged_in: true }),
    'POST me/signature': (req, calls) => (only(calls, 'POST me/signature').length === 1
      ? fail(409, 'conflict', '请求正在处理中，请勿重复提交', { csrf: 'rotated-token' })
      : { ok: true, next: 'me' }),
  }, async (page, calls) => {
    await page.getByRole('radio', { name: '上传签名' }).check();
    await page.locator('#upload').setInputFiles({ name: 'sig.png', mimeType: 'image/png', buffer: await L.namePng(page, '刘测试') });
    await page.waitForFunction(() => document.querySelector('#preview').naturalWidth > 1);
    await L.button(page, '提交').click();
    await L.dialogButton(page, '确定').click();
    await L.button(page, '提交').click();
    await page.waitForURL(/\/me\.html$/);
    const posts = only(calls, 'POST me/signature');
    assert.deepEqual(posts.map((c) => c.headers['x-cnca-csrf']), ['csrf-token', 'rotated-token']);
    const between = calls.slice(calls.indexOf(posts[0]), calls.indexOf(posts[1]));
    assert.deepEqual(only(between, 'GET session'), [], 'asked GET session again');
  });

  /* Manual 6.7: every row, word for word, with the cause the manual gives. */
  const ROWS_67 = [
    ['申请数字证书失败，请尝试重新采集或致电 962600 咨询！', '提交用户的认证信息失败'],
    ['认证失败：“具体原因”。如有疑问，请拨打 962600。', '具体错误原因显示于“具体原因”中'],
    ['查询证书信息出现异常，请尝试重新采集或致电 962600 咨询！', '查询用户的个人证书信息时系统出现异常'],
    ['申请数字证书失败，请确认您提交的信息。如有疑问，请拨打 962600。', '修改手机号出现异常'],
    ['修改手机号码失败，请重新修改或致电 962600 咨询！', '修改手机号出现异常'],
    ['认证期间发生错误，请稍后再试！', '人脸识别后，获取用户信息失败'],
    ['系统异常，请稍后重试！', '查询用户证书是否存在时，系统出现异常'],
    ['face auth accor error', '进入人脸识别环节，系统对用户信息处理失败'],
    ['modify mobile accor error', '人脸识别通过后，修改手机失败'],
  ];
  pageTest('help: every row of manual 6.7 with its cause and what to do', 'help.html', {}, async (page) => {
    await page.locator('footer').getByText('客户服务热线: 962600').waitFor();
    const rows = await page.evaluate(() => [...document.querySelectorAll('#errors ~ dl.errs')[0].children]
      .map((d) => [d.querySelector('dt').textContent.trim(), [...d.querySelectorAll('dd')].map((x) => x.textContent)]));
    assert.deepEqual(rows.map((r) => r[0]), ROWS_67.map((r) => r[0]));
    ROWS_67.forEach(([message, cause], i) => {
      assert.ok(rows[i][1].some((dd) => dd.startsWith('原因：' + cause)), message + ': ' + rows[i][1]);
      assert.ok(rows[i][1].some((dd) => /^处理：\S/.test(dd)), message + ': no 处理');
    });
  });
}

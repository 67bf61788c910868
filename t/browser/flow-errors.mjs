/* The error paths a person meets against the real module: the real-name
 * dialog's 取消, a wrong captcha and a wrong SMS code next to their fields,
 * applying again as a holder. */
import assert from 'node:assert/strict';
import * as L from './lib.mjs';
import { enrollHolder, faceCheck, loggedIn, strokesPng, toFace } from './api-client.mjs';

/* On apply.html: p's details, 您尚未申请数字证书, 现在申请证书, then
 * apply-verify.html with p's mobile. */
async function applyToVerify(page, p) {
  await L.identityAnswer(page, p, L.NOT_APPLIED, { go: '现在申请证书', to: /\/apply-verify\.html/ });
  await page.waitForFunction((m) => document.querySelector('#mobile').value === m, p.mobile);
}

async function toVerify(page, p) {
  await page.goto(L.BASE + '/cnca/apply.html');
  await applyToVerify(page, p);
}

/* The answer to the API call `path` (e.g. 'sms') that clicking `target` makes. */
async function answerTo(page, path, target) {
  const api = (r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/cnca/api/' + path);
  const [r] = await Promise.all([page.waitForResponse(api), target.click()]);
  return { status: r.status(), body: await r.json() };
}

/* The message's box starts just under the field's (same rows, not after
 * something else) and is shown. */
async function rightBelow(page, message, field) {
  const box = await message.boundingBox();
  const input = await field.boundingBox();
  const gap = box.y - (input.y + input.height);
  assert.ok(gap >= 0 && gap < 16, `the message is not right below the field: ${gap.toFixed(1)}px between them`);
  assert.ok(box.x <= input.x && box.x + box.width >= input.x + 1, 'the message is not under the field');
}

export default function register(test) {
  L.flowTest(test, 'the real-name failure dialog: 取消 goes back to change the mobile', async (page) => {
    const p = L.person('170');
    const cap = L.captchas(page);
    await toVerify(page, p);
    await L.smsStep(page, cap, p.mobile);
    await L.button(page, '提交').click();
    await page.getByRole('alertdialog').getByText(L.NOT_REALNAME, { exact: true }).waitFor();
    await L.dialogButton(page, '取消').click();
    await page.waitForURL(/\/apply\.html/);
    await applyToVerify(page, { ...p, mobile: L.mobile('139') });
  });

  L.flowTest(test, 'a wrong captcha and a wrong SMS code show right below their fields, the right one goes on', async (page) => {
    const p = L.person('139');
    const cap = L.captchas(page);
    await toVerify(page, p);
    const answer = await cap.next();
    const captcha = page.getByRole('textbox', { name: /^图形验证码/ });
    await captcha.fill(String((+answer + 1) % 10000).padStart(4, '0'));
    const sms = await answerTo(page, 'sms', L.button(page, '获取验证码'));
    assert.deepEqual([sms.status, sms.body.error], [400, 'captcha_wrong']);
    const capErr = page.locator('#err-captcha');
    await capErr.getByText('图形验证码错误，请重新输入', { exact: true }).waitFor();
    await rightBelow(page, capErr, captcha);
    await L.screen(page, 'error-captcha-wrong');
    const code = await L.smsStep(page, cap, p.mobile, { wrongCode: true });
    const wrong = await answerTo(page, 'verify/mobile', L.button(page, '提交'));
    assert.deepEqual([wrong.status, wrong.body.error], [400, 'sms_wrong']);
    assert.ok(wrong.body.attempts_left > 0, 'attempts_left: ' + wrong.body.attempts_left);
    assert.equal(wrong.body.message, `短信验证码错误，还可尝试${wrong.body.attempts_left}次`);
    const err = page.locator('#err-sms_code');
    await err.getByText(wrong.body.message, { exact: true }).waitFor();
    await rightBelow(page, err, page.getByLabel('短信验证码'));
    assert.equal(await page.getByLabel('短信验证码').getAttribute('aria-invalid'), 'true');
    await L.screen(page, 'error-sms-wrong');
    await page.getByLabel('短信验证码').fill(code);
    assert.ok(await err.isHidden(), 'the message stays while the code is corrected');
    await L.button(page, '提交').click();
    await page.waitForURL(/\/face\.html/);
  });

  L.flowTest(test, 'applying again as a holder shows 您已取得… and leads to 我已有证书', async (page) => {
    const holder = await enrollHolder(L.person('139'));
    await page.goto(L.BASE + '/cnca/apply.html');
    await L.identityAnswer(page, holder.person, L.HAS_CERTIFICATE,
      { screenName: 'error-has-certificate', go: '我已有证书', to: /\/login\.html/ });
  });

  L.flowTest(test, 'a face check that does not pass comes back to face.html with its message; 快速验证 again', async (page) => {
    const h = await toFace(L.person('139'));
    const back = await faceCheck(h.client, strokesPng(32, 32)); /* under the sandbox's 64x64 */
    assert.match(back, /\/cnca\/face\.html\?failed=1$/);
    const s = await h.client.ok('GET', 'session');
    assert.equal(s.step, 'face');
    assert.equal(s.face.status, 'fail');
    /* manual 6.7's 认证失败 row with the sandbox gateway's reason */
    assert.equal(s.face.message, `认证失败：“人脸识别未通过”。如有疑问，请拨打 ${s.hotline}。`);
    await loggedIn(page.context(), h);
    await page.goto(back);
    await page.locator('#failed').getByText(s.face.message, { exact: true }).waitFor();
    await L.screen(page, 'error-face-failed');
    await L.faceStep(page, null);
    await page.getByText(L.spaced(h.person.mobile)).waitFor();
  });
}

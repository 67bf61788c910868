/* The error paths a person meets against the real module: the real-name
 * dialog's 取消, a wrong captcha and a wrong SMS code next to their fields,
 * applying again as a holder. */
import assert from 'node:assert/strict';
import * as L from './lib.mjs';
import { enrollHolder, faceCheck, loggedIn, strokesPng, toFace } from './api-client.mjs';

async function toVerify(page, p) {
  await page.goto(L.BASE + '/cnca/apply.html');
  await L.fillIdentity(page, p);
  await L.button(page, '提交').click();
  await L.link(page, '现在申请证书').click();
  await page.waitForURL(/\/apply-verify\.html/);
  await page.waitForFunction((m) => document.querySelector('#mobile').value === m, p.mobile);
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
    await page.getByRole('alertdialog').getByText('您的手机未能通过实名认证').waitFor();
    await L.dialogButton(page, '取消').click();
    await page.waitForURL(/\/apply\.html/);
    const other = { ...p, mobile: L.mobile('139') };
    await L.fillIdentity(page, other);
    await L.button(page, '提交').click();
    await L.link(page, '现在申请证书').click();
    await page.waitForURL(/\/apply-verify\.html/);
    await page.waitForFunction((m) => document.querySelector('#mobile').value === m, other.mobile);
  });

  L.flowTest(test, 'a wrong captcha and a wrong SMS code show right below their fields, the right one goes on', async (page) => {
    const p = L.person('139');
    const cap = L.captchas(page);
    await toVerify(page, p);
    const answer = await cap.next();
    const captcha = page.getByRole('textbox', { name: /^图形验证码/ });
    await captcha.fill(String((+answer + 1) % 10000).padStart(4, '0'));
    await L.button(page, '获取验证码').click();
    const capErr = page.locator('#err-captcha');
    await capErr.getByText(/图形验证码错误/).waitFor();
    await rightBelow(page, capErr, captcha);
    await L.screen(page, 'error-captcha-wrong');
    const code = await L.smsStep(page, cap, p.mobile, { wrongCode: true });
    await L.button(page, '提交').click();
    const err = page.locator('#err-sms_code');
    await err.getByText(/短信验证码错误/).waitFor();
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
    await L.fillIdentity(page, holder.person);
    await L.button(page, '提交').click();
    await page.getByText('您已取得上海建筑业个人数字证书，请选择“我已有证书”').waitFor();
    await L.screen(page, 'error-has-certificate');
    await L.link(page, '我已有证书').click();
    await page.waitForURL(/\/login\.html/);
  });

  L.flowTest(test, 'a face check that does not pass comes back to face.html with its message; 快速验证 again', async (page) => {
    const h = await toFace(L.person('139'));
    const back = await faceCheck(h.client, strokesPng(32, 32)); /* under the sandbox's 64x64 */
    assert.match(back, /\/cnca\/face\.html\?failed=1$/);
    const s = await h.client.ok('GET', 'session');
    assert.equal(s.step, 'face');
    assert.equal(s.face.status, 'fail');
    await loggedIn(page.context(), h);
    await page.goto(back);
    await page.locator('#failed').getByText(s.face.message, { exact: true }).waitFor();
    await L.screen(page, 'error-face-failed');
    assert.ok(s.face.message.length > 4, 'face message: ' + s.face.message);
    await L.faceStep(page, null);
    await page.getByText(L.spaced(h.person.mobile)).waitFor();
  });
}

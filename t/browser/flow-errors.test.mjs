/* The error paths a person meets against the real module: the real-name
 * dialog's 取消, a wrong SMS code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from './lib.mjs';

async function toVerify(page, p) {
  await page.goto(L.BASE + '/cnca/apply.html');
  await L.fillIdentity(page, p);
  await L.button(page, '提交').click();
  await L.link(page, '现在申请证书').click();
  await page.waitForURL(/\/apply-verify\.html/);
}

L.flowTest(test, 'the real-name failure dialog: 取消 goes back to change the mobile', async (page) => {
  const p = L.person('170');
  const cap = L.captchas(page);
  await toVerify(page, p);
  await L.smsStep(page, cap, p.mobile);
  await L.button(page, '提交').click();
  await page.getByRole('alertdialog').getByText('您的手机未能通过实名认证').waitFor();
  await L.button(page, '取消').click();
  await page.waitForURL(/\/apply\.html/);
  await L.shot(page, 'cancel-01-apply-again');
  const other = { ...p, mobile: L.mobile('139') };
  await L.fillIdentity(page, other);
  await L.button(page, '提交').click();
  await L.link(page, '现在申请证书').click();
  await page.waitForURL(/\/apply-verify\.html/);
  await page.waitForFunction((m) => document.querySelector('#mobile').value === m, other.mobile);
});

L.flowTest(test, 'a wrong SMS code shows its message next to the field, the right one goes on', async (page) => {
  const p = L.person('139');
  const cap = L.captchas(page);
  await toVerify(page, p);
  const code = await L.smsStep(page, cap, p.mobile, { wrongCode: true });
  await L.button(page, '提交').click();
  const err = page.locator('#err-sms_code');
  await err.waitFor();
  assert.match(await err.innerText(), /短信验证码错误/);
  const box = await err.boundingBox();
  const input = await page.getByLabel('短信验证码').boundingBox();
  assert.ok(box.y > input.y && box.y - (input.y + input.height) < 40, 'the message is not next to the field');
  await L.shot(page, 'sms-wrong');
  await page.getByLabel('短信验证码').fill(code);
  await L.button(page, '提交').click();
  await page.waitForURL(/\/face\.html/);
});

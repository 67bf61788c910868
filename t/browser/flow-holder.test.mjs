/* Manual section 4 against the real module: holder login, no certificate,
 * phone change, a new signature by upload. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from './lib.mjs';

async function logout(page) {
  await L.button(page, '退出').click();
  await page.waitForURL(/\/index\.html/);
}

L.flowTest(test, 'manual 4: a holder logs out and logs in with the verified mobile', async (page) => {
  const p = L.person('139');
  await L.enroll(page, p, { prefix: 'login-enroll', signature: 'upload' });
  await logout(page);
  const cap = L.captchas(page);
  await L.link(page, '我已有证书').click();
  await page.waitForURL(/\/login\.html/);
  await L.fillIdentity(page, p);
  await L.shot(page, 'login-01-form');
  await L.button(page, '提交').click();
  await page.waitForURL(/\/apply-verify\.html/);
  await page.waitForFunction((m) => document.querySelector('#mobile').value === m, p.mobile);
  await L.smsStep(page, cap, p.mobile, { shotName: 'login-02-verify' });
  await L.button(page, '提交').click();
  const me = await L.checkMe(page, p, 'login-03');
  assert.ok(me.mobile.endsWith(p.mobile.slice(-4)));
});

L.flowTest(test, 'manual 4: login without a certificate shows 您尚未申请数字证书', async (page) => {
  await page.goto(L.BASE + '/cnca/login.html');
  await L.fillIdentity(page, L.person('139'));
  await L.button(page, '提交').click();
  await page.getByText('您尚未申请数字证书').waitFor();
  await L.shot(page, 'login-no-certificate');
  await L.link(page, '现在申请证书').click();
  await page.waitForURL(/\/apply\.html/);
});

L.flowTest(test, 'manual 4 (2): change the mobile to a new real-name mobile', async (page) => {
  const p = L.person('139');
  await L.enroll(page, p, { prefix: 'mobile-enroll', signature: 'upload' });
  let fresh;
  do fresh = L.mobile('139'); while (fresh.slice(-4) === p.mobile.slice(-4));
  const cap = L.captchas(page);
  await L.link(page, '修改手机号码').click();
  await page.waitForURL(/\/mobile\.html/);
  await page.getByLabel('新手机号码').fill(fresh);
  await L.shot(page, 'mobile-01-new');
  await L.button(page, '提交').click();
  await page.waitForURL(/\/apply-verify\.html/);
  await page.waitForFunction((m) => document.querySelector('#mobile').value === m, fresh);
  await L.smsStep(page, cap, fresh, { shotName: 'mobile-02-verify' });
  await L.button(page, '提交').click();
  const me = await L.checkMe(page, p, 'mobile-03');
  assert.ok(me.mobile.endsWith(fresh.slice(-4)), 'mobile not changed: ' + me.mobile);
});

L.flowTest(test, 'manual 4 (1): a holder sets a new signature by upload', async (page) => {
  const p = L.person('139');
  await L.enroll(page, p, { prefix: 'sig-enroll', signature: 'handwrite' });
  await L.link(page, '修改签名图片').click();
  await L.setSignature(page, 'upload', 'sig-01', p);
  await L.checkMe(page, p, 'sig-02');
});

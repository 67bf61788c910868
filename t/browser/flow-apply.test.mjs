/* Manual 3.1 and 3.2 against the real module in sandbox mode
 * (CNCA_BASE_URL); skipped with the reason when the API is not there. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as L from './lib.mjs';

const NOT_REALNAME = '您的手机未能通过实名认证，请点击“确定”进行银行卡认证，若更换其他手机，请点击“取消”';
const PASSED = '您已通过银行卡认证，确认使用你银行卡开户时预留在银行的手机号码作为申领数字证书手机号码';
const spaced = (m) => m.replace(/^(\d{3})(\d{4})(\d{4})$/, '$1 $2 $3');

L.flowTest(test, 'manual 3.1: real-name mobile, face, handwritten signature, information page', async (page) => {
  const p = L.person('139');
  const me = await L.enroll(page, p, { prefix: 'flow31', signature: 'handwrite' });
  assert.equal(me.name, p.name);
  assert.ok(me.id.startsWith(p.id_number.slice(0, 2)) && me.id.includes('*'), 'ID not masked: ' + me.id);
  assert.ok(me.mobile.endsWith(p.mobile.slice(-4)) && !me.mobile.includes(p.mobile), 'mobile: ' + me.mobile);
  assert.match(me.serial, /\S{8,}/);
  assert.match(me.from, /^\d{4}-\d{2}-\d{2}$/);
  assert.match(me.to, /^\d{4}-\d{2}-\d{2}$/);
});

L.flowTest(test, 'manual 3.2: non-real-name mobile, bank card, face, uploaded signature', async (page) => {
  const p = L.person('170');
  const bankMobile = L.mobile('139');
  const cap = L.captchas(page);
  await page.goto(L.BASE + '/cnca/index.html');
  await L.link(page, '新申请证书').click();
  await L.fillIdentity(page, p);
  await L.button(page, '提交').click();
  await page.getByText('您尚未申请数字证书').waitFor();
  await L.link(page, '现在申请证书').click();
  await page.waitForURL(/\/apply-verify\.html/);
  await L.smsStep(page, cap, p.mobile, { shotName: 'flow32-04-verify' });
  await L.button(page, '提交').click();
  await page.getByRole('alertdialog').getByText(NOT_REALNAME).waitFor();
  await L.shot(page, 'flow32-05-not-realname');
  await L.button(page, '确定').click();
  await page.waitForURL(/\/bank\.html/);
  await page.getByLabel('银行卡号').fill(L.cardNumber());
  await page.getByLabel('手机号码').fill(bankMobile);
  await L.smsStep(page, cap, bankMobile, { shotName: 'flow32-06-bank' });
  await L.button(page, '提交').click();
  await page.getByRole('alertdialog').getByText(PASSED).waitFor();
  await L.shot(page, 'flow32-07-bank-passed');
  await L.button(page, '确定').click();
  await L.faceStep(page, 'flow32-08');
  await page.getByText(spaced(bankMobile)).waitFor();
  await L.shot(page, 'flow32-09-confirm');
  await L.button(page, '确定').click();
  await page.getByText('您的证书申请已受理，证书正在签发中。请设置您的个性签名图片').waitFor();
  await page.getByRole('alertdialog').getByRole('button', { name: '确定' }).click();
  await L.setSignature(page, 'upload', 'flow32-10', p);
  await page.waitForURL(/\/terms\.html/);
  await L.shot(page, 'flow32-11-terms');
  await L.link(page, '查看个人信息').click();
  const me = await L.checkMe(page, p, 'flow32-12');
  assert.ok(me.mobile.endsWith(bankMobile.slice(-4)), 'the certificate mobile is the bank-reserved one: ' + me.mobile);
});

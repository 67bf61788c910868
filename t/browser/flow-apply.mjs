/* Manual 3.1 and 3.2 in the browser against the real module in sandbox
 * mode (CNCA_BASE_URL), photographing every screen; skipped with the reason
 * when the API is not there. */
import assert from 'node:assert/strict';
import * as L from './lib.mjs';


export default function register(test) {
  L.flowTest(test, 'manual 3.1: real-name mobile, face, handwritten signature, information page', async (page) => {
    const p = L.person('139', '王');
    const cap = L.captchas(page);
    await page.goto(L.BASE + '/cnca/index.html');
    await L.screen(page, '3.1-01-index');
    await L.link(page, '新申请证书').click();
    await page.waitForURL(/\/apply\.html/);
    await L.identityAnswer(page, p, L.NOT_APPLIED, { filled: '3.1-02-apply', screenName: '3.1-03-not-applied',
      go: '现在申请证书', to: /\/apply-verify\.html/ });
    await page.waitForFunction((m) => document.querySelector('#mobile').value === m, p.mobile);
    await L.smsStep(page, cap, p.mobile, { screenName: '3.1-04-verify' });
    await L.button(page, '提交').click();
    await L.faceStep(page, '3.1-05');
    await page.getByText(L.spaced(p.mobile)).waitFor();
    await L.screen(page, '3.1-06-confirm');
    await L.button(page, '确定').click();
    await page.getByRole('alertdialog').getByText(L.ACCEPTED, { exact: true }).waitFor();
    await L.screen(page, '3.1-07-accepted');
    await L.dialogButton(page, '确定').click();
    await L.setSignature(page, 'handwrite', p,
      { page: '3.1-08-1-handwrite', pad: '3.1-08-1-pad', set: '3.1-08-1-saved' });
    await page.waitForURL(/\/terms\.html/);
    await L.screen(page, '3.1-09-terms');
    await L.link(page, '查看个人信息').click();
    const me = await L.checkMe(page, p, '3.1-10-me');
    assert.equal(me.name, p.name);
    assert.equal(me.id, L.maskedId(p.id_number));
    assert.equal(me.mobile, L.maskedMobile(p.mobile));
    assert.match(me.serial, /\S{8,}/);
    assert.match(me.from, /^\d{4}-\d{2}-\d{2}$/);
    assert.match(me.to, /^\d{4}-\d{2}-\d{2}$/);
    for (const b of ['修改签名图片', '修改手机号码']) assert.ok(await L.link(page, b).isVisible(), b);
  });

  L.flowTest(test, 'manual 3.2: non-real-name mobile, bank card, face, uploaded signature', async (page) => {
    const p = L.person('170');
    const bankMobile = L.mobile('139');
    const cap = L.captchas(page);
    await page.goto(L.BASE + '/cnca/index.html');
    await L.link(page, '新申请证书').click();
    await L.identityAnswer(page, p, L.NOT_APPLIED, { go: '现在申请证书', to: /\/apply-verify\.html/ });
    await L.smsStep(page, cap, p.mobile);
    await L.button(page, '提交').click();
    await page.getByRole('alertdialog').getByText(L.NOT_REALNAME, { exact: true }).waitFor();
    await L.screen(page, '3.2-05-not-realname');
    await L.dialogButton(page, '确定').click();
    await page.waitForURL(/\/bank\.html/);
    await page.getByLabel('银行卡号').fill(L.cardNumber());
    await page.getByLabel('手机号码').fill(bankMobile);
    await L.smsStep(page, cap, bankMobile, { screenName: '3.2-06-bank' });
    await L.button(page, '提交').click();
    await page.getByRole('alertdialog').getByText(L.BANK_PASSED, { exact: true }).waitFor();
    await L.screen(page, '3.2-06-bank-passed');
    await L.dialogButton(page, '确定').click();
    await L.faceStep(page, null);
    await page.getByText(L.spaced(bankMobile)).waitFor();
    await L.screen(page, '3.2-08-confirm');
    await L.button(page, '确定').click();
    await page.getByRole('alertdialog').getByText(L.ACCEPTED, { exact: true }).waitFor();
    await L.dialogButton(page, '确定').click();
    await L.setSignature(page, 'upload', p, { set: '3.1-08-2-upload' });
    await page.waitForURL(/\/terms\.html/);
    await L.link(page, '查看个人信息').click();
    const me = await L.checkMe(page, p, '3.2-12-me');
    assert.equal(me.mobile, L.maskedMobile(bankMobile), 'the certificate mobile is the bank-reserved one');
  });
}

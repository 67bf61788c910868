/* Manual section 4 in the browser against the real module: holder login,
 * no certificate, phone changes, a new signature. The holders are enrolled
 * through the API (api-client.mjs; manual 3.1 itself is walked through in
 * flow-apply.mjs) and their session handed to the browser. */
import assert from 'node:assert/strict';
import * as L from './lib.mjs';
import { enrollHolder, loggedIn } from './api-client.mjs';


/* A holder, logged in, on me.html. */
async function asHolder(page, holder) {
  await loggedIn(page.context(), holder);
  await page.goto(L.BASE + '/cnca/me.html');
  return L.checkMe(page, holder.person);
}

/* A number other than m, with other last four digits (the masked mobile
 * must tell them apart). */
function another(prefix, m) {
  let fresh;
  do fresh = L.mobile(prefix); while (fresh.slice(-4) === m.slice(-4));
  return fresh;
}

export default function register(test) {
  /* The login sends a second code to the number enrollment sent one to; the
   * module keeps CNCASMSInterval (60 s) between them. This test is the first
   * to start, and its wait overlaps the other tests: while the interval
   * runs, the page shows 操作过于频繁 and counts down from retry_after, and
   * the code is asked for again when the button comes back. */
  L.flowTest(test, 'manual 4: a holder logs out and logs in with the verified mobile', async (page) => {
    const holder = await enrollHolder(L.person('139'));
    const p = holder.person;
    await asHolder(page, holder);
    await L.button(page, '退出').click();
    await page.waitForURL(/\/index\.html/);
    const cap = L.captchas(page);
    await L.link(page, '我已有证书').click();
    await page.waitForURL(/\/login\.html/);
    await L.fillIdentity(page, p);
    await L.screen(page, '4-login');
    await L.button(page, '提交').click();
    await page.waitForURL(/\/apply-verify\.html/);
    await page.waitForFunction((m) => document.querySelector('#mobile').value === m, p.mobile);
    let limited = null;
    const early = Date.now() - holder.smsAt < 50000;
    await L.smsStep(page, cap, p.mobile, { screenName: '4-login-verify',
      on429: async (pg, body) => { limited = body; } });
    assert.ok(limited || !early, 'a second code to the number within the interval was not refused');
    if (limited) {
      assert.equal(limited.error, 'too_many_requests');
      assert.ok(limited.retry_after > 0 && limited.retry_after <= 60, 'retry_after: ' + limited.retry_after);
    }
    await L.button(page, '提交').click();
    const me = await L.checkMe(page, p, '4-me');
    assert.equal(me.mobile, L.maskedMobile(p.mobile));
  }, { timeout: 180000 });

  L.flowTest(test, 'manual 4: login without a certificate shows 您尚未申请数字证书', async (page) => {
    await page.goto(L.BASE + '/cnca/login.html');
    await L.identityAnswer(page, L.person('139'), L.NOT_APPLIED,
      { screenName: '4-no-certificate', go: '现在申请证书', to: /\/apply\.html/ });
  });

  L.flowTest(test, 'manual 4 (2): change the mobile to a new real-name mobile', async (page) => {
    const holder = await enrollHolder(L.person('139'));
    await asHolder(page, holder);
    const fresh = another('139', holder.person.mobile);
    const cap = L.captchas(page);
    await L.link(page, '修改手机号码').click();
    await page.waitForURL(/\/mobile\.html/);
    await page.getByLabel('新手机号码').fill(fresh);
    await L.screen(page, '4-2-mobile');
    await L.button(page, '提交').click();
    await page.waitForURL(/\/apply-verify\.html/);
    await page.waitForFunction((m) => document.querySelector('#mobile').value === m, fresh);
    await page.getByRole('heading', { name: '修改手机号码' }).waitFor();
    await L.smsStep(page, cap, fresh, { screenName: '4-2-verify' });
    await L.button(page, '提交').click();
    const me = await L.checkMe(page, holder.person, '4-2-me');
    assert.equal(me.mobile, L.maskedMobile(fresh), 'mobile not changed');
  });

  L.flowTest(test, 'manual 4 (2): a non-real-name new mobile goes through bank card, face and confirm', async (page) => {
    const holder = await enrollHolder(L.person('139'));
    await asHolder(page, holder);
    const fresh = another('170', holder.person.mobile);
    const bankMobile = another('139', holder.person.mobile);
    const cap = L.captchas(page);
    await L.link(page, '修改手机号码').click();
    await page.getByLabel('新手机号码').fill(fresh);
    await L.button(page, '提交').click();
    await page.waitForURL(/\/apply-verify\.html/);
    await L.smsStep(page, cap, fresh);
    await L.button(page, '提交').click();
    await page.getByRole('alertdialog').getByText(L.NOT_REALNAME, { exact: true }).waitFor();
    await L.dialogButton(page, '确定').click();
    await page.waitForURL(/\/bank\.html/);
    await page.getByRole('heading', { name: '修改手机号码' }).waitFor();
    await page.getByLabel('银行卡号').fill(L.cardNumber());
    await page.getByLabel('手机号码').fill(bankMobile);
    await L.smsStep(page, cap, bankMobile, { screenName: '4-2-bank' });
    await L.button(page, '提交').click();
    await page.getByRole('alertdialog').getByText(L.BANK_PASSED, { exact: true }).waitFor();
    await L.dialogButton(page, '确定').click();
    await L.faceStep(page, null);
    await page.getByText(L.spaced(bankMobile)).waitFor();
    await L.button(page, '确定').click();
    const me = await L.checkMe(page, holder.person);
    assert.equal(me.mobile, L.maskedMobile(bankMobile), 'the new mobile is the bank-reserved one');
  });

  L.flowTest(test, 'manual 4 (1): a holder sets a new signature by photo (拍摄签名)', async (page) => {
    const holder = await enrollHolder(L.person('139'));
    const old = (await holder.client.call('GET', 'me/signature.png')).raw;
    await asHolder(page, holder);
    await L.link(page, '修改签名图片').click();
    await L.setSignature(page, 'photo', holder.person, { page: '4-1-signature', set: '3.1-08-3-photo' });
    await L.checkMe(page, holder.person);
    const now = (await holder.client.call('GET', 'me/signature.png')).raw;
    assert.ok(Buffer.isBuffer(now) && now.length > 100 && !now.equals(old), 'the signature did not change');
  });
}

/* 银行卡认证 (manual 3.2 step 6): card + bank-reserved mobile + SMS code;
 * the reserved mobile becomes the certificate mobile. */
(function () {
  'use strict';
  var $ = CNCA.$, form = $('#f'), sms = CNCA.smsBlock(form);
  var PASSED = '您已通过银行卡认证，确认使用你银行卡开户时预留在银行的手机号码作为申领数字证书手机号码';

  CNCA.onSubmit(form, ['card_number', 'mobile', 'sms_code', 'agree'], async function (v) {
    var r = await CNCA.api('POST', 'api/verify/bank', v);
    if (!r.ok) return CNCA.showError(form, r);
    await CNCA.dialog(r.message || PASSED);
    return CNCA.go(r.next || 'face');
  });

  CNCA.start(function (s) { return s.step === 'bank'; }).then(function (s) {
    if (s && s.flow === 'change-mobile') $('#title').textContent = '修改手机号码';
    sms.load();
  });
}());

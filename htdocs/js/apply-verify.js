/* 手机号码 / 图形验证码 / 短信验证码 / 使用条款 (manual 3.1 step 4): proves
 * the flow's mobile. Not real-name: the dialog offers the bank card. */
(function () {
  'use strict';
  var $ = CNCA.$, form = $('#f'), sms = CNCA.smsBlock(form), flow = null;
  var BACK = { apply: 'apply', login: 'login', 'change-mobile': 'mobile' };
  var NOT_REALNAME = '您的手机未能通过实名认证，请点击“确定”进行银行卡认证，若更换其他手机，请点击“取消”';

  CNCA.onSubmit(form, ['sms_code', 'agree'], async function (v) {
    var r = await CNCA.api('POST', 'api/verify/mobile', { sms_code: v.sms_code, agree: true });
    if (!r.ok) return CNCA.showError(form, r);
    if (r.realname === false) {
      var to = await CNCA.dialog(r.message || NOT_REALNAME,
        [{ text: '确定', value: r.next || 'bank', primary: true }, { text: '取消', value: BACK[flow] || 'apply' }]);
      return CNCA.go(to);
    }
    return CNCA.go(r.next || 'face');
  });

  CNCA.start(function (s) { return s.step === 'apply-verify'; }).then(function (s) {
    if (s) {
      flow = s.flow;
      form.elements.mobile.value = s.mobile || '';
      if (flow === 'change-mobile') $('#title').textContent = '修改手机号码';
    }
    sms.load();
  });
}());

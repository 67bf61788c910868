/* 请再次确认你个人数字证书的验证手机 (manual 3.1 steps 6-7): POST api/confirm
 * issues the certificate (apply) or sets the new mobile (login, change). */
(function () {
  'use strict';
  var $ = CNCA.$, btn = $('#ok'), mobile = '';
  var ACCEPTED = '您的证书申请已受理，证书正在签发中。请设置您的个性签名图片';

  btn.addEventListener('click', function () {
    CNCA.busy(btn, async function () {
      var r = await CNCA.api('POST', 'api/confirm', { mobile: mobile });
      if (!r.ok) return CNCA.showError(null, r);
      if (r.next === 'signature') await CNCA.dialog(r.message || ACCEPTED);
      return CNCA.go(r.next || 'me');
    });
  });

  CNCA.start(function (s) { return s.step === 'confirm'; }).then(function (s) {
    if (!s) return;
    mobile = s.mobile || '';
    $('#mobile').textContent = mobile.replace(/^(\d{3})(\d{4})(\d{4})$/, '$1 $2 $3');
    if (s.flow !== 'apply') $('#note').textContent = '确认后，该手机号码将作为您个人数字证书的验证手机。';
  });
}());

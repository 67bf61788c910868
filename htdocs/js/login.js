/* 我已有证书 (manual 4): POST api/login, then the SMS step; a person with
 * no certificate sees 您尚未申请数字证书 and a way to apply. */
(function () {
  'use strict';
  var form = CNCA.$('#f'), showResult = CNCA.resultBox(form);

  CNCA.onSubmit(form, ['name', 'id_number', 'mobile'], async function (v) {
    var r = await CNCA.api('POST', 'api/login', v);
    if (r.ok) return CNCA.go(r.next || 'apply-verify');
    if (r.error === 'no_certificate') return showResult(r.message || '您尚未申请数字证书');
    return CNCA.showError(form, r);
  });

  CNCA.start(null);
}());

/* Identity entry for a new certificate (manual 3.1 steps 2-3):
 * POST api/apply, then 您尚未申请数字证书 with its three buttons. */
(function () {
  'use strict';
  var $ = CNCA.$, form = $('#f'), showResult = CNCA.resultBox(form);

  function show(has, message) {
    $('#new-actions').hidden = has;
    $('#has-actions').hidden = !has;
    showResult(message);
  }

  CNCA.onSubmit(form, ['name', 'id_number', 'mobile'], async function (v) {
    var r = await CNCA.api('POST', 'api/apply', v);
    if (r.ok) return show(false, '您尚未申请数字证书');
    if (r.error === 'has_certificate') return show(true, r.message);
    return CNCA.showError(form, r);
  });

  CNCA.start(null);
}());

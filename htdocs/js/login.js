/* 我已有证书 (manual 4): POST api/login, then the SMS step; a person with
 * no certificate sees 您尚未申请数字证书 and a way to apply. */
(function () {
  'use strict';
  var $ = CNCA.$, form = $('#f'), result = $('#result');

  function lock(on) {
    Array.prototype.forEach.call(form.elements, function (i) { i.readOnly = on; });
    $('#submit-box').hidden = on;
    result.hidden = !on;
  }

  result.addEventListener('click', function (e) {
    if (e.target.getAttribute('data-action') !== 'again') return;
    form.reset();
    CNCA.clearErrors(form);
    lock(false);
    form.elements.name.focus();
  });

  CNCA.onSubmit(form, ['name', 'id_number', 'mobile'], async function (v) {
    var r = await CNCA.api('POST', 'api/login', v);
    if (r.ok) return CNCA.go(r.next || 'apply-verify');
    if (r.error === 'no_certificate') {
      $('#result-msg').textContent = r.message || '您尚未申请数字证书';
      lock(true);
      return result.querySelector('.btn').focus();
    }
    return CNCA.showError(form, r);
  });

  CNCA.start(null);
}());

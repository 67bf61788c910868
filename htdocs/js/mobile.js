/* 修改手机号码 (manual 4 (2)): the new mobile, then the same SMS, bank and
 * face steps as applying. */
(function () {
  'use strict';
  var form = CNCA.$('#f');

  CNCA.onSubmit(form, ['mobile'], async function (v) {
    var r = await CNCA.api('POST', 'api/me/mobile', { mobile: v.mobile });
    if (!r.ok) return CNCA.showError(form, r);
    return CNCA.go(r.next || 'apply-verify');
  });

  CNCA.start(function (s) { return s.logged_in; });
}());

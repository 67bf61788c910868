/* 实名核身 (manual 3.1 step 5): 快速验证 goes to the gateway's face page;
 * it comes back here with ?failed=1 when the check did not pass. */
(function () {
  'use strict';
  var $ = CNCA.$, btn = $('#start');

  btn.addEventListener('click', function () {
    CNCA.busy(btn, async function () {
      var r = await CNCA.api('POST', 'api/face/start');
      if (!r.ok || !r.redirect) return CNCA.showError(null, r);
      CNCA.loading('正在进入人脸识别，请稍候');
      return CNCA.goUrl(r.redirect);
    });
  });

  CNCA.start(function (s) { return s.step === 'face'; }).then(function (s) {
    if (!s || !/[?&]failed=1(&|$)/.test(location.search)) return;
    var box = $('#failed');
    box.textContent = (s.face && s.face.message) || '人脸识别认证未通过，请重新验证。';
    box.hidden = false;
  });
}());

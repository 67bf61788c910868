/* 人脸识别认证成功 / 下一步 (manual 3.1 step 5 (4)-(5)). */
(function () {
  'use strict';
  var btn = CNCA.$('#next');

  function allowed(s) {
    return (s.face && s.face.status === 'pass') || s.step === 'confirm';
  }

  btn.addEventListener('click', function () {
    CNCA.busy(btn, async function () {
      var close = CNCA.loading('系统处理中，请耐心等待，不要点击手机回退键');
      var s = await CNCA.api('GET', 'api/session');
      if (s.ok) return CNCA.go(s.step === 'face' ? 'face' : 'confirm', true);
      close();
      return CNCA.showError(null, s);
    });
  });

  CNCA.start(allowed);
}());

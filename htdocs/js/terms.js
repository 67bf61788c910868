/* 证书使用条款告知 (manual 3.1 step 9), then 查看个人信息. */
(function () {
  'use strict';
  CNCA.start(function (s) { return s.step === 'terms' || s.logged_in; });
}());

/* 个人用户在线证书申请: 新申请证书 / 我已有证书. */
(function () {
  'use strict';
  CNCA.start(null).then(function (s) {
    if (s && s.logged_in) CNCA.$('#me-link').hidden = false;
  });
}());

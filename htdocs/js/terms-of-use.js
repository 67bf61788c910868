/* 使用条款: an operator may replace the HTML; 返回 goes back to the form. */
(function () {
  'use strict';
  CNCA.$('#back').addEventListener('click', function () {
    if (history.length > 1) history.back();
    else CNCA.go('index');
  });
  CNCA.start(null);
}());

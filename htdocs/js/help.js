/* 常见问题 (manual 6): static text; the session only fills the hotline. */
(function () {
  'use strict';
  CNCA.start(null);
}());

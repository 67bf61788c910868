/* 个人用户信息 (manual 3.1 steps 10-11, 4): GET api/me; 修改签名图片,
 * 修改手机号码, 退出. */
(function () {
  'use strict';
  var $ = CNCA.$, img = $('#v-sig'), logout = $('#logout');

  function day(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return iso || '';
    function two(n) { return (n < 10 ? '0' : '') + n; }
    return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate());
  }

  function text(id, v) { $(id).textContent = v || ''; }

  img.addEventListener('error', function () {
    img.hidden = true;
    $('#v-nosig').hidden = false;
  });

  logout.addEventListener('click', function () {
    CNCA.busy(logout, async function () {
      var r = await CNCA.api('POST', 'api/logout');
      if (!r.ok) return CNCA.showError(null, r);
      return CNCA.go(r.next || 'index', true);
    });
  });

  CNCA.start(function (s) { return s.logged_in; }).then(async function (s) {
    if (!s) return;
    var r = await CNCA.api('GET', 'api/me');
    if (!r.ok) return CNCA.showError(null, r);
    var c = r.certificate || {};
    text('#v-name', r.name);
    text('#v-id', r.id_number);
    text('#v-mobile', r.mobile);
    text('#v-serial', c.serial);
    text('#v-from', day(c.not_before));
    text('#v-to', day(c.not_after));
    if (!r.certificate) text('#status', '您的证书申请已受理，证书正在签发中。');
    if (r.has_signature) {
      img.src = 'api/me/signature.png?t=' + Date.now();
      img.hidden = false;
      $('#v-nosig').hidden = true;
    }
  });
}());

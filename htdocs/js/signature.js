/* 设置个性签名图片 (manual 3.1 step 8): handwriting on a full-screen
 * signature_pad canvas, a chosen file, or a camera photo; POSTed raw to
 * api/me/signature?source=handwrite|upload|photo. */
(function () {
  'use strict';
  var $ = CNCA.$, form = $('#f'), preview = $('#preview');
  var box = $('#pad'), canvas = $('#canvas'), pad = null, image = null;
  var MAX_SIDE = 1600, MAX_BYTES = 2000000, SIG_MAX_W = 800, SIG_MAX_H = 400;

  function setImage(blob, source) {
    if (preview.src.indexOf('blob:') === 0) URL.revokeObjectURL(preview.src);
    image = blob ? { blob: blob, source: source } : null;
    preview.hidden = !blob;
    if (blob) preview.src = URL.createObjectURL(blob);
    CNCA.clearErrors(form);
  }

  function toBlob(c, type, quality) {
    return new Promise(function (resolve, reject) {
      c.toBlob(function (b) { if (b) resolve(b); else reject(new Error('toBlob')); }, type, quality);
    });
  }

  form.addEventListener('change', function (e) {
    if (e.target.name !== 'source') return;
    Array.prototype.forEach.call(form.querySelectorAll('[data-mode]'), function (d) {
      d.hidden = d.getAttribute('data-mode') !== e.target.value;
    });
    setImage(null);
  });

  /* ---- handwriting ---- */

  function fit() {
    var ratio = Math.max(window.devicePixelRatio || 1, 1), data = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext('2d').scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }

  function closePad() {
    box.hidden = true;
    document.documentElement.classList.remove('pad-open');
  }

  /* The drawn strokes cut out of the canvas with a small margin, as PNG, no
   * larger than the server keeps a signature (CNCA_SIGNATURE_MAX_WIDTH x
   * _HEIGHT in mod_cnca/cnca_image.h): the browser scales it for nothing,
   * the server would resample it (BENCHMARKS.md: a 900x360 upload costs the
   * server 20 ms of CPU, the same strokes at 800x320 8 ms). */
  function trimmed() {
    var ratio = canvas.width / canvas.offsetWidth, m = 12;
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    pad.toData().forEach(function (stroke) {
      stroke.points.forEach(function (p) {
        x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y);
        x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y);
      });
    });
    x0 = Math.max(0, x0 - m); y0 = Math.max(0, y0 - m);
    x1 = Math.min(canvas.offsetWidth, x1 + m); y1 = Math.min(canvas.offsetHeight, y1 + m);
    var out = document.createElement('canvas'), ctx;
    var w = Math.max(1, (x1 - x0) * ratio), h = Math.max(1, (y1 - y0) * ratio);
    var s = Math.min(1, SIG_MAX_W / w, SIG_MAX_H / h);
    out.width = Math.max(1, Math.round(w * s));
    out.height = Math.max(1, Math.round(h * s));
    ctx = out.getContext('2d');
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(canvas, x0 * ratio, y0 * ratio, w, h, 0, 0, out.width, out.height);
    return toBlob(out, 'image/png');
  }

  $('#open-pad').addEventListener('click', function () {
    if (typeof window.SignaturePad !== 'function') {
      CNCA.dialog('手写签名组件未能加载，请刷新页面或选择“上传签名”。');
      return;
    }
    if (!pad) pad = new window.SignaturePad(canvas, { penColor: '#000', minWidth: 1.2, maxWidth: 4 });
    box.hidden = false;
    document.documentElement.classList.add('pad-open');
    pad.clear();
    fit();
  });
  $('#pad-cancel').addEventListener('click', closePad);
  $('#pad-clear').addEventListener('click', function () { pad.clear(); });
  $('#pad-save').addEventListener('click', async function () {
    if (pad.isEmpty()) return void CNCA.dialog('请先在屏幕上手写您的全名');
    var blob = await trimmed();
    closePad();
    setImage(blob, 'handwrite');
  });
  window.addEventListener('resize', function () { if (pad && !box.hidden) fit(); });

  /* ---- upload and photo ---- */

  /* The file as it is when it is a PNG or JPEG of sensible size; otherwise
   * redrawn (scaled down, upright) as JPEG, or PNG for a PNG. */
  function prepare(file) {
    return new Promise(function (resolve, reject) {
      var src = URL.createObjectURL(file), img = new Image();
      img.addEventListener('error', function () { URL.revokeObjectURL(src); reject(new Error('decode')); });
      img.addEventListener('load', function () {
        URL.revokeObjectURL(src);
        var side = Math.max(img.naturalWidth, img.naturalHeight);
        var png = file.type === 'image/png';
        if ((png || file.type === 'image/jpeg') && side <= MAX_SIDE && file.size <= MAX_BYTES) return resolve(file);
        var s = Math.min(1, MAX_SIDE / side), c = document.createElement('canvas');
        c.width = Math.round(img.naturalWidth * s);
        c.height = Math.round(img.naturalHeight * s);
        c.getContext('2d').drawImage(img, 0, 0, c.width, c.height);
        return resolve(toBlob(c, png ? 'image/png' : 'image/jpeg', 0.85));
      });
      img.src = src;
    });
  }

  function onFile(input, source) {
    input.addEventListener('change', async function () {
      var f = input.files && input.files[0];
      if (!f) return;
      if (source === 'upload') $('#upload-name').textContent = f.name;
      try {
        setImage(await prepare(f), source);
      } catch (e) {
        setImage(null);
        CNCA.fieldError(form, 'image', '无法读取该图片，请选择 JPG 或 PNG 格式的图片');
      }
      input.value = '';
    });
  }
  onFile($('#upload'), 'upload');
  onFile($('#photo'), 'photo');

  CNCA.onSubmit(form, [], async function () {
    if (!image) return void CNCA.fieldError(form, 'image', '请先设置签名图片');
    var r = await CNCA.api('POST', 'api/me/signature?source=' + image.source, image.blob,
      image.blob.type || 'image/png');
    if (!r.ok) return CNCA.showError(form, r);
    return CNCA.go(r.next || 'me');
  });

  CNCA.start(function (s) { return s.step === 'signature' || s.logged_in; });
}());

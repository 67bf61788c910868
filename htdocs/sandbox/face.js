/* The sandbox's face page: "快速验证" opens the front camera (or, where
 * getUserMedia is missing or refused, the phone's camera through a file
 * input), one capture is uploaded to face/capture?token=T, and "下一步"
 * goes to the redirect the sandbox answers (the module's return URL). */
(function () {
  'use strict';

  var MAX_SIDE = 1280; /* captures are scaled down to this before upload */
  var token = new URLSearchParams(window.location.search).get('token') || '';
  var stream = null;
  var redirect = null;

  function $(id) { return document.getElementById(id); }

  function show(id) {
    ['intro', 'camera', 'picker', 'busy', 'done'].forEach(function (s) {
      $(s).hidden = s !== id;
    });
  }

  function stopCamera() {
    if (stream) {
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }
    $('video').srcObject = null;
  }

  function showPicker(hint) {
    stopCamera();
    if (hint) { $('picker-hint').textContent = hint; }
    show('picker');
  }

  function finish(result) {
    var pass = result && result.result === 'pass';
    redirect = result && typeof result.redirect === 'string' &&
      /^https?:\/\//i.test(result.redirect) ? result.redirect : null;
    $('done-mark').className = pass ? 'result-mark' : 'result-mark fail';
    $('done-title').textContent = pass ? '人脸识别认证成功' : '人脸识别未通过';
    $('done-message').textContent = pass ? '请点击“下一步”。'
      : (result && result.message) || '认证期间发生错误，请稍后再试！';
    $('retry').hidden = pass;
    $('next').hidden = !redirect;
    show('done');
    $(pass ? 'next' : 'retry').focus();
  }

  function upload(blob) {
    show('busy');
    fetch('face/capture?token=' + encodeURIComponent(token), {
      method: 'POST',
      body: blob,
      headers: { 'Content-Type': blob.type || 'application/octet-stream' },
      credentials: 'same-origin',
      cache: 'no-store'
    }).then(function (res) {
      return res.json();
    }).then(finish, function () {
      finish(null);
    });
  }

  /* Draws source (w x h) scaled to fit MAX_SIDE and hands back a JPEG. */
  function toJpeg(source, w, h, done) {
    var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
    var canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(w * scale));
    canvas.height = Math.max(1, Math.round(h * scale));
    canvas.getContext('2d').drawImage(source, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(done, 'image/jpeg', 0.9);
  }

  function shoot() {
    var video = $('video');
    if (!video.videoWidth || !video.videoHeight) { return; }
    $('shoot').disabled = true;
    toJpeg(video, video.videoWidth, video.videoHeight, function (blob) {
      stopCamera();
      if (blob) { upload(blob); } else { finish(null); }
    });
  }

  function startCamera() {
    var md = navigator.mediaDevices;
    if (!md || typeof md.getUserMedia !== 'function') {
      showPicker(null);
      return;
    }
    $('shoot').disabled = true;
    md.getUserMedia({ video: { facingMode: 'user' }, audio: false }).then(function (s) {
      var video = $('video');
      stream = s;
      video.srcObject = s;
      show('camera');
      var play = video.play();
      if (play && play.catch) { play.catch(function () {}); }
    }, function () {
      showPicker('无法打开摄像头（未授权或不可用）。请点击下方按钮，用前置摄像头拍摄一张本人正脸照片。');
    });
  }

  function picked() {
    var file = $('file').files && $('file').files[0];
    var url, img;
    if (!file) { return; }
    $('file').value = '';
    url = URL.createObjectURL(file);
    img = new Image();
    img.onload = function () {
      toJpeg(img, img.naturalWidth, img.naturalHeight, function (blob) {
        URL.revokeObjectURL(url);
        upload(blob || file);
      });
    };
    img.onerror = function () {
      URL.revokeObjectURL(url);
      upload(file); /* the sandbox decides what it is */
    };
    img.src = url;
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('video').addEventListener('loadedmetadata', function () {
      $('shoot').disabled = false;
    });
    $('start').addEventListener('click', startCamera);
    $('shoot').addEventListener('click', shoot);
    $('cancel').addEventListener('click', function () {
      stopCamera();
      show('intro');
    });
    $('file').addEventListener('change', picked);
    $('retry').addEventListener('click', function () {
      show('intro');
      startCamera();
    });
    $('next').addEventListener('click', function () {
      if (redirect) { window.location.assign(redirect); }
    });
    window.addEventListener('pagehide', stopCamera);
  });
})();

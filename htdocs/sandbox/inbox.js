/* The sandbox's SMS inbox: lists what GET sms[?mobile=M] returns, newest
 * first, every 3 seconds; digit runs (the codes) stand out. */
(function () {
  'use strict';

  var REFRESH_MS = 3000;
  var mobile = '';
  var timer = null;

  function $(id) { return document.getElementById(id); }

  function when(at) {
    var d = new Date(at);
    return isNaN(d.getTime()) ? String(at || '') : d.toLocaleString('zh-CN', { hour12: false });
  }

  /* The text with each run of 4 to 8 digits in <strong>, built as nodes. */
  function textNode(text) {
    var div = document.createElement('div');
    var parts = String(text || '').split(/(\d{4,8})/);
    div.className = 'sms-text';
    parts.forEach(function (part, i) {
      if (i % 2) {
        var b = document.createElement('strong');
        b.textContent = part;
        div.appendChild(b);
      } else if (part) {
        div.appendChild(document.createTextNode(part));
      }
    });
    return div;
  }

  function render(list) {
    var ol = $('list');
    while (ol.firstChild) { ol.removeChild(ol.firstChild); }
    list.forEach(function (m) {
      var li = document.createElement('li');
      var meta = document.createElement('div');
      var who = document.createElement('span');
      var at = document.createElement('time');
      meta.className = 'sms-meta';
      who.className = 'sms-mobile';
      who.textContent = m.mobile;
      at.dateTime = m.at;
      at.textContent = when(m.at);
      meta.appendChild(who);
      meta.appendChild(at);
      li.appendChild(meta);
      li.appendChild(textNode(m.text));
      ol.appendChild(li);
    });
    $('empty').hidden = list.length > 0;
  }

  function load() {
    var url = 'sms' + (mobile ? '?mobile=' + encodeURIComponent(mobile) : '');
    fetch(url, { cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
      if (!res.ok) { throw new Error('HTTP ' + res.status); }
      return res.json();
    }).then(function (list) {
      $('error').hidden = true;
      render(Array.isArray(list) ? list : []);
    }, function () {
      $('error').hidden = false;
    });
  }

  function restart() {
    if (timer) { clearInterval(timer); }
    load();
    timer = setInterval(load, REFRESH_MS);
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('filter').addEventListener('submit', function (ev) {
      ev.preventDefault();
      mobile = $('mobile').value.replace(/\D/g, '');
      restart();
    });
    restart();
  });
})();

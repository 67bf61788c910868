/* Shared by every page: API calls, the route guard, dialogs, field errors,
 * the captcha/SMS block, countdowns and the footer. Pages are plain files;
 * the API lives at api/ relative to them (API.md). */
(function () {
  'use strict';

  var FALLBACK = '系统异常，请稍后重试！';
  var PAGES = ['index', 'apply', 'apply-verify', 'bank', 'face', 'face-done', 'confirm',
    'signature', 'terms', 'me', 'login', 'mobile'];
  var session = null;
  var leaving = false;
  var guard = null;
  var page = document.body.getAttribute('data-page') || '';
  var hanging = new Promise(function () {});

  function $(sel, root) { return (root || document).querySelector(sel); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  /* ---- navigation ---- */

  function url(name) { return (PAGES.indexOf(name) >= 0 ? name : 'index') + '.html'; }

  function go(name, replace) {
    leaving = true;
    if (replace) location.replace(url(name)); else location.assign(url(name));
    return hanging;
  }

  /* Leaves for another site (the gateway's face page); http(s) only. */
  function goUrl(href) {
    var u = new URL(href, location.href);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') return dialog(FALLBACK);
    leaving = true;
    location.assign(u.href);
    return hanging;
  }

  function flash(message) {
    try { sessionStorage.setItem('cnca.flash', message); } catch (e) { /* private mode */ }
  }

  /* ---- API ---- */

  async function request(method, path, body, type) {
    var opt = { method: method, credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json' } };
    if (method !== 'GET') {
      opt.headers['X-CNCA-CSRF'] = session ? session.csrf : '';
      opt.headers['Content-Type'] = type || 'application/json';
      opt.body = type ? body : JSON.stringify(body === undefined ? {} : body);
    }
    var res, data = null;
    try {
      res = await fetch(path, opt);
    } catch (e) {
      return { ok: false, error: 'network', status: 0, message: '网络异常，请检查网络后重试！' };
    }
    try { data = await res.json(); } catch (e) { data = null; }
    if (!data || typeof data !== 'object') data = { ok: false, error: 'http_' + res.status };
    /* a POST that rotates the session (login, confirm) brings the new token */
    if (session && typeof data.csrf === 'string' && data.csrf) session.csrf = data.csrf;
    data.status = res.status;
    if (!data.ok && !data.message) data.message = FALLBACK;
    return data;
  }

  async function loadSession() {
    var s = await request('GET', 'api/session');
    if (s.ok) {
      session = s;
      footer(s);
    }
    return s;
  }

  /* Calls the API. A lost session (401) sends the applicant back to the
   * start page with the message; a stale CSRF token is renewed once. */
  async function api(method, path, body, type) {
    if (method !== 'GET' && !session) await loadSession();
    var r = await request(method, path, body, type);
    if (r.status === 403 && r.error === 'csrf') {
      await loadSession();
      r = await request(method, path, body, type);
    }
    if (r.status === 401 && page !== 'index') {
      flash(r.message);
      return go('index', true);
    }
    return r;
  }

  /* Asks where the flow stands; if this page is not allowed now, goes to the
   * step the server names. Resolves with the session, or null without API. */
  async function start(allow) {
    guard = allow || null;
    var s = await loadSession();
    showFlash();
    if (!s.ok) {
      banner(s.message);
      return null;
    }
    if (allow && !allow(s)) {
      var to = PAGES.indexOf(s.step) >= 0 ? s.step : 'index';
      if (to !== page) return go(to, true);
    }
    return s;
  }

  window.addEventListener('pageshow', function (e) {
    if (!e.persisted) return;
    leaving = false;
    Array.prototype.forEach.call(document.querySelectorAll('[aria-busy="true"]'), function (b) {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    });
    if (guard) start(guard);
  });

  /* ---- messages ---- */

  function banner(message) {
    var b = $('#banner');
    if (!b) {
      b = el('p', 'banner');
      b.id = 'banner';
      b.setAttribute('role', 'alert');
      document.body.insertBefore(b, document.body.firstChild);
    }
    b.textContent = message;
  }

  function showFlash() {
    var m = null;
    try {
      m = sessionStorage.getItem('cnca.flash');
      sessionStorage.removeItem('cnca.flash');
    } catch (e) { /* private mode */ }
    if (m) dialog(m);
  }

  /* A modal dialog; buttons [{text, value, primary}] (default 确定).
   * Resolves with the value of the button tapped. */
  function dialog(message, buttons) {
    buttons = buttons || [{ text: '确定', value: 'ok', primary: true }];
    return new Promise(function (resolve) {
      var mask = el('div', 'mask');
      var box = el('div', 'dialog');
      var msg = el('p', 'dialog-msg', message);
      var row = el('div', 'dialog-btns');
      msg.id = 'dialog-msg';
      box.setAttribute('role', 'alertdialog');
      box.setAttribute('aria-modal', 'true');
      box.setAttribute('aria-describedby', msg.id);
      buttons.forEach(function (b) {
        var btn = el('button', b.primary ? 'primary' : '', b.text);
        btn.type = 'button';
        btn.addEventListener('click', function () {
          mask.remove();
          resolve(b.value);
        });
        row.appendChild(btn);
      });
      box.appendChild(msg);
      box.appendChild(row);
      mask.appendChild(box);
      document.body.appendChild(mask);
      row.firstChild.focus();
    });
  }

  /* A centred "please wait" box; returns the function that closes it. */
  function loading(text) {
    var mask = el('div', 'mask clear');
    var box = el('div', 'toast');
    box.setAttribute('role', 'status');
    box.appendChild(el('span', 'spinner'));
    box.appendChild(el('p', '', text));
    mask.appendChild(box);
    document.body.appendChild(mask);
    return function () { mask.remove(); };
  }

  /* ---- forms ---- */

  var FIELD_OF = { captcha_wrong: 'captcha', captcha_expired: 'captcha',
    sms_wrong: 'sms_code', sms_expired: 'sms_code' };

  function target(form, field) {
    return form.querySelector('[name="' + field + '"]') || form.querySelector('[data-field="' + field + '"]');
  }

  function fieldError(form, field, message) {
    var input = target(form, field);
    if (!input) return false;
    var row = input.closest('.row') || input;
    var p = document.getElementById('err-' + field);
    if (!p) {
      p = el('p', 'field-err');
      p.id = 'err-' + field;
      p.setAttribute('role', 'alert');
      row.after(p);
    }
    p.textContent = message;
    p.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', p.id);
    return true;
  }

  function clearErrors(form, field) {
    Array.prototype.forEach.call(form.querySelectorAll('.field-err'), function (p) {
      if (field && p.id !== 'err-' + field) return;
      p.hidden = true;
      var input = target(form, p.id.slice(4));
      if (input) input.removeAttribute('aria-invalid');
    });
  }

  /* Shows an API failure next to its field, or in a dialog. */
  async function showError(form, r) {
    var field = FIELD_OF[r.error] || r.field;
    var message = r.message || FALLBACK;
    if (r.error === 'sms_wrong' && typeof r.attempts_left === 'number' && message.indexOf('次') < 0) {
      message += '，还可尝试' + r.attempts_left + '次';
    }
    if (form && field && fieldError(form, field, message)) return;
    await dialog(message);
    if (r.error === 'wrong_step') await start(guard);
  }

  function idCheck(v) {
    if (!/^\d{17}[\dX]$/.test(v)) return false;
    var w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], sum = 0;
    for (var i = 0; i < 17; i++) sum += w[i] * +v[i];
    return '10X98765432'[sum % 11] === v[17];
  }

  var RULES = {
    name: [function (v) { return v.length > 0; }, '请输入姓名'],
    id_number: [idCheck, '请输入正确的18位身份证号码'],
    mobile: [function (v) { return /^1[3-9]\d{9}$/.test(v); }, '请输入正确的11位手机号码'],
    captcha: [function (v) { return /^\d{4}$/.test(v); }, '请输入四位数字图形验证码'],
    sms_code: [function (v) { return /^\d{6}$/.test(v); }, '请输入六位数字短信验证码'],
    card_number: [function (v) { return /^\d{12,19}$/.test(v); }, '请输入正确的银行卡号码'],
    agree: [function (v) { return v === true; }, '请阅读并同意使用条款']
  };

  function value(input) {
    if (input.type === 'checkbox') return input.checked;
    var v = input.value.trim();
    if (input.name === 'id_number') return v.toUpperCase();
    if (/^(mobile|card_number|captcha|sms_code)$/.test(input.name)) return v.replace(/\s+/g, '');
    return v;
  }

  /* Reads and checks the named fields; shows each problem next to its
   * field. Returns {field: value} or null. */
  function check(form, fields) {
    var out = {}, bad = null;
    clearErrors(form);
    fields.forEach(function (f) {
      var input = form.elements[f];
      var v = value(input);
      if (RULES[f] && !RULES[f][0](v)) {
        fieldError(form, f, RULES[f][1]);
        bad = bad || input;
      }
      out[f] = v;
    });
    if (bad) bad.focus();
    return bad ? null : out;
  }

  /* Runs fn with the button disabled, so nothing is sent twice. */
  async function busy(btn, fn) {
    if (btn.disabled) return undefined;
    btn.disabled = true;
    btn.setAttribute('aria-busy', 'true');
    try {
      return await fn();
    } finally {
      if (!leaving) {
        btn.removeAttribute('aria-busy');
        if (!btn.getAttribute('data-countdown')) btn.disabled = false;
      }
    }
  }

  /* Submit handler: check the fields, then run send(values) while busy. */
  function onSubmit(form, fields, send) {
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var btn = form.querySelector('[type="submit"]');
      busy(btn, function () {
        var v = check(form, fields);
        return v ? send(v) : null;
      });
    });
    form.addEventListener('input', function (e) {
      if (e.target.name) clearErrors(form, e.target.name);
    });
  }

  /* The answer box of an identity form (#result, shown in place of
   * #submit-box): returns show(message), which locks the form and shows the
   * box with the message, its first shown button focused. Its 重新输入信息
   * (data-action="again") empties the form and unlocks it. */
  function resultBox(form) {
    var box = $('#result');
    function lock(on) {
      Array.prototype.forEach.call(form.elements, function (i) { i.readOnly = on; });
      $('#submit-box').hidden = on;
      box.hidden = !on;
    }
    box.addEventListener('click', function (e) {
      if (e.target.getAttribute('data-action') !== 'again') return;
      form.reset();
      clearErrors(form);
      lock(false);
      form.elements.name.focus();
    });
    return function show(message) {
      $('#result-msg', box).textContent = message;
      lock(true);
      $('.actions:not([hidden]) .btn', box).focus();
    };
  }

  /* ---- captcha, SMS and countdown ---- */

  function countdown(btn, seconds, key) {
    var end = Date.now() + seconds * 1000;
    try { sessionStorage.setItem(key, String(end)); } catch (e) { /* private mode */ }
    tick(btn, end);
  }

  function tick(btn, end) {
    var left = Math.ceil((end - Date.now()) / 1000);
    if (left <= 0) {
      btn.removeAttribute('data-countdown');
      btn.disabled = false;
      btn.textContent = '重新获取验证码';
      return;
    }
    btn.setAttribute('data-countdown', '1');
    btn.disabled = true;
    btn.textContent = '重新获取验证码(' + (left < 10 ? '0' : '') + left + ')';
    setTimeout(function () { tick(btn, end); }, (end - Date.now()) % 1000 || 1000);
  }

  /* Wires the 图形验证码 image (tap to refresh) and the 获取验证码 button of
   * a form (the code goes to its mobile field). Call load() once the page
   * is allowed, so no captcha is made for a page that moves on. */
  function smsBlock(form) {
    var img = $('#captcha-img', form);
    var btn = $('#sms-btn', form);
    var n = 0;
    function refresh() {
      img.src = 'api/captcha?t=' + Date.now() + '.' + (++n);
      form.elements.captcha.value = '';
    }
    function key() { return 'cnca.sms.' + value(form.elements.mobile); }
    $('#captcha-btn', form).addEventListener('click', refresh);
    btn.addEventListener('click', function () {
      busy(btn, async function () {
        clearErrors(form);
        var mobile = value(form.elements.mobile);
        var captcha = value(form.elements.captcha);
        if (!RULES.mobile[0](mobile)) return void fieldError(form, 'mobile', RULES.mobile[1]);
        if (!RULES.captcha[0](captcha)) return void fieldError(form, 'captcha', RULES.captcha[1]);
        var r = await api('POST', 'api/sms', { mobile: mobile, captcha: captcha });
        refresh();
        if (r.ok) {
          countdown(btn, r.resend_after || 60, key());
          form.elements.sms_code.focus();
          return;
        }
        if (r.retry_after) countdown(btn, r.retry_after, key());
        await showError(form, r);
      });
    });
    return {
      load: function () {
        var end = 0;
        try { end = +sessionStorage.getItem(key()) || 0; } catch (e) { /* private mode */ }
        if (end > Date.now()) tick(btn, end);
        refresh();
      }
    };
  }

  /* ---- footer ---- */

  function footer(s) {
    if (s.hotline) {
      Array.prototype.forEach.call(document.querySelectorAll('.hotline'), function (a) {
        a.textContent = s.hotline;
        if (a.tagName !== 'A') return;
        a.textContent = s.hotline.replace(/-/g, '\u2011'); /* no line break inside */
        a.href = 'tel:' + s.hotline.replace(/[^\d+]/g, '');
      });
    }
    var foot = $('footer');
    if (s.sandbox && foot && !$('.sandbox', foot)) {
      var a = el('a', 'sandbox', '沙箱模式 · 短信收件箱');
      a.href = '/sandbox/';
      foot.appendChild(a);
    }
  }

  window.CNCA = {
    $: $, el: el, api: api, start: start, go: go, goUrl: goUrl, url: url, flash: flash,
    dialog: dialog, loading: loading, banner: banner,
    fieldError: fieldError, clearErrors: clearErrors, showError: showError,
    check: check, busy: busy, onSubmit: onSubmit, resultBox: resultBox, smsBlock: smsBlock,
    session: function () { return session; }
  };
}());

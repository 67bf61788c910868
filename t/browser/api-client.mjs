/* The applicant API from Node (fetch with a cookie jar), for tests that need
 * a certificate holder without walking through manual 3.1 in a browser
 * again: enrollHolder() does apply, captcha, SMS, carrier check, the
 * sandbox's face check, confirm and a signature, then loggedIn() hands the
 * holder's session to a browser context. */
import zlib from 'node:zlib';
import { BASE, smsList, smsCode } from './lib.mjs';

class ApiClient {
  constructor(base = BASE) {
    this.base = base;
    this.jar = new Map();
    this.csrf = '';
  }

  /* Keeps the cookies a response sets (and drops the ones it clears). */
  absorb(res) {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';')[0];
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      if (!value || /;\s*max-age=0\b/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  /* One request; JSON answers come back parsed with their status. A POST
   * carries the CSRF token; a new token in an answer replaces it. */
  async call(method, path, body, type) {
    const headers = { Accept: 'application/json' };
    if (this.jar.size) headers.Cookie = [...this.jar].map(([k, v]) => k + '=' + v).join('; ');
    let payload;
    if (method === 'POST') {
      headers['X-CNCA-CSRF'] = this.csrf;
      headers['Content-Type'] = type || 'application/json';
      payload = type ? body : JSON.stringify(body === undefined ? {} : body);
    }
    const url = /^https?:/.test(path) ? path : this.base + '/cnca/api/' + path;
    const res = await fetch(url, { method, headers, body: payload, redirect: 'manual' });
    this.absorb(res);
    const ct = res.headers.get('content-type') || '';
    const data = /json/.test(ct) ? await res.json() : { raw: Buffer.from(await res.arrayBuffer()) };
    data.status = res.status;
    data.headers = res.headers;
    if (typeof data.csrf === 'string') this.csrf = data.csrf;
    return data;
  }

  async ok(method, path, body, type) {
    const r = await this.call(method, path, body, type);
    if (r.status !== 200 || r.ok !== true) {
      throw new Error(method + ' ' + path + ': HTTP ' + r.status + ' ' + JSON.stringify({ ...r, headers: undefined }));
    }
    return r;
  }

  /* The cookies for a playwright context, on BASE. */
  cookies() {
    return [...this.jar].map(([name, value]) => ({ name, value, url: this.base + '/' }));
  }
}

/* ---- a PNG without a browser: white, with black strokes in the middle ---- */

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td));
  return Buffer.concat([len, td, crc]);
}

/* A w x h greyscale PNG: white, with a few thick strokes away from the
 * border (a signature the module accepts, a "face" the sandbox passes). */
function strokesPng(w = 240, h = 96) {
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(w + 1, 255);
    row[0] = 0;
    for (let x = 0; x < w; x++) {
      const u = x / w;
      const v = y / h;
      const wave = Math.abs(v - (0.5 + 0.22 * Math.sin(u * 14))) < 0.05 && u > 0.15 && u < 0.85;
      const bar = Math.abs(u - 0.3) < 0.012 && v > 0.2 && v < 0.8;
      if (wave || bar) row[x + 1] = 0;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; /* bit depth */
  ihdr[9] = 0; /* greyscale */
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

/* ---- a holder ---- */

/* Manual 3.1 steps 1-4 through the API for person p (a mobile the carrier
 * check passes): the session stands at face. Returns { client, person,
 * smsAt } where smsAt is when the code went to p.mobile (the next code to
 * that number waits CNCASMSInterval). */
async function toFace(p) {
  const c = new ApiClient();
  await c.ok('GET', 'session');
  await c.ok('POST', 'apply', p);
  const captcha = await c.call('GET', 'captcha');
  const answer = captcha.headers.get('x-cnca-sandbox-captcha');
  if (!answer) throw new Error('GET captcha: no X-CNCA-Sandbox-Captcha header (CNCASandbox On?)');
  const before = await smsList(p.mobile);
  const smsAt = Date.now();
  await c.ok('POST', 'sms', { mobile: p.mobile, captcha: answer });
  const code = await smsCode(p.mobile, before);
  const v = await c.ok('POST', 'verify/mobile', { sms_code: code, agree: true });
  if (v.next !== 'face') throw new Error('verify/mobile: ' + JSON.stringify({ ...v, headers: undefined }));
  return { client: c, person: p, smsAt };
}

/* The sandbox's face check for the session of client c with the image
 * png, and the way back through GET face/return: the page it redirects to. */
async function faceCheck(c, png) {
  const { redirect } = await c.ok('POST', 'face/start');
  const token = new URL(redirect).searchParams.get('token');
  const cap = await fetch(BASE + '/sandbox/face/capture?token=' + encodeURIComponent(token),
    { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: png });
  const face = await cap.json();
  if (!face.redirect) throw new Error('sandbox face capture: ' + JSON.stringify(face));
  const back = await c.call('GET', face.redirect);
  if (back.status !== 303) throw new Error('face/return: HTTP ' + back.status);
  return back.headers.get('location') || '';
}

/* Manual 3.1 through the API for person p: a holder with a signature,
 * logged in. Returns what toFace does. */
async function enrollHolder(p) {
  const h = await toFace(p);
  const c = h.client;
  const back = await faceCheck(c, strokesPng(160, 160));
  if (!/face-done\.html$/.test(back)) throw new Error('face/return went to ' + back);
  const issued = await c.ok('POST', 'confirm', { mobile: p.mobile });
  if (issued.next !== 'signature') throw new Error('confirm: ' + JSON.stringify({ ...issued, headers: undefined }));
  await c.ok('POST', 'me/signature?source=upload', strokesPng(), 'image/png');
  return h;
}

/* Gives the browser context the session of a client (a holder's, logged
 * in, or one in the middle of a flow). */
async function loggedIn(context, holder) {
  await context.addCookies(holder.client.cookies());
}

export { ApiClient, toFace, faceCheck, enrollHolder, loggedIn, strokesPng };

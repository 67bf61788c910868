/* The browser tests, in one process so that they share one chromium and run
 * side by side (CNCA_BROWSER_CONCURRENCY at a time, default 4; each test has
 * its own browser context and its own applicant): `node --test t/browser/`.
 * The holder login has to wait out the SMS interval after the holder's
 * enrollment; running everything together hides that wait behind the other
 * tests. Then: a screenshot for every screen of the manual. */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as L from './lib.mjs';
import flowHolder from './flow-holder.mjs';
import flowApply from './flow-apply.mjs';
import flowErrors from './flow-errors.mjs';
import pages from './pages.mjs';
import statics from './static.mjs';

const started = Date.now();
/* --test-name-pattern / --test-only: a part of the run, not all its screens */
const partial = process.execArgv.some((a) => /^--test-(name-pattern|only)/.test(a));

before(() => {
  /* what an earlier run left would pass for this run's screenshots */
  fs.mkdirSync(L.ARTIFACTS, { recursive: true });
  if (partial) return;
  for (const f of fs.readdirSync(L.ARTIFACTS)) {
    if (f.endsWith('.png')) fs.rmSync(path.join(L.ARTIFACTS, f), { force: true });
  }
});
after(L.closeAll);

describe('browser', { concurrency: L.CONCURRENCY }, () => {
  flowHolder(test); /* first: its login waits out the SMS interval */
  flowApply(test);
  flowErrors(test);
  pages(test);
  statics(test);
});

test('every screen of the manual has a screenshot in ' + path.relative(L.ROOT, L.ARTIFACTS), async (t) => {
  const why = partial ? 'only some of the tests ran' : await L.apiUnavailable();
  if (why) return t.skip(why);
  const missing = Object.keys(L.SCREENS).filter((name) => {
    const f = path.join(L.ARTIFACTS, 'screen-' + name + '.png');
    return !fs.existsSync(f) || fs.statSync(f).mtimeMs < started - 1000;
  });
  assert.deepEqual(missing, [], 'screens without a screenshot from this run');
  return undefined;
});

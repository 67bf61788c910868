#!/bin/sh
# HTML validity and accessibility lint of the H5 pages (htdocs/*.html; not
# vendor/ or sandbox/), with the rules in .htmlvalidate.json (labels on every
# input among them). Needs `npm ci` first.
set -eu
cd "$(dirname "$0")/.."
if [ ! -x node_modules/.bin/html-validate ]; then
  echo "lint-html: node_modules/.bin/html-validate missing; run 'npm ci'" >&2
  exit 2
fi
node_modules/.bin/html-validate --config .htmlvalidate.json htdocs/*.html
echo "lint-html: $(ls htdocs/*.html | wc -l) pages ok"

#!/usr/bin/env python3
"""Where httpd's CPU goes, by API step and by kind of work.

Record the bench's httpd children while the driver runs, with DWARF call
graphs (the libraries have no frame pointers), then read the samples:

    BENCH_PARTS=0 BENCH_HOLD=1 sh tools/bench.sh &      # prints the base URL
    bench/run/bin/enroll_driver enroll BASE 64 40 &
    perf record --call-graph dwarf,16384 -F 250 -o /tmp/perf.data \\
        -p "$(ps -o pid= --ppid "$(cat bench/run/httpd.pid)" | paste -sd,)" -- sleep 10
    perf script -i /tmp/perf.data -F comm,tid,ip,sym > /tmp/perf.txt
    python3 bench/perf_steps.py /tmp/perf.txt

A sample counts for the first step function on its stack (cnca_step_*, the
sandbox's handlers) and for the first kind of work that matches a frame.
"""
import collections
import re
import sys

STEP = re.compile(r'^(cnca_step_\w+|sandbox_(?:gateway|face_capture|face_page|sms_json)\b)')

# first match wins: a PNG encode inside the signature step is "PNG encode"
KINDS = [
    ('PNG encode (libpng/zlib)', ('cnca_image_encode_png', 'gdImagePngPtr')),
    ('PNG decode (lodepng/libdeflate)', ('cnca_image_lodepng_rgba8',)),
    ('PNG decode (libpng/zlib)', ('read_png', 'gdImageCreateFromPng')),
    ('image resampling', ('gdImageCopyResampled', 'gdImageScale')),
    ('signature cleaning', ('cnca_signature_normalize',)),
    ('captcha drawing', ('cnca_captcha_png',)),
    ('SQLite', ('sqlite3_',)),
    ('memcached client', ('memcached_',)),
    ('gateway client (libcurl)', ('curl_easy_perform',)),
    ('gateway XML', ('xml', 'cnca_gw_')),
    ('issuance (OpenSSL)', ('cnca_ca_issue',)),
    ('AES-GCM seal/open', ('cnca_seal', 'cnca_open')),
    ('JSON', ('json_',)),
    ('access/error log', ('ap_run_log_transaction', 'ap_log_')),
    ('reading the request', ('ap_read_request',)),
    ('writing the response', ('ap_core_output_filter', 'writev')),
    ('event loop (epoll)', ('epoll',)),
]


def stacks(path):
    cur = None
    with open(path, errors='replace') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line.strip():
                if cur is not None:
                    yield cur
                cur = None
            elif line.startswith('\t'):
                parts = line.strip().split(None, 1)
                if cur is not None:
                    cur.append(parts[1] if len(parts) > 1 else '?')
            else:
                cur = []
    if cur:
        yield cur


def step_of(frames):
    for f in frames:
        m = STEP.match(f)
        if m:
            return m.group(1)
    if any('cnca_api_handler' in f for f in frames):
        return '(cnca_api_handler: session, CSRF, body)'
    if any('ap_process_async_request' in f or 'ap_read_request' in f for f in frames):
        return '(httpd: request outside the handler)'
    return '(other: event loop, connections)'


def kind_of(frames):
    for name, pats in KINDS:
        if any(p in f for f in frames for p in pats):
            return name
    return 'other'


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    by_step, by_kind, both = collections.Counter(), collections.Counter(), collections.Counter()
    n = 0
    for frames in stacks(sys.argv[1]):
        s, k = step_of(frames), kind_of(frames)
        by_step[s] += 1
        by_kind[k] += 1
        both[(s, k)] += 1
        n += 1
    if not n:
        sys.exit('no samples')
    print(f'{n} samples\n\n| step | share |\n| --- | ---: |')
    for s, c in by_step.most_common():
        print(f'| {s} | {100 * c / n:.1f}% |')
    print('\n| kind of work | share |\n| --- | ---: |')
    for k, c in by_kind.most_common():
        print(f'| {k} | {100 * c / n:.1f}% |')
    print('\n| step | kind of work | share |\n| --- | --- | ---: |')
    for (s, k), c in both.most_common(25):
        print(f'| {s} | {k} | {100 * c / n:.1f}% |')


if __name__ == '__main__':
    main()

-- wrk script of `make bench` (tools/bench.sh), the same for the static page
-- and the API so that both runs pay the same client cost. BENCH_COOKIE (when
-- set) is sent as the Cookie header: the session made before the run.
-- done() prints one machine-readable line:
--   WRK requests=N seconds=S rps=R p50_ms=A p99_ms=B errors=E non2xx=X
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
    wrk.headers["Cookie"] = cookie
end

done = function(summary, latency, requests)
    local e = summary.errors
    local secs = summary.duration / 1e6
    io.write(string.format(
        "WRK requests=%d seconds=%.2f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
        summary.requests, secs, summary.requests / secs,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.connect + e.read + e.write + e.timeout, e.status))
end

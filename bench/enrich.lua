-- wrk script: POST /orders/enriched with BENCH_CODES synthetic catalog
-- codes (syn0, syn1, ...: tests/maestro-fake answers them all).
local n = tonumber(os.getenv("BENCH_CODES") or "10")
local codes = {}
for i = 0, n - 1 do
    codes[#codes + 1] = '"syn' .. i .. '"'
end
wrk.method = "POST"
wrk.path = "/orders/enriched"
wrk.body = '{"items":[' .. table.concat(codes, ",") .. ']}'
wrk.headers["Content-Type"] = "application/json"

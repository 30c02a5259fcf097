-- bench/soak.lua: the wrk script of bench/soak. Not run on its own.
--
-- Reads, from the directory $SOAK_DIR (bench/soak writes it):
--   urls.txt     "CLASS PATH" per line; each request picks one at random
--   body.NNN     the exact body every answer with status NNN must carry
--                (404, 422, 502, 503)
--   ok.list      the files holding every body a 200 may carry
-- and writes $SOAK_DIR/$SOAK_OUT: "key value" lines (answers by status,
-- requests sent by class, body mismatches, wrk's socket errors), plus up
-- to 20 mismatching answers in $SOAK_OUT.samples.
--
-- wrk runs one Lua state per thread: each counts in its own globals, and
-- done() (in the main state) adds them up through the thread objects.

local dir = assert(os.getenv("SOAK_DIR"), "SOAK_DIR not set")

local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("*a")
    f:close()
    return s
end

local urls, classes = {}, {}
for line in io.lines(dir .. "/urls.txt") do
    local class, path = line:match("^(%S+) (%S+)$")
    if class then
        urls[#urls + 1] = path
        classes[#classes + 1] = class
    end
end
assert(#urls > 0, "no URLs in urls.txt")

local fixed = {}
for _, s in ipairs({404, 422, 502, 503}) do
    fixed[s] = slurp(dir .. "/body." .. s)
end
local ok200 = {}
for path in io.lines(dir .. "/ok.list") do
    ok200[slurp(path)] = true
end

-- per thread (globals, so that done() can read them with thread:get)
counts = {}   -- status -> answers
sent = {}     -- URL class -> requests
mismatches = 0
samples = ""
nsamples = 0

local threads = {}

function setup(thread)
    threads[#threads + 1] = thread
    thread:set("tid", #threads)
end

function init(args)
    math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
end

function request()
    local i = math.random(#urls)
    sent[classes[i]] = (sent[classes[i]] or 0) + 1
    return wrk.format("GET", urls[i])
end

local function body_ok(status, headers, body)
    if headers["Content-Type"] ~= "application/json" then
        return false, "content-type " .. tostring(headers["Content-Type"])
    end
    if status == 200 then
        return ok200[body] == true, "not one of the expected 200 bodies"
    end
    if fixed[status] == nil then
        return false, "status outside 200/404/422/502/503"
    end
    if status == 503 and headers["Retry-After"] == nil then
        return false, "503 without Retry-After"
    end
    return body == fixed[status], "not the contract's body"
end

function response(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
    local good, why = body_ok(status, headers, body)
    if not good then
        mismatches = mismatches + 1
        if nsamples < 20 then
            nsamples = nsamples + 1
            samples = samples .. status .. " (" .. why .. "): "
                .. (body or ""):sub(1, 200):gsub("[\r\n]", " ") .. "\n"
        end
    end
end

function done(summary, latency, requests)
    local total = {counts = {}, sent = {}, mismatches = 0}
    local text = ""
    for _, t in ipairs(threads) do
        for k, v in pairs(t:get("counts")) do total.counts[k] = (total.counts[k] or 0) + v end
        for k, v in pairs(t:get("sent")) do total.sent[k] = (total.sent[k] or 0) + v end
        total.mismatches = total.mismatches + t:get("mismatches")
        text = text .. t:get("samples")
    end
    local out = assert(io.open(dir .. "/" .. os.getenv("SOAK_OUT"), "w"))
    for k, v in pairs(total.counts) do out:write("status.", k, " ", v, "\n") end
    for k, v in pairs(total.sent) do out:write("sent.", k, " ", v, "\n") end
    out:write("mismatches ", total.mismatches, "\n")
    out:write("answers ", summary.requests, "\n")
    for _, e in ipairs({"connect", "read", "write", "timeout"}) do
        out:write("err.", e, " ", summary.errors[e], "\n")
    end
    out:write("p50_ms ", latency:percentile(50) / 1000, "\n")
    out:write("p99_ms ", latency:percentile(99) / 1000, "\n")
    out:write("max_ms ", latency.max / 1000, "\n")
    out:close()
    local s = assert(io.open(dir .. "/" .. os.getenv("SOAK_OUT") .. ".samples", "w"))
    s:write(text)
    s:close()
end

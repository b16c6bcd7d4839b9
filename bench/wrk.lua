-- wrk script for the inplay benchmarks (bench/wrk.sh, bench/compare.sh).
--
--   wrk ... -s bench/wrk.lua URL                      static: every request is URL's path
--   wrk ... -s bench/wrk.lua URL -- IDS_FILE PREFIX   dynamic: PREFIX..id, cycling through
--                                                     IDS_FILE (one id a line)
--
-- At the end it prints one line the shell scripts parse:
--   BENCHSTAT requests=.. duration_us=.. bytes=.. connect=.. read=.. write=.. status=.. timeout=..
--             p50_us=.. p90_us=.. p99_us=.. max_us=.. mean_us=..
-- (`status` is wrk's count of non-2xx/3xx responses.)

local requests, count, next_index = {}, 0, 0

function init(args)
  local file, prefix = args[1], args[2] or "/api/scores/"
  if file == nil or file == "" then
    request = nil -- no request() hook: wrk sends its one pre-built request (fastest)
    return
  end
  for line in io.lines(file) do
    local id = line:match("^%s*(.-)%s*$")
    if id ~= "" then
      count = count + 1
      requests[count] = wrk.format("GET", prefix .. id)
    end
  end
  if count == 0 then
    error("no ids in " .. file)
  end
end

function request()
  next_index = next_index % count + 1
  return requests[next_index]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    "BENCHSTAT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d max_us=%d mean_us=%.0f\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end

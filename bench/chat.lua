-- wrk script for bench/run.sh: POST a chat-completions body read from a file.
--   wrk ... -s bench/chat.lua URL -- BODY_FILE [BEARER_KEY]
-- done() prints one parseable line:
--   wrk_result requests=N duration_us=N rps=F p50_us=N p90_us=N p99_us=N
--              max_us=N err_connect=N err_read=N err_write=N err_status=N err_timeout=N
-- (latencies are wrk's per-request times in microseconds; err_status counts
-- responses with a status >= 400, which wrk still counts in `requests`.)

function init(args)
   local path = args[1]
   if path == nil then
      error("chat.lua: usage: -- BODY_FILE [BEARER_KEY]")
   end
   local f = assert(io.open(path, "rb"))
   wrk.body = f:read("*a")
   f:close()
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   if args[2] ~= nil and args[2] ~= "" then
      wrk.headers["Authorization"] = "Bearer " .. args[2]
   end
   -- optional third argument: the Anthropic dialect's version header
   if args[3] == "anthropic" then
      wrk.headers["anthropic-version"] = "2023-06-01"
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "wrk_result requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
      "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
      summary.requests, summary.duration, summary.requests / secs,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end

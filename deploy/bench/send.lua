-- wrk script: group sends to POST /v1/notifications with the token in $HERALD_BENCH_TOKEN.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("HERALD_BENCH_TOKEN")
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"title":"Bench %d","body":"Load test message number %d for the benchmark.","groupIds":["g-bench"]}', n, n)
  return wrk.format(nil, "/v1/notifications", nil, body)
end

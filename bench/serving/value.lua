-- wrk: GET /v1/views/bench/value for a uniformly random key of KEYS.
local keys = tonumber(os.getenv("KEYS") or "1000000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/views/bench/value?key=k" .. math.random(0, keys - 1))
end

-- wrk: a one-year daily series of a random series key.
local keys = tonumber(os.getenv("SERIES_KEYS") or "100")
local to = tonumber(os.getenv("TO_MS"))
local from = to - 365 * 86400000
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/views/bench/series?granularity=day&from=" .. from .. "&to=" ..
                    to .. "&key=s" .. math.random(0, keys - 1))
end

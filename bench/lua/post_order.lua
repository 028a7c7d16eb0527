-- POST /esim/v1/order, NEW_ESIM as in seed 000, every order unique (e-mail and Idempotency-Key).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")

expected_status = 201
local token = os.getenv("BENCH_TOKEN")
local activation = os.getenv("BENCH_ACTIVATION")
local prefix = nil
local counter = 0

-- BENCH_RATE (the paced scenario): orders are sent at this rate in all, at random instants (a Poisson
-- process, as from many independent clients), instead of each connection sending its next order the
-- moment its answer arrives. Each of wrk's BENCH_THREADS threads keeps its share of the schedule and
-- sends on whichever of its connections is free; latency is timed from the send, so a server that
-- falls behind the schedule would be measured kindly: the scenario offers rates it can follow.
local rate = tonumber(os.getenv("BENCH_RATE") or "")
if rate then
  local ffi = require("ffi")
  ffi.cdef("typedef struct { long tv_sec; long tv_nsec; } bench_timespec;"
    .. " int clock_gettime(int clock_id, bench_timespec *tp);")
  local clock = ffi.new("bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
    return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
  end
  local mean_gap_ms = 1000 * tonumber(os.getenv("BENCH_THREADS")) / rate
  local next_send = nil
  function delay()
    local now = now_ms()
    next_send = math.max(next_send or now, now - 10 * mean_gap_ms)  -- no burst to catch up a long stall
      + -math.log(1 - math.random()) * mean_gap_ms
    return math.max(0, math.floor(next_send - now))
  end
end

function request()
  if prefix == nil then
    prefix = thread_prefix()
  end
  counter = counter + 1
  local unique = prefix .. "-" .. counter
  local body = '{"input": {"operationType": "NEW_ESIM", "countryCode": "PT", '
    .. '"customer": {"email": "bench-' .. unique .. '@example.com", "countryOfResidence": "US"}, '
    .. '"device": {"product_id": "123456789", "model": "iPhone", "type": "ios"}, '
    .. '"subscriptions": [{"id": "a3u3z000000PZBhAAO", "activationDate": "' .. activation .. '", '
    .. '"price": 10, "currency": "USD"}]}}'
  return wrk.format("POST", "/esim/v1/order", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["X-Correlation-ID"] = "bench-" .. unique,
    ["Idempotency-Key"] = unique,
  }, body)
end

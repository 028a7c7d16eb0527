-- POST /esim/v1/order, NEW_ESIM as in seed 000, every order unique (e-mail and Idempotency-Key).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")

expected_status = 201
local token = os.getenv("BENCH_TOKEN")
local activation = os.getenv("BENCH_ACTIVATION")
local prefix = nil
local counter = 0

function request()
  if prefix == nil then
    -- Seeded per thread and per run, so two runs on one database never replay each other's keys.
    math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):match("(%x+)$"), 16) % 100000)
    prefix = string.format("%d%d", math.random(1, 1000000000), math.random(1, 1000000000))
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

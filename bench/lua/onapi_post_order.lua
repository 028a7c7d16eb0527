-- POST /2.5/sp_spec/order/: the seed 002 example with valid customer data, each request for its own
-- requested time (months ahead) on an access of its own (a second open order for one product on an
-- access is REJECTED), so each is a new order answered RECEIVED. Thread n of a run takes the accesses
-- BENCH_ACCESS_FIRST + n * BENCH_ACCESS_PER_THREAD onwards (bench.bulk.load_accesses made them).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")

expected_status = 200
also_expected = 201
local auth = os.getenv("BENCH_BASIC_AUTH")
local base = tonumber(os.getenv("BENCH_START_EPOCH"))
local offset = nil
local counter = 0
local first_access = tonumber(os.getenv("BENCH_ACCESS_FIRST") or "0")
local per_thread = tonumber(os.getenv("BENCH_ACCESS_PER_THREAD") or "1")

function request()
  if offset == nil then
    seed_thread()
    offset = math.random(0, 1000000) * 10
  end
  counter = counter + 1
  local requested = os.date("!%Y-%m-%dT%H:%M:%SZ", base + offset + counter)
  local access = first_access + thread_index * per_thread + (counter - 1) % per_thread
  local body = '{"coId": "Acme", "coAccessId": "bench-access-' .. access .. '", "operation": "ACTIVATE", '
    .. '"orderDateTime": "2026-01-01T00:00:00Z", "requestedDateTime": "' .. requested .. '", '
    .. '"products": [{"productId": "fiber-internet", "offeringId": "1000-1000"}], '
    .. '"customerDetails": {"identifiedCustomer": true, "personalIdentityNumber": "19121212-1212", '
    .. '"customerFirstname": "Anna", "customerLastName": "Berg", "customerPhone": "+46812345678", '
    .. '"customerMobilePhone": "+46701234567", "customerEmail": "anna@example.se", "invoiceDetails": {'
    .. '"streetName": "Storgatan", "streetNumber": "1", "streetLittera": "A", "postalCode": "12345", '
    .. '"city": "Stockholm"}}}'
  return wrk.format("POST", "/2.5/sp_spec/order/", {
    ["Authorization"] = "Basic " .. auth,
    ["Content-Type"] = "application/json",
  }, body)
end

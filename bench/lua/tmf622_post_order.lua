-- POST /tmf-api/productOrderingManagement/v4/productOrder: README's TMF622 example (an Addon on the demo
-- line), each request its own Idempotency-Key and externalId, so each is a new order (201, acknowledged).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")

expected_status = 201
local token = os.getenv("BENCH_TOKEN")
local prefix = nil
local counter = 0
local body_head = '{"externalId": "'
local body_tail = '", "productOrderItem": [{"id": "1", "action": "add", "productOffering": {"id": "OFFER-DP-001"}, '
  .. '"product": {"productCharacteristic": [{"name": "MSISDN", "value": "69877689"}, '
  .. '{"name": "planType", "value": "Addon"}]}}]}'

function request()
  if prefix == nil then
    prefix = thread_prefix()
  end
  counter = counter + 1
  local key = "bench-" .. prefix .. "-" .. counter
  return wrk.format("POST", "/tmf-api/productOrderingManagement/v4/productOrder", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = key,
  }, body_head .. key .. body_tail)
end

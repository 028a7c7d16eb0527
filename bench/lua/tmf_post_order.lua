-- POST /emida-ux-lcr/emida-ux/v1/CR/productOrder: the seed 001 Addon example on the demo line, each
-- request its own X-Correlation-ID (the dialect's idempotency key).
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")

expected_status = 201
local client_id = os.getenv("BENCH_CLIENT_ID")
local client_secret = os.getenv("BENCH_CLIENT_SECRET")
local prefix = nil
local counter = 0
local body = '{"category": "esimPrepaid", "productOrderItem": [{"id": "1", "action": "add", "product": {'
  .. '"isBundle": false, "@type": "Product", "productOffering": {"id": "OFFER-DP-001"}, '
  .. '"productCharacteristic": [{"name": "MSISDN", "value": "69877689"}, {"name": "planType", "value": "Addon"}]}}], '
  .. '"relatedParty": [{"id": "RESELLER-001", "role": "Seller", "@referredType": "Individual"}]}'

function request()
  if prefix == nil then
    prefix = thread_prefix()
  end
  counter = counter + 1
  return wrk.format("POST", "/emida-ux-lcr/emida-ux/v1/CR/productOrder", {
    ["client_id"] = client_id,
    ["client_secret"] = client_secret,
    ["Content-Type"] = "application/json",
    ["X-Correlation-ID"] = "bench-" .. prefix .. "-" .. counter,
  }, body)
end

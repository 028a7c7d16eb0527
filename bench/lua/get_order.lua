-- GET /esim/v1/order/{id} over the ids listed in the file BENCH_IDS (one per line), picked at random.
package.path = os.getenv("BENCH_LUA_DIR") .. "/?.lua;" .. package.path
require("common")

expected_status = 200
local token = os.getenv("BENCH_TOKEN")
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do
  table.insert(ids, line)
end
local seeded = false

function request()
  if not seeded then
    seed_thread()
    seeded = true
  end
  local id = ids[math.random(1, #ids)]
  return wrk.format("GET", "/esim/v1/order/" .. id, {
    ["Authorization"] = "Bearer " .. token,
    ["X-Correlation-ID"] = "bench-get",
  })
end

-- Shared by the scenarios: counts answers other than the expected status and reports one JSON line.

-- Seeds this thread's random numbers apart from every other thread's and run's (the time, the CPU clock
-- and a table's address): two runs on one database never replay each other's keys.
function seed_thread()
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):match("(%x+)$"), 16) % 100000)
end

-- A prefix of this thread's own for the keys it sends (seeds the thread).
function thread_prefix()
  seed_thread()
  return string.format("%d%d", math.random(1, 1000000000), math.random(1, 1000000000))
end
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_index", #threads - 1)  -- 0, 1, ... in each thread's own state
end

unexpected = 0

function response(status, headers, body)
  -- also_expected: the bare baseline app answers every POST 201, where an API may answer 200.
  if status ~= expected_status and status ~= also_expected then
    unexpected = unexpected + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "socket_errors": %d, "unexpected_status": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.timeout, bad))
end

-- Shared by the scenarios: counts answers other than the expected status and reports one JSON line.
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

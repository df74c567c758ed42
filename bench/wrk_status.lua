-- Counts responses other than 200 (wrk itself counts only 4xx/5xx as errors, and a
-- 303 to the login page would pass unnoticed); prints "NOT200 n" at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not200 = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not200 = not200 + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do
    total = total + t:get("not200")
  end
  io.write(string.format("NOT200 %d\n", total))
end

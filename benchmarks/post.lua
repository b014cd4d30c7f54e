-- wrk script for the POST route: method POST, empty body, Content-Length: 0.
--
-- It also counts the requests wrk actually *sent* (request() is called once per
-- request written). wrk's summary only counts completed responses, and when the
-- run stops up to one request per connection is still in flight: the server has
-- (or will) run those handlers, so their background tasks count too. done()
-- prints "requests sent: N", which run.py uses for the exact task-count check.
-- Before the run wrk calls request() once on the first thread's script to check
-- for pipelining (script_verify_request); that request is never sent, so done()
-- subtracts it.
wrk.method = "POST"
wrk.body = ""
wrk.headers["Content-Length"] = "0"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   sent = 0
   req = wrk.format()
end

function request()
   sent = sent + 1
   return req
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("sent")
   end
   io.write(string.format("requests sent: %d\n", total - 1))
end

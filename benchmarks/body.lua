-- wrk script for the JSON-body route: POST the 1 KiB order in body.json (next
-- to this script, or the file given after `--`) as application/json.
--
-- Static on purpose (no request() function): wrk builds the request once and
-- sends the same bytes every time, so wrk stays out of the way.

local function script_dir()
   local source = debug.getinfo(1, "S").source
   return source:match("^@(.*/)") or "./"
end

function init(args)
   local path = args[1] or (script_dir() .. "body.json")
   local file = assert(io.open(path, "rb"))
   wrk.body = file:read("*a")
   file:close()
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
end

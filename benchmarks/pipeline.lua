-- wrk script for the pipelined route: each write carries DEPTH copies of the
-- request for the URL's path (default 16; `wrk ... -s pipeline.lua URL -- 8`
-- for another depth). wrk writes the next batch once all DEPTH responses of
-- the previous one have arrived, and counts every response.
--
-- A request() function is needed to hand wrk a batch; it returns the same
-- prebuilt string every time, so the Lua cost is one call per DEPTH requests.

local batch

function init(args)
   local depth = tonumber(args[1]) or 16
   local copies = {}
   for i = 1, depth do
      copies[i] = wrk.format()  -- method, path, headers and body of the command line / wrk table
   end
   batch = table.concat(copies)
end

function request()
   return batch
end

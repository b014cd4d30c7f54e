-- wrk script for the POST route: method POST, empty body, Content-Length: 0.
--
-- Static on purpose: a request() function makes wrk call Lua per request and
-- turns wrk into the bottleneck. The exact task check uses the server's own
-- count of handled POSTs (the stats route's "requests_handled") instead.
wrk.method = "POST"
wrk.body = ""
wrk.headers["Content-Length"] = "0"

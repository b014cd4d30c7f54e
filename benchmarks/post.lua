-- wrk script for the POST route: empty body, explicit Content-Length: 0.
wrk.method = "POST"
wrk.body = ""
wrk.headers["Content-Length"] = "0"

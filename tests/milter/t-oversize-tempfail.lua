-- More than 2000 header fields, a forged X-Support-Ticket after them:
-- with on_oversize = tempfail the mail gets tempfail.
local t = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)") or "") .. "lib.lua")
local conn = t.connect()
t.envelope(conn, "<eve@customer.example>", "<support@example.com>")
t.many_headers(conn)
t.expect_tempfail(conn)
mt.disconnect(conn)

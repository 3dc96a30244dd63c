-- A message aborted mid-way (RSET) leaves no ticket; the next message on
-- the same connection is handled normally.
local t = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)") or "") .. "lib.lua")
local conn = t.connect()
t.envelope(conn, "<bob@customer.example>", "<support@example.com>")
t.headers(conn, "aborted", "<lua-abort@customer.example>")
assert(mt.bodystring(conn, "half a message") == nil)
assert(mt.abort(conn) == nil)
t.envelope(conn, "<bob@customer.example>", "<support@example.com>")
t.headers(conn, "after abort", "<lua-after-abort@customer.example>")
assert(mt.bodystring(conn, "whole\r\n") == nil)
assert(mt.eom(conn) == nil)
if not mt.eom_check(conn, MT_HDRADD, "X-Support-Ticket") then error("second message not ticketed") end
mt.disconnect(conn)

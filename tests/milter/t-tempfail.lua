-- The spill file cannot be created (the test put a regular file where
-- state_dir/spool should be): a resource error, answered with tempfail
-- (on_resource_error default) so the MTA keeps the mail and retries.
local t = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)") or "") .. "lib.lua")
local conn = t.connect()
t.envelope(conn, "<dan@customer.example>", "<support@example.com>")
t.headers(conn, "no room to spill", "<lua-tempfail@customer.example>")
assert(mt.bodystring(conn, string.rep("0123456789abcdef\r\n", 1200)) == nil)
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("the body stage decides nothing") end
-- The filter answers at end of message (the only place where it could
-- still remove forged headers) with its 451 text.
assert(mt.eom(conn) == nil)
t.expect_tempfail(conn)
mt.disconnect(conn)

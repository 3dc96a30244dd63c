-- The spill file cannot be created (the test put a regular file where
-- state_dir/spool should be): a resource error, answered with tempfail
-- (on_resource_error default) so the MTA keeps the mail and retries.
local sock = os.getenv("SG_SOCKET")
local conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
assert(mt.mailfrom(conn, "<dan@customer.example>") == nil)
assert(mt.rcptto(conn, "<support@example.com>") == nil)
assert(mt.data(conn) == nil)
assert(mt.header(conn, "Subject", "no room to spill") == nil)
assert(mt.header(conn, "Message-ID", "<lua-tempfail@customer.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, string.rep("0123456789abcdef\r\n", 1200)) == nil)
if mt.getreply(conn) ~= SMFIR_CONTINUE then error("the body stage decides nothing") end
-- The filter answers at end of message (the only place where it could
-- still remove forged headers) with its 451 text (a reply code,
-- SMFIR_REPLYCODE, carries the tempfail).
assert(mt.eom(conn) == nil)
local r = mt.getreply(conn)
if r ~= SMFIR_REPLYCODE and r ~= SMFIR_TEMPFAIL then
	error("expected tempfail, got " .. tostring(r))
end
mt.disconnect(conn)

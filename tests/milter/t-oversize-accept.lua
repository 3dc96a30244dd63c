-- More than 2000 header fields, a forged X-Support-Ticket after them:
-- with on_oversize = accept the mail gets accept, and the forged
-- header is removed even past the header limit.
local sock = os.getenv("SG_SOCKET")
local conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
assert(mt.mailfrom(conn, "<eve@customer.example>") == nil)
assert(mt.rcptto(conn, "<support@example.com>") == nil)
assert(mt.data(conn) == nil)
assert(mt.header(conn, "Subject", "many headers") == nil)
for i = 1, 2001 do
	assert(mt.header(conn, "X-Filler", tostring(i)) == nil)
end
assert(mt.header(conn, "X-Support-Ticket", "1") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "hello\r\n") == nil)
assert(mt.eom(conn) == nil)
local r = mt.getreply(conn)
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	error("expected accept, got " .. tostring(r))
end
if not mt.eom_check(conn, MT_HDRCHANGE, "X-Support-Ticket", "") then error("forged X-Support-Ticket not removed") end
mt.disconnect(conn)

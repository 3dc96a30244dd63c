-- Non-support recipients: the filter accepts at DATA; it never sees the body.
local sock = os.getenv("SG_SOCKET")
local conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect to " .. sock)
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
mt.macro(conn, SMFIC_MAIL, "i", "NS0001")
assert(mt.mailfrom(conn, "<carol@partner.example>") == nil)
assert(mt.rcptto(conn, "<sales@example.com>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.data(conn) == nil)
if mt.getreply(conn) ~= SMFIR_ACCEPT then error("non-support mail not accepted at DATA") end
mt.disconnect(conn)

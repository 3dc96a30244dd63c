-- A body past milter_memory_limit is spilled to state_dir/spool and still
-- ticketed whole.
local sock = os.getenv("SG_SOCKET")
local conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
assert(mt.mailfrom(conn, "<erin@customer.example>") == nil)
assert(mt.rcptto(conn, "<support+7@example.com>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "plus-address is a support address")
assert(mt.header(conn, "Subject", "big log attached") == nil)
assert(mt.header(conn, "Message-ID", "<lua-spill@customer.example>") == nil)
assert(mt.eoh(conn) == nil)
mt.bodyrandom(conn, 200000)
assert(mt.eom(conn) == nil)
if mt.getreply(conn) ~= SMFIR_ACCEPT and mt.getreply(conn) ~= SMFIR_CONTINUE then error("big mail not accepted") end
if not mt.eom_check(conn, MT_HDRADD, "X-Support-Ticket") then error("big mail not ticketed") end
mt.disconnect(conn)

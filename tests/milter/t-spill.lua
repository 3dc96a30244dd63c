-- A body past milter_memory_limit is spilled to state_dir/spool and still
-- ticketed whole.
local t = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)") or "") .. "lib.lua")
local conn = t.connect()
t.envelope(conn, "<erin@customer.example>", "<support+7@example.com>")
assert(mt.getreply(conn) == SMFIR_CONTINUE, "plus-address is a support address")
t.headers(conn, "big log attached", "<lua-spill@customer.example>")
mt.bodyrandom(conn, 200000)
assert(mt.eom(conn) == nil)
if mt.getreply(conn) ~= SMFIR_ACCEPT and mt.getreply(conn) ~= SMFIR_CONTINUE then error("big mail not accepted") end
if not mt.eom_check(conn, MT_HDRADD, "X-Support-Ticket") then error("big mail not ticketed") end
mt.disconnect(conn)

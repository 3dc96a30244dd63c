-- {auth_authen} a login that maps to no agent: the sender is a customer
-- like any other. Claiming ticket 1 by its token without being one of
-- its participants opens a new ticket (2), marked and delivered (accept
-- with X-Support-Ticket: 2); the #command in the body is plain text.
-- Runs after t-agent-auth.lua and t-agent-noauth.lua.
local sock = os.getenv("SG_SOCKET")
local conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
assert(mt.helo(conn, "client.example") == nil)   -- an implicit HELO would drop the MAIL macros
mt.macro(conn, SMFIC_MAIL, "i", "AGU001", "{auth_authen}", "mallory")
assert(mt.mailfrom(conn, "<mallory@elsewhere.example>") == nil)
assert(mt.rcptto(conn, "<support@example.com>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "mail to support must continue at DATA")
assert(mt.header(conn, "From", "Mallory <mallory@elsewhere.example>") == nil)
assert(mt.header(conn, "To", "support@example.com") == nil)
assert(mt.header(conn, "Subject", "Re: [ACME #1] Invoice 99 is wrong") == nil)
assert(mt.header(conn, "Message-ID", "<lua-agent-4@elsewhere.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "#status closed\r\n") == nil)
assert(mt.eom(conn) == nil)
local r = mt.getreply(conn)
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then error("an unknown login's mail was not accepted as a customer's") end
if not mt.eom_check(conn, MT_HDRADD, "X-Support-Ticket", "2") then error("not a new ticket 2") end
mt.disconnect(conn)

-- An agent's From without {auth_authen}: a From header proves nothing.
-- The mail (commands and text) is kept as an unverified internal note of
-- ticket 1 and relayed nowhere: the MTA's copy is discarded too
-- (SMFIR_DISCARD), so neither the support mailbox nor the customer gets it.
-- Runs after t-agent-auth.lua (ticket 1 exists).
local sock = os.getenv("SG_SOCKET")
local conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
assert(mt.helo(conn, "client.example") == nil)   -- an implicit HELO would drop the MAIL macros
mt.macro(conn, SMFIC_MAIL, "i", "AGN001")
assert(mt.mailfrom(conn, "<anna@example.com>") == nil)
assert(mt.rcptto(conn, "<support@example.com>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "mail to support must continue at DATA")
assert(mt.header(conn, "From", "Anna Berg <anna@example.com>") == nil)
assert(mt.header(conn, "To", "support@example.com") == nil)
assert(mt.header(conn, "Subject", "Re: [ACME #1] Invoice 99 is wrong") == nil)
assert(mt.header(conn, "Message-ID", "<lua-agent-3@elsewhere.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "#status closed\r\n\r\nPlease pay the difference to account XX99.\r\n") == nil)
assert(mt.eom(conn) == nil)
if mt.getreply(conn) ~= SMFIR_DISCARD then error("the unverified agent mail was not discarded") end
mt.disconnect(conn)

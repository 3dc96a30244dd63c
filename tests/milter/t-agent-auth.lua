-- An agent's reply, proven by SMTP AUTH: {auth_authen} "anna" (mapped to
-- anna@example.com by agent_logins) on a mail about ticket 1 is handled
-- by the daemon (a composed reply queued for the customer) and the MTA's
-- own copy is discarded (SMFIR_DISCARD). First a customer mail opens
-- ticket 1 (t-miltertest-agents.sh runs this script on a fresh store).
local sock = os.getenv("SG_SOCKET")

-- the customer
local conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
assert(mt.helo(conn, "client.example") == nil)   -- an implicit HELO would drop the MAIL macros
mt.macro(conn, SMFIC_MAIL, "i", "AGC001", "{auth_authen}", "")
assert(mt.mailfrom(conn, "<alice@customer.example>") == nil)
assert(mt.rcptto(conn, "<support@example.com>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "support mail must continue at DATA")
assert(mt.header(conn, "From", "Alice Martin <alice@customer.example>") == nil)
assert(mt.header(conn, "To", "support@example.com") == nil)
assert(mt.header(conn, "Subject", "Invoice 99 is wrong") == nil)
assert(mt.header(conn, "Message-ID", "<lua-agent-1@customer.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "The VAT rate is wrong.\r\n") == nil)
assert(mt.eom(conn) == nil)
local r = mt.getreply(conn)
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then error("customer mail not accepted") end
if not mt.eom_check(conn, MT_HDRADD, "X-Support-Ticket", "1") then error("customer mail did not open ticket 1") end
mt.disconnect(conn)

-- the agent, authenticated
conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
assert(mt.helo(conn, "client.example") == nil)   -- an implicit HELO would drop the MAIL macros
mt.macro(conn, SMFIC_MAIL, "i", "AGA001", "{auth_authen}", "anna")
assert(mt.mailfrom(conn, "<anna@example.com>") == nil)
assert(mt.rcptto(conn, "<support@example.com>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "agent mail to support must continue at DATA")
assert(mt.header(conn, "From", "Anna Berg <anna@example.com>") == nil)
assert(mt.header(conn, "To", "support@example.com") == nil)
assert(mt.header(conn, "Subject", "Re: [ACME #1] Invoice 99 is wrong") == nil)
assert(mt.header(conn, "Message-ID", "<lua-agent-2@example.com>") == nil)
assert(mt.header(conn, "In-Reply-To", "<lua-agent-1@customer.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "Dear Alice,\r\nthe corrected invoice is on its way.\r\nAnna\r\n") == nil)
assert(mt.eom(conn) == nil)
if mt.getreply(conn) ~= SMFIR_DISCARD then error("the authenticated agent's reply was not discarded") end
mt.disconnect(conn)

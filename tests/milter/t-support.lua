-- Support mail: token in the subject, X-Support headers, Reply-To, and an
-- injected X-Support-Ticket removed.
local sock = os.getenv("SG_SOCKET")
local conn = mt.connect(sock, 40, 0.25)
assert(conn, "cannot connect")
assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
mt.macro(conn, SMFIC_MAIL, "i", "SUP001", "{auth_authen}", "")
assert(mt.mailfrom(conn, "<alice@customer.example>") == nil)
assert(mt.rcptto(conn, "<Support@Example.com>") == nil)
assert(mt.data(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE, "support mail must continue at DATA")
assert(mt.header(conn, "From", "Alice <alice@customer.example>") == nil)
assert(mt.header(conn, "To", "support@example.com") == nil)
assert(mt.header(conn, "Subject", "Printer on fire") == nil)
assert(mt.header(conn, "Message-ID", "<lua-1@customer.example>") == nil)
assert(mt.header(conn, "X-Support-Ticket", "999") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.bodystring(conn, "It burns.\r\n") == nil)
assert(mt.eom(conn) == nil)
if mt.getreply(conn) ~= SMFIR_ACCEPT and mt.getreply(conn) ~= SMFIR_CONTINUE then
	error("support mail not accepted")
end
if not mt.eom_check(conn, MT_HDRCHANGE, "Subject", "[ACME #1] Printer on fire") then
	error("subject not rewritten")
end
if not mt.eom_check(conn, MT_HDRADD, "X-Support-Ticket", "1") then error("X-Support-Ticket not added") end
if not mt.eom_check(conn, MT_HDRADD, "X-Support-Priority", "normal") then error("X-Support-Priority not added") end
if not mt.eom_check(conn, MT_HDRCHANGE, "Reply-To", "support@example.com") then error("Reply-To not set") end
if not mt.eom_check(conn, MT_HDRCHANGE, "X-Support-Ticket", "") then error("forged X-Support-Ticket not removed") end
mt.disconnect(conn)

-- Support mail: token in the subject, X-Support headers, Reply-To, and an
-- injected X-Support-Ticket removed.
local t = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)") or "") .. "lib.lua")
local conn = t.connect()
mt.macro(conn, SMFIC_MAIL, "i", "SUP001", "{auth_authen}", "")
t.envelope(conn, "<alice@customer.example>", "<Support@Example.com>")
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

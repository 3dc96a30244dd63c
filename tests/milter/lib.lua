-- lib.lua — the steps the miltertest scripts share. A script next to it
-- loads it by the script's own path (dofile alone would look in the
-- current directory):
--   local t = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)") or "") .. "lib.lua")
-- Each step asserts what the script asserted inline before; a failed
-- step is a Lua error, which fails the miltertest run.
local t = {}

-- Connect to the daemon on $SG_SOCKET and send the client's details.
function t.connect()
	local conn = mt.connect(os.getenv("SG_SOCKET"), 40, 0.25)
	assert(conn, "cannot connect")
	assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
	return conn
end

-- MAIL FROM, RCPT TO and DATA of one message.
function t.envelope(conn, from, rcpt)
	assert(mt.mailfrom(conn, from) == nil)
	assert(mt.rcptto(conn, rcpt) == nil)
	assert(mt.data(conn) == nil)
end

-- The header block of a plain message: Subject, Message-ID, its end.
function t.headers(conn, subject, msgid)
	assert(mt.header(conn, "Subject", subject) == nil)
	assert(mt.header(conn, "Message-ID", msgid) == nil)
	assert(mt.eoh(conn) == nil)
end

-- A message over the header limit: Subject, 2001 filler fields, then a
-- forged X-Support-Ticket; a short body and the end of the message.
function t.many_headers(conn)
	assert(mt.header(conn, "Subject", "many headers") == nil)
	for i = 1, 2001 do
		assert(mt.header(conn, "X-Filler", tostring(i)) == nil)
	end
	assert(mt.header(conn, "X-Support-Ticket", "1") == nil)
	assert(mt.eoh(conn) == nil)
	assert(mt.bodystring(conn, "hello\r\n") == nil)
	assert(mt.eom(conn) == nil)
end

-- The answer to the end of the message is a tempfail (a reply code,
-- SMFIR_REPLYCODE, carries the filter's 451 text).
function t.expect_tempfail(conn)
	local r = mt.getreply(conn)
	if r ~= SMFIR_REPLYCODE and r ~= SMFIR_TEMPFAIL then
		error("expected tempfail, got " .. tostring(r))
	end
end

return t

-- send-n — a helper for the store tests (t-diskfull, t-failchk,
-- t-durability), not a test of its own: SG_COUNT support messages, one
-- connection each, Message-ID <SG_PREFIX-N@customer.example> for N from
-- SG_FIRST (default 1), from cN-SG_PREFIX@customer.example (so no rate
-- limit applies), a body of about SG_BODY_KB kilobytes (SG_BODY_RANDOM=1:
-- random letters, which do not compress). Prints one line
-- per message, "N ANSWER", and exits 0 unless the protocol itself fails.
-- ANSWER: accept; tempfail (451 for a store or resource error, the
-- answer of on_store_error / on_resource_error = tempfail); reject; reply
-- (any other SMTP reply the filter set); other.
local sock = os.getenv("SG_SOCKET")
local prefix = os.getenv("SG_PREFIX") or "msg"
local first = tonumber(os.getenv("SG_FIRST") or "1")
local n = tonumber(os.getenv("SG_COUNT") or "1")
local kb = tonumber(os.getenv("SG_BODY_KB") or "1")
local tempfail_texts = { "Support desk store unavailable, try later",
	"Support desk out of resources, try later" }
-- SG_BODY_RANDOM=1: lines of random letters (a body compression cannot
-- shrink much: the store keeps messages compressed), else x's
local body
if os.getenv("SG_BODY_RANDOM") == "1" then
	math.randomseed(42)
	local lines = {}
	local abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for l = 1, kb * 16 do
		local t = {}
		for c = 1, 62 do
			local k = math.random(1, 64)
			t[c] = string.sub(abc, k, k)
		end
		lines[l] = table.concat(t) .. "\r\n"
	end
	body = table.concat(lines)
else
	body = string.rep(string.rep("x", 62) .. "\r\n", kb * 16)
end
for i = first, first + n - 1 do
	local from = "c" .. i .. "-" .. prefix .. "@customer.example"
	local conn = mt.connect(sock, 40, 0.25)
	assert(conn, "cannot connect to " .. tostring(sock))
	assert(mt.conninfo(conn, "client.example", "127.0.0.1") == nil)
	mt.macro(conn, SMFIC_MAIL, "i", "Q" .. prefix .. i)
	assert(mt.mailfrom(conn, "<" .. from .. ">") == nil)
	assert(mt.rcptto(conn, "<support@example.com>") == nil)
	assert(mt.data(conn) == nil)
	assert(mt.header(conn, "From", from) == nil)
	assert(mt.header(conn, "To", "support@example.com") == nil)
	assert(mt.header(conn, "Subject", prefix .. " " .. i) == nil)
	assert(mt.header(conn, "Message-ID", "<" .. prefix .. "-" .. i .. "@customer.example>") == nil)
	assert(mt.eoh(conn) == nil)
	assert(mt.bodystring(conn, body) == nil)
	assert(mt.eom(conn) == nil)
	local r = mt.getreply(conn)
	local what = "other"
	if r == SMFIR_ACCEPT or r == SMFIR_CONTINUE then
		what = "accept"
	elseif r == SMFIR_TEMPFAIL then
		what = "tempfail"
	elseif r == SMFIR_REJECT then
		what = "reject"
	elseif r == SMFIR_REPLYCODE then
		-- the reply is matched whole: code, enhanced code and text
		what = "reply"
		for _, text in ipairs(tempfail_texts) do
			if mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0", text) then
				what = "tempfail"
			end
		end
	end
	print(i .. " " .. what)
	mt.disconnect(conn)
end

-- More than 2000 header fields, a forged X-Support-Ticket after them:
-- with on_oversize = accept the mail gets accept, and the forged
-- header is removed even past the header limit.
local t = dofile((debug.getinfo(1, "S").source:match("^@?(.*/)") or "") .. "lib.lua")
local conn = t.connect()
t.envelope(conn, "<eve@customer.example>", "<support@example.com>")
t.many_headers(conn)
local r = mt.getreply(conn)
if r ~= SMFIR_ACCEPT and r ~= SMFIR_CONTINUE then
	error("expected accept, got " .. tostring(r))
end
if not mt.eom_check(conn, MT_HDRCHANGE, "X-Support-Ticket", "") then error("forged X-Support-Ticket not removed") end
mt.disconnect(conn)

#!/bin/bash
# t-report — `supportgate report` end to end: the 22-ticket fixture of
# test-report (tests/unit/report-fixture.h) written into a store, the
# report in every format from the CLI, then the HTML page opened in
# headless Chromium: a screenshot that is a real picture (size, many
# colours, the chart colours present) and the DOM as the browser built
# it, whose five SVG charts carry the fixture's numbers.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_CLI:=./supportgate}"
: "${top_builddir:=.}"
fill=$top_builddir/tests/helpers/report-fill
[ -x "$SG_CLI" ] || skip_all "supportgate not built"
[ -x "$fill" ] || skip_all "tests/helpers/report-fill not built"
command -v python3 >/dev/null || skip_all "python3 missing"

sg_tmpdir dir
sg_conf_write "$dir/sg.conf" "" 'report_time_zone = "UTC"' 'db_sync = false'
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }
"$fill" "$dir/sg.conf" || sg_bail "cannot write the fixture"
week=(--from 2026-11-02 --to 2026-11-08 --now 2026-11-09T12:00)

# ---------------------------------------------------------------- CLI
out=$(cli report "${week[@]}" 2>/dev/null)
ok "text report" test $? -eq 0
is "$(printf '%s\n' "$out" | head -1)" \
	"supportgate report: 2026-11-02 00:00 .. 2026-11-09 00:00 (UTC); business hours: not available (calendar time only)" \
	"text: the period in the configured time zone"
is "$(printf '%s\n' "$out" | grep -E '^total +all' | head -1 | awk '{print $3, $4, $5, $6, $7, $8}')" "19 17 12 7 9 4" \
	"text: received taken solved open, open now, overdue"
out=$(cli report "${week[@]}" --tz Europe/Moscow --csv 2>/dev/null)
is "$(printf '%s\n' "$out" | grep -c '^day,')" 7 "--tz: seven Moscow days"
is "$(printf '%s\n' "$out" | grep '^day,2026-11-02,' | cut -d, -f3,5)" "2,3" \
	"--tz: Moscow's 2 November starts 3 h earlier (ticket 13 at 23:00 UTC moves to the 3rd)"
out=$(cli report "${week[@]}" --json 2>/dev/null)
is "$(printf '%s' "$out" | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["total"]["received"], o["total"]["rt"]["median"], o["by"]["agent"][1]["key"])')" \
	"19 30600.0 anna@example.com" "json: parses, with the numbers"
# Business hours come from the tiers' calendars (rules): Monday to Friday
# 09:00-17:00 UTC, Wednesday 4 November a holiday; the tickets without a
# tier count calendar time, as their SLA clocks do.
cat > "$dir/rules" <<'RULES'
calendar office hours="mon-fri 09:00-17:00" tz=UTC holidays="holidays.txt"
sla gold first-response=1h resolution=8h calendar=office
sla silver first-response=4h resolution=24h calendar=office
RULES
echo 2026-11-04 > "$dir/holidays.txt"
sg_conf_write "$dir/cal.conf" "" 'report_time_zone = "UTC"' "rules_file = \"$dir/rules\""
out=$("$SG_CLI" -c "$dir/cal.conf" report "${week[@]}" --csv 2>/dev/null)
is "$(printf '%s\n' "$out" | grep '^total,' | cut -d, -f19-26)" "17,2594.1,1200.0,7200,12,11100.0,9000.0,25200" \
	"business hours on the tiers' calendars (weekend, holiday, pauses)"
out=$("$SG_CLI" -c "$dir/cal.conf" report "${week[@]}" 2>/dev/null)
ok "text: a business-hours table" grep -q "times, business hours" <<<"$out"
cli report --from 2026-13-01 >/dev/null 2>&1
is "$?" 2 "a bad date is a usage error"
cli report --tz Nowhere/Atlantis >/dev/null 2>&1
is "$?" 2 "an unknown time zone is a usage error"
cli report --csv --json >/dev/null 2>&1
is "$?" 2 "one format at a time"
cli report "${week[@]}" --html "$dir/report.html" 2>/dev/null
ok "html written" test -s "$dir/report.html"
ok "no temp file left" test -z "$(ls "$dir" | grep '\.tmp\.')"

# ---------------------------------------------------------------- browser
chrome=""
for c in chromium chromium-browser; do
	command -v "$c" >/dev/null && { chrome=$c; break; }
done
if [ -z "$chrome" ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
	diag "installing chromium (Debian package) for this test"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium >"$dir/apt.log" 2>&1 ||
		sg_show_log "apt-get install chromium" "$dir/apt.log" 10
	command -v chromium >/dev/null && chrome=chromium
fi
if [ -z "$chrome" ]; then
	skip 6 "chromium missing and not installable here (not root): tools/deps.sh test installs it"
	done_testing
fi
# Its profile, cache and crash dumps stay in the test's directory; as root
# Chromium runs only without its sandbox.
browse() {
	HOME=$dir/home XDG_CONFIG_HOME=$dir/home XDG_CACHE_HOME=$dir/home timeout 120 "$chrome" --headless \
		--no-sandbox --disable-gpu --no-first-run --disable-extensions --disable-dev-shm-usage \
		--user-data-dir="$dir/profile" "$@" "file://$dir/report.html"
}
browse --screenshot="$dir/shot.png" --window-size=1400,1600 >"$dir/chrome.log" 2>&1
ok "screenshot taken" test -s "$dir/shot.png" || sg_show_log "chromium" "$dir/chrome.log" 20
# A PNG decoder in a few lines (no PIL): width x height, distinct colours,
# and whether each chart colour appears (bars drawn, not just text).
png=$(python3 - "$dir/shot.png" <<'PY' 2>&1
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
raw, stride, prev, colours = zlib.decompress(idat), w * bpp, bytearray(w * bpp), set()
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp * 2):
        colours.add(bytes(line[x:x + 3]))
    prev = line
want = {"blue": (0x3b, 0x6e, 0xa5), "green": (0x6a, 0xa8, 0x4f), "orange": (0xe6, 0x91, 0x38), "red": (0xcc, 0x41, 0x25)}
seen = [k for k, v in want.items() if any(all(abs(c[i] - v[i]) <= 6 for i in range(3)) for c in colours)]
print(w, h, len(colours), ",".join(sorted(seen)))
PY
)
diag "screenshot: $png ($(stat -c %s "$dir/shot.png" 2>/dev/null) bytes)"
read -r pw ph ncol seen <<<"$png"
ok "screenshot is 1400x1600 and over 20 KB" test "$pw" = 1400 -a "$ph" = 1600 -a "$(stat -c %s "$dir/shot.png")" -gt 20000
ok "screenshot is not one colour (many colours)" test "${ncol:-0}" -gt 50
is "$seen" "blue,green,orange,red" "every bar colour is on screen (volume, load, SLA met and breached)"

browse --dump-dom >"$dir/dom.html" 2>"$dir/chrome-dom.log"
ok "DOM dumped" test -s "$dir/dom.html"
# Each chart as the browser parsed it: its bars (series|label|value, the
# <title> and the printed number must agree) and its notes.
got=$(python3 - "$dir/dom.html" <<'PY' 2>&1
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.chart = None; self.bar = None; self.tag = None; self.out = {}; self.bad = []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs); self.tag = tag
        if tag == "svg" and a.get("id", "").startswith("chart-"):
            self.chart = a["id"]; self.out[self.chart] = []
        elif tag == "g" and a.get("class") == "bar" and self.chart:
            self.bar = [a["data-series"], a["data-label"], a["data-value"], "", ""]
        elif tag == "text" and a.get("data-note") and self.chart:
            self.out[self.chart].append("note:" + a["data-note"])
    def handle_endtag(self, tag):
        if tag == "g" and self.bar:
            s, l, v, title, text = self.bar
            if not title.endswith(": " + v) or text != v: self.bad.append("|".join(self.bar))
            self.out[self.chart].append("%s|%s|%s" % (s, l, v)); self.bar = None
        elif tag == "svg": self.chart = None
        self.tag = None
    def handle_data(self, d):
        if self.bar and self.tag == "title": self.bar[3] += d
        elif self.bar and self.tag == "text": self.bar[4] += d
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read())
for k in sorted(p.out): print(k + " " + " ".join(p.out[k]))
print("inconsistent: " + (" ".join(p.bad) or "none"))
PY
)
line() { printf '%s\n' "$got" | grep "^$1 " | cut -d' ' -f2-; }
is "$(printf '%s\n' "$got" | grep -c '^chart-')" 5 "five charts in the DOM"
is "$(line chart-volume)" "$(printf '%s ' \
	received\|2026-11-02\|3 solved\|2026-11-02\|3 received\|2026-11-03\|3 solved\|2026-11-03\|1 \
	received\|2026-11-04\|3 solved\|2026-11-04\|2 received\|2026-11-05\|3 solved\|2026-11-05\|2 \
	received\|2026-11-06\|2 solved\|2026-11-06\|1 received\|2026-11-07\|2 solved\|2026-11-07\|2 \
	received\|2026-11-08\|3 solved\|2026-11-08\|1 | sed 's/ $//')" "volume per day: the fixture's numbers"
is "$(line chart-response)" \
	"tickets|<15m|3 tickets|15m-1h|5 tickets|1h-4h|5 tickets|4h-8h|2 tickets|8h-24h|1 tickets|1d-3d|1 tickets|>3d|0" \
	"response-time histogram"
is "$(line chart-load)" "open now|anna@example.com|3 assigned|anna@example.com|8 solved|anna@example.com|5 note:62% solved open now|boris@example.com|2 assigned|boris@example.com|5 solved|boris@example.com|4 note:80% solved open now|ирина@example.com|2 assigned|ирина@example.com|4 solved|ирина@example.com|3 note:75% solved" \
	"load per agent (a Cyrillic name included)"
is "$(line chart-sla)" "met|(none)|0 breached|(none)|0 note:- met|gold|4 breached|gold|3 note:57% met met|silver|3 breached|silver|3 note:50% met" \
	"SLA compliance per tier"
is "$(line chart-satisfaction)" "ratings|1|1 ratings|2|2 ratings|3|2 ratings|4|3 ratings|5|3" "satisfaction distribution"
is "$(printf '%s\n' "$got" | grep '^inconsistent:')" "inconsistent: none" "every bar's title and label carry its value"
done_testing

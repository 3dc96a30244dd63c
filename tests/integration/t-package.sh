#!/bin/bash
# t-package — the Debian package as an admin meets it: built with
# dpkg-buildpackage from a copy of this tree, installed with apt-get
# install ./supportgate_*.deb, not started while its configuration is the
# shipped example, then configured and started the way the unit starts
# it, a mail through a private Postfix wired as README.Debian says (the
# package's socket in /var/spool/postfix/supportgate, the per-milter
# settings, no global milter_*_macros), the ticket; then apt-get purge
# leaves nothing behind: files, state, socket directory, user, group.
#
# No systemd here (CI runs in a container): the daemon is started as the
# unit would start it: its RuntimeDirectory= made for its User=, then
# ExecStartPre= and ExecStart= (read from the installed unit) run as that
# user with setpriv. The unit's ExecCondition= is run the same way.
#
# It installs into /usr and /etc, so it purges at exit whatever happens
# (a trap), and it runs only on a machine with no supportgate package,
# user or /etc/supportgate of its own. Once per CI run: the sanitizer
# suite skips it (the package build is the same).
. "${top_srcdir:-.}/tests/integration/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "installs a package: needs root"
[ -z "${SG_SANITIZED:-}" ] || skip_all "the package is built and installed once, in the plain suite"
for t in dpkg-buildpackage dh dh_autoreconf apt-get setpriv; do
	command -v "$t" >/dev/null || skip_all "$t not found (tools/deps.sh test installs debhelper, dh-autoreconf, dpkg-dev)"
done
[ -x /usr/sbin/postfix ] || skip_all "postfix not installed (Debian package postfix)"
[ -f "$top_srcdir/debian/control" ] || skip_all "no debian/ in $top_srcdir"
if dpkg-query -W -f='${Status}' supportgate 2>/dev/null | grep -q 'installed\|config-files'; then
	skip_all "a supportgate package is already on this machine: not touching it"
fi
getent passwd supportgate >/dev/null && skip_all "a user supportgate exists already: purge would remove it"
[ -e /etc/supportgate ] && skip_all "/etc/supportgate exists already: purge would remove it"
[ -e /var/lib/supportgate ] && skip_all "/var/lib/supportgate exists already: purge would remove it"
mail=$top_srcdir/tests/mail/quickstart

sg_tmpdir dir

# ------------------------------------------------------------ build
# A copy of the tree (tracked and new files, no build trees), built there;
# SG_PACKAGE_DEB=FILE installs a package built before instead (to work on
# this test without waiting for the build).
if [ -n "${SG_PACKAGE_DEB:-}" ]; then
	cp "$SG_PACKAGE_DEB" "$dir/" || sg_bail "cannot copy $SG_PACKAGE_DEB"
	skip 2 "SG_PACKAGE_DEB: using $SG_PACKAGE_DEB, not building"
else
mkdir -p "$dir/src"
# (a git tree only when top_srcdir is its top: distcheck's tree may lie
# inside a clone, e.g. build/supportgate-0.1.0, where git lists nothing)
if [ "$(git -C "$top_srcdir" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$top_srcdir" && pwd -P)" ]; then
	(cd "$top_srcdir" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$dir/src" 2>/dev/null)
else   # a tarball (distcheck): everything but build output
	(cd "$top_srcdir" && tar -cf - --exclude='./build*' --exclude=./autom4te.cache --exclude='*.o' --exclude='*.a' .) |
		tar -xf - -C "$dir/src"
fi
chmod -R u+w "$dir/src"   # distcheck's tree is read-only
ok "a copy of the tree with debian/" test -x "$dir/src/debian/rules"
(cd "$dir/src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc 2>/dev/null || echo 2)" \
	dpkg-buildpackage -us -uc -b >"$dir/build.log" 2>&1)
rc=$?
is "$rc" 0 "dpkg-buildpackage -us -uc -b succeeds"
[ "$rc" -eq 0 ] || { sg_show_log "dpkg-buildpackage" "$dir/build.log" 30; sg_bail "no package to install"; }
fi
deb=$(ls "$dir"/supportgate_*_*.deb 2>/dev/null | head -1)
ok "the binary package is there" test -f "$deb"

# ------------------------------------------------------------ install
# From here on the machine is changed: purge at exit, whatever happens
# (registered first, so it runs after the daemon and Postfix are stopped).
pkg_purge() {
	dpkg-query -W -f='${Status}' supportgate 2>/dev/null | grep -q 'installed\|config-files' || return 0
	DEBIAN_FRONTEND=noninteractive apt-get purge -y -q supportgate >>"$dir/purge.log" 2>&1
}
sg_at_exit pkg_purge
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$deb" >"$dir/install.log" 2>&1
rc=$?
is "$rc" 0 "apt-get install ./supportgate_*.deb"
[ "$rc" -eq 0 ] || { sg_show_log "apt-get install" "$dir/install.log" 30; sg_bail "the package does not install"; }

unit=/lib/systemd/system/supportgated.service
ok "binaries in /usr" test -x /usr/sbin/supportgated -a -x /usr/bin/supportgate
ok "man pages" test -f /usr/share/man/man8/supportgated.8.gz -a -f /usr/share/man/man5/supportgate.conf.5.gz
ok "the configuration is a conffile" grep -q '/etc/supportgate/supportgate.conf' /var/lib/dpkg/info/supportgate.conffiles
ok "templates and example rules in /usr/share/supportgate" \
	test -f /usr/share/supportgate/templates/en/ack.tmpl -a -f /usr/share/supportgate/examples/supportgate.rules
ok "README.Debian" test -f /usr/share/doc/supportgate/README.Debian.gz
is "$(getent passwd supportgate | cut -d: -f7)" /usr/sbin/nologin "system user supportgate, no login shell"
uid=$(id -u supportgate 2>/dev/null)
ok "a system uid" test -n "$uid" -a "${uid:-1000}" -lt 1000
is "$(stat -c %U:%G:%a /var/lib/supportgate 2>/dev/null)" supportgate:supportgate:750 "/var/lib/supportgate is the user's"
is "$(stat -c %U:%G:%a /var/spool/postfix/supportgate 2>/dev/null)" supportgate:postfix:2750 \
	"socket directory in Postfix's chroot: setgid group postfix"
ok "the unit is installed" test -f "$unit"
ok "the unit runs as supportgate" grep -qx 'User=supportgate' "$unit"
ok "Type=notify with the watchdog (built with libsystemd)" sh -c "grep -qx 'Type=notify' $unit && grep -q '^WatchdogSec=' $unit"
ok "the unit is enabled" test -L /etc/systemd/system/multi-user.target.wants/supportgated.service

# "Configured": the unit's ExecCondition= as systemd runs it ($$ is $).
cond=$(sed -n 's/^ExecCondition=//p' "$unit" | sed 's/\$\$/$/g')
ok "the unit has an ExecCondition" test -n "$cond"
eval "$cond"
is "$?" 1 "not configured (the shipped example): the start is skipped"
out=$(/usr/sbin/supportgated -n -c /etc/supportgate/supportgate.conf 2>&1)
ok "and the shipped file alone would not start: support_address missing" grep -q 'support_address' <<<"$out"

# Configure it as README.Debian says (a support address, the relay).
sg_stack_ports
cat >> /etc/supportgate/supportgate.conf <<CONF
support_address = {"support@example.com"}
smtp_relay = "smtp://127.0.0.1:$sg_sport"
CONF
eval "$cond"
is "$?" 0 "edited: the condition lets it start"

# ------------------------------------------------------------ start as the unit would
user=$(sed -n 's/^User=//p' "$unit")
rundir=$(sed -n 's/^RuntimeDirectory=//p' "$unit")
pre=$(sed -n 's/^ExecStartPre=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
is "$user:$rundir" supportgate:supportgate "User= and RuntimeDirectory= read from the unit"
install -d -o "$user" -g "$user" -m 0755 "/run/$rundir"
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"; }
# shellcheck disable=SC2086 # the unit's command lines, split as systemd splits these simple ones
ok "ExecStartPre= (supportgated -n) passes as $user" as_user $pre
# not through as_user: $! must be the daemon's pid (setpriv execs it)
# shellcheck disable=SC2086
setpriv --reuid="$user" --regid="$user" --init-groups -- $start >"$dir/daemon.log" 2>&1 {_sg_out}>&- &
dpid=$!
# stopped (and waited for) before the purge: deluser refuses a user with processes
sg_at_exit "kill $dpid 2>/dev/null; sg_wait_for '! kill -0 $dpid' 15"
sg_wait_for "grep -qw ready $dir/daemon.log" 20 || sg_show_log "supportgated" "$dir/daemon.log"
ok "the daemon is ready" grep -qw ready "$dir/daemon.log"
is "$(ps -o user= -p "$dpid" | tr -d ' ')" supportgate "it runs as supportgate"
sock=/var/spool/postfix/supportgate/supportgated.sock
is "$(stat -c %U:%G:%a "$sock" 2>/dev/null)" supportgate:postfix:660 "the default socket: in the chroot, group postfix, 0660"
ok "shipped templates used (no /etc/supportgate/templates)" sh -c "! grep -q 'no acknowledgements' $dir/daemon.log"

# ------------------------------------------------------------ a mail through Postfix
# Wired as README.Debian: per-milter settings, and the global macro lists
# emptied: the daemon must get its macros (the queue id) by asking.
sg_sink_start "$dir/sink" "$sg_sport" || sg_bail "the capture sink did not start (the cause is above)"
sg_postfix_start "$dir/pf" "$sg_pport" "$sg_sport" "unix:$sock" || sg_bail "private Postfix did not start (the cause is above)"
sg_postfix_set "$dir/pf" "smtpd_milters={ unix:$sock, default_action=tempfail, command_timeout=30s, content_timeout=300s }" \
	milter_connect_macros= milter_helo_macros= milter_mail_macros= milter_rcpt_macros= \
	milter_data_macros= milter_end_of_header_macros= milter_end_of_data_macros= ||
	sg_bail "postconf on the private Postfix failed"
sleep 1
ok "support mail accepted by Postfix" sg_send_mail "$sg_pport" alice@customer.example support@example.com "$mail/01-new-en.eml"
sg_wait_for "test -n \"\$(sg_sink_by_id $dir/sink qs-01.alice@customer.example)\"" 30
m1=$(sg_sink_by_id "$dir/sink" qs-01.alice@customer.example)
is "$(sg_hdr "$m1" X-Support-Ticket)" 1 "relayed with X-Support-Ticket: 1"
json=$(cd / && as_user /usr/bin/supportgate -c /etc/supportgate/supportgate.conf tickets --json 2>"$dir/cli.err")
is "$(python3 -c 'import json,sys; t=json.load(sys.stdin); print(len(t), t[0]["id"])' <<<"$json" 2>/dev/null)" "1 1" \
	"the store in /var/lib/supportgate holds ticket 1"
qid=$(sed -n 's/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-F]*\): message-id=<qs-01.alice@customer.example>.*/\1/p' "$dir/pf/maillog" | head -1)
ok "Postfix's queue id reached the daemon with no global macro lists (smfi_setsymlist)" \
	sh -c "test -n '$qid' && grep -q '$qid' $dir/daemon.log"
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge 2" 30
ok "the acknowledgement from the shipped template went out" \
	sh -c "grep -l '^In-Reply-To: <qs-01.alice@customer.example>' $dir/sink/msg-*.eml | grep -q ."

kill "$dpid"
wait "$dpid"
is "$?" 0 "SIGTERM: exits 0"
ok "its socket is gone" test ! -e "$sock"

# ------------------------------------------------------------ purge
sg_postfix_stop "$dir/pf"
list=$(dpkg-query -L supportgate 2>/dev/null)
DEBIAN_FRONTEND=noninteractive apt-get purge -y -q supportgate >"$dir/purge.log" 2>&1
is "$?" 0 "apt-get purge supportgate"
ok "the package is gone" sh -c "! dpkg-query -W -f='\${Status}' supportgate 2>/dev/null | grep -q 'installed\|config-files'"
left=""
while IFS= read -r f; do
	[ -n "$f" ] && [ ! -d "$f" ] && [ -e "$f" ] && left="$left $f"
done <<<"$list"
is "$left" "" "no file of the package is left"
for d in /etc/supportgate /var/lib/supportgate /var/spool/postfix/supportgate /run/supportgate /usr/share/supportgate \
	/usr/share/doc/supportgate /etc/systemd/system/multi-user.target.wants/supportgated.service; do
	ok "no $d" test ! -e "$d"
done
ok "no user supportgate" sh -c "! getent passwd supportgate"
ok "no group supportgate" sh -c "! getent group supportgate"
is "$(find /etc /var /run -xdev -uid "${uid:-0}" 2>/dev/null | head -3)" "" "no file owned by its uid in /etc /var /run"
done_testing

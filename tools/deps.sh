#!/bin/sh
# deps.sh — install (as root) or list the Debian 12 packages supportgate
# needs. Usage: tools/deps.sh [build|test|fuzz]
#   build: compiler, autotools and the libraries
#   test:  build + the real servers and tools the test suite drives
#   fuzz:  build + clang with libFuzzer and the sanitizers (make fuzz only)
# As root the missing packages are installed with apt-get; otherwise the
# exact apt-get line is printed and the script fails if anything is missing.
set -eu

BUILD_PKGS="build-essential autoconf automake libtool pkg-config
 libgmime-3.0-dev libpcre2-dev libcurl4-gnutls-dev libetpan-dev libmilter-dev
 libdb-dev libconfuse-dev libjansson-dev libgnutls28-dev nettle-dev libzstd-dev libsystemd-dev"
TEST_PKGS="postfix dovecot-core dovecot-imapd miltertest python3 m4 util-linux man-db faketime openssl prometheus tzdata chromium"
# t-sendmail runs sendmail-bin unpacked, never installed (it conflicts with
# postfix): its Depends' libraries must be here (libwrap0 is not otherwise).
TEST_PKGS="$TEST_PKGS libwrap0 liblockfile1 libnsl2 libldap-2.5-0 libsasl2-2 libdb5.3 libssl3 procps"
# t-package builds the Debian package (dpkg-buildpackage) and installs it.
TEST_PKGS="$TEST_PKGS debhelper dh-autoreconf dpkg-dev fakeroot adduser"
# libclang-rt-dev holds libFuzzer and the sanitizer runtimes (clang only
# recommends it); llvm gives llvm-symbolizer for readable crash stacks.
FUZZ_PKGS="clang libclang-rt-dev llvm"

want=$BUILD_PKGS
[ "${1:-build}" = test ] && want="$BUILD_PKGS $TEST_PKGS"
[ "${1:-build}" = fuzz ] && want="$BUILD_PKGS $FUZZ_PKGS"

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "supportgate needs these Debian packages; install them as root with:" >&2
	echo "  apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
# Postfix must not configure (or start) a system instance: the tests and
# the quick start run private instances on 127.0.0.1 only.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
# Do not start system daemons (dovecot, postfix) while installing.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
rc=0
apt-get install -y -q --no-install-recommends $missing ||
	{ apt-get update -q && apt-get install -y -q --no-install-recommends $missing; } || rc=$?
[ "$made_policy" = 1 ] && rm -f "$policy"
exit $rc

#!/bin/sh
# Download a Debian linux-image package for `btfcheck kernel-load --qemu`.
#
#   tools/fetch-debian-kernel.sh SUITE PACKAGE [DIR]
#
# SUITE is a Debian release (bullseye, bookworm, trixie, ...), PACKAGE a
# linux-image-* package name, DIR where the .deb goes (default: a new
# directory under ${TMPDIR:-/tmp}; keep downloads out of the repository).
# Prints the .deb's path on the last line; btfcheck takes it as it is.
#
# apt-get runs with a private state directory inside DIR (its own
# sources.list for SUITE and SUITE-security on the Debian mirror the system
# already uses), so the system's sources and package lists stay untouched.
# Needs apt-get and debian-archive-keyring (any Debian or Ubuntu system).
#
# The kernels of the recorded fixtures (tests/oldkernel/):
#   tools/fetch-debian-kernel.sh bullseye linux-image-5.10.0-46-amd64-unsigned
#   tools/fetch-debian-kernel.sh bookworm linux-image-6.1.0-56-amd64-unsigned
#   tools/fetch-debian-kernel.sh trixie   linux-image-6.12.107+deb13-amd64-unsigned
set -eu

if [ $# -lt 2 ]; then
	sed -n '2,20s/^# \{0,1\}//p' "$0" >&2
	exit 2
fi
suite=$1
package=$2
dir=${3:-$(mktemp -d "${TMPDIR:-/tmp}/btfcheck-kernel.XXXXXX")}
case $package in
linux-image-*) ;;
*) echo "fetch-debian-kernel: $package is not a linux-image-* package" >&2; exit 2 ;;
esac
command -v apt-get >/dev/null || { echo "fetch-debian-kernel: needs apt-get (Debian/Ubuntu)" >&2; exit 2; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || { echo "fetch-debian-kernel: needs $keyring (apt-get install debian-archive-keyring)" >&2; exit 2; }

# The mirror the system already uses (deb822 .sources or one-line .list).
mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
	sed -n -e 's/^[[:space:]]*URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/\{0,1\}$/\1/p' \
		-e 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]*\/debian\)\/\{0,1\}[[:space:]].*/\2/p' |
	head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}
security=${mirror%/debian}/debian-security

state=$dir/apt
mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/parts"
cat >"$state/sources.list" <<EOF
deb [signed-by=$keyring] $mirror $suite main
deb [signed-by=$keyring] $security $suite-security main
EOF
apt() {
	apt-get -q -o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=$state/parts" \
		-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" \
		-o "Dir::Etc::Preferences=$state/preferences" -o "Dir::Etc::PreferencesParts=$state/parts" \
		-o APT::Sandbox::User=root "$@"
}
# The security suite may not exist (testing); the main suite must.
apt update >&2 || true
[ -n "$(ls "$state/lists" | grep "_${suite}_" || true)" ] || { echo "fetch-debian-kernel: no package lists for $suite from $mirror" >&2; exit 1; }
(cd "$dir" && apt download "$package" >&2)
deb=$(ls "$dir"/"$package"_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "fetch-debian-kernel: no .deb for $package in $dir" >&2; exit 1; }
echo "$deb"

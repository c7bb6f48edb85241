#!/usr/bin/env bash
# install.sh: install Attest as a production service on Debian, after `make install`.
# Run as root. Idempotent: run it again after every `make install` (it restarts Attest).
# `deploy/install.sh --help` documents it; deploy/README.md walks through a whole install.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# Installed copy ($PREFIX/share/attest/deploy): the prefix is known; from a source tree
# the default is make's.
case "$here" in
*/share/attest/deploy) prefix=${here%/share/attest/deploy} ;;
*) prefix=/usr/local ;;
esac
server_name=""
cert=""
key=""
render_only=""
do_nginx=1
do_systemd=1

USAGE="usage: deploy/install.sh --server-name NAME [--cert FILE] [--key FILE] [--prefix DIR]
                         [--no-nginx] [--no-systemd] [--render-only DIR]

Install Attest as a service on a Debian host, after \`make install PREFIX=DIR\`:
  1. creates the system user and group 'attest' (home /var/lib/attest, no shell);
  2. creates /etc/attest/attest.conf (root:attest, 0640) from attest.conf.example with
     base_url = https://NAME -- only if it does not exist: an existing file is never touched;
  3. renders systemd/attest.service and systemd/attest-sync.service (the LMS sync
     worker) into /etc/systemd/system/;
  4. renders nginx-site.conf.in into /etc/nginx/sites-available/attest, enables it, and
     checks the whole nginx configuration with \`nginx -t\` (a failing check restores the
     previous site file and stops here);
  5. systemctl daemon-reload, then enable and start attest and attest-sync (restart if
     they were running)
     and reload nginx. When systemd is not running (a container), prints what to start by
     hand instead.
A rendered file that differs from the installed one replaces it; the old one is kept
beside it as FILE.bak-DATE.

Options:
  --server-name NAME  public host name of Attest (nginx server_name, base_url host); required
  --cert FILE         TLS certificate chain, PEM (default /etc/letsencrypt/live/NAME/fullchain.pem)
  --key FILE          TLS private key, PEM (default /etc/letsencrypt/live/NAME/privkey.pem)
  --prefix DIR        where \`make install\` put Attest (default $prefix)
  --no-nginx          leave nginx alone (steps 4 and the reload)
  --no-systemd        install the unit but do not enable, start or restart anything
  --render-only DIR   only render the templates into DIR (attest.nginx.conf,
                      attest.service, attest.conf) and exit; needs no root, changes
                      nothing else
  -h, --help          this text

After it: register Attest in Moodle or Canvas with the URLs it prints (\`attest urls\`)."

die() { echo "install: $*" >&2; exit 1; }
say() { echo "install: $*"; }

need_arg() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value (--help)"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--server-name) need_arg "$@"; server_name=$2; shift 2 ;;
	--server-name=*) server_name=${1#*=}; shift ;;
	--cert) need_arg "$@"; cert=$2; shift 2 ;;
	--cert=*) cert=${1#*=}; shift ;;
	--key) need_arg "$@"; key=$2; shift 2 ;;
	--key=*) key=${1#*=}; shift ;;
	--prefix) need_arg "$@"; prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--render-only) need_arg "$@"; render_only=$2; shift 2 ;;
	--render-only=*) render_only=${1#*=}; shift ;;
	--no-nginx) do_nginx=0; shift ;;
	--no-systemd) do_systemd=0; shift ;;
	-h | --help) echo "$USAGE"; exit 0 ;;
	*) echo "install: unknown argument '$1'" >&2; echo "$USAGE" >&2; exit 2 ;;
	esac
done

[ -n "$server_name" ] || { echo "install: --server-name is required" >&2; echo "$USAGE" >&2; exit 2; }
# The values go into nginx, systemd and sed: allow only what host names and paths need.
[[ "$server_name" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] ||
	die "--server-name '$server_name' is not a host name"
prefix=${prefix%/}
[ -n "$cert" ] || cert=/etc/letsencrypt/live/$server_name/fullchain.pem
[ -n "$key" ] || key=/etc/letsencrypt/live/$server_name/privkey.pem
for v in "$cert" "$key" "$prefix"; do
	[[ "$v" =~ ^/[A-Za-z0-9._/+-]*$ ]] || die "'$v' must be an absolute path of [A-Za-z0-9._/+-]"
done

# render TEMPLATE OUT: substitute the @NAME@ placeholders.
render() {
	sed -e "s|@SERVER_NAME@|$server_name|g" -e "s|@CERT@|$cert|g" -e "s|@KEY@|$key|g" \
		-e "s|@PREFIX@|$prefix|g" \
		-e "s|^base_url = https://attest\.example\.edu$|base_url = https://$server_name|" \
		"$1" >"$2"
	if grep -n '@[A-Z_]*@' "$2" | grep -v '^[0-9]*:#' >&2; then
		die "$1: placeholder left unrendered"
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
render "$here/nginx-site.conf.in" "$tmp/attest.nginx.conf"
render "$here/systemd/attest.service" "$tmp/attest.service"
render "$here/systemd/attest-sync.service" "$tmp/attest-sync.service"
render "$here/attest.conf.example" "$tmp/attest.conf"

if [ -n "$render_only" ]; then
	mkdir -p "$render_only"
	cp "$tmp/attest.nginx.conf" "$tmp/attest.service" "$tmp/attest-sync.service" \
		"$tmp/attest.conf" "$render_only/"
	say "rendered attest.nginx.conf, attest.service, attest-sync.service and attest.conf" \
		"into $render_only"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "run as root (or use --render-only DIR)"
bin=$prefix/bin/attest
[ -x "$bin" ] || die "$bin not found: run \`make install PREFIX=$prefix\` first (or pass --prefix)"
[ -d "$prefix/share/attest/web/static" ] || die "$prefix/share/attest/web/static not found: run make install"
if [ "$do_nginx" = 1 ]; then
	command -v nginx >/dev/null || die "nginx is not installed (deploy/install-deps.sh installs it)"
	[ -d /etc/nginx/sites-available ] && [ -d /etc/nginx/sites-enabled ] ||
		die "/etc/nginx/sites-available or sites-enabled is missing (Debian's nginx layout)"
	[ -r "$cert" ] && [ -r "$key" ] || die "TLS certificate $cert or key $key not found.
  Get one first (deploy/README.md, 'TLS certificate'), e.g. with Debian's default site up:
    apt-get install certbot && certbot certonly --webroot -w /var/www/html -d $server_name
  or pass --cert and --key, or --no-nginx to set up nginx yourself."
fi

# install_file SRC DST MODE: put SRC at DST unless identical; keep a differing DST as a backup.
backup=""
install_file() {
	local src=$1 dst=$2 mode=$3
	backup=""
	if [ -e "$dst" ] && cmp -s "$src" "$dst"; then
		say "$dst unchanged"
		return 0
	fi
	if [ -e "$dst" ]; then
		backup=$dst.bak-$(date +%Y%m%d-%H%M%S)
		cp -p "$dst" "$backup"
		say "$dst replaced (previous kept as $backup)"
	else
		say "$dst created"
	fi
	install -m "$mode" -o root -g root "$src" "$dst"
}

# 1. user and directories
if getent passwd attest >/dev/null; then
	say "user attest exists"
else
	useradd --system --user-group --home-dir /var/lib/attest --no-create-home \
		--shell /usr/sbin/nologin --comment "Attest LTI tool" attest
	say "user attest created"
fi
install -d -m 0750 -o root -g attest /etc/attest
# systemd's StateDirectory= creates it too; without systemd this one is used as is.
install -d -m 0750 -o attest -g attest /var/lib/attest

# 2. configuration: created once, never overwritten
conf=/etc/attest/attest.conf
if [ -e "$conf" ]; then
	say "$conf exists: kept as it is"
else
	install -m 0640 -o root -g attest "$tmp/attest.conf" "$conf"
	say "$conf created from attest.conf.example (base_url = https://$server_name)"
fi
"$bin" -c "$conf" config >"$tmp/effective.conf" 2>"$tmp/config.err" || {
	cat "$tmp/config.err" >&2
	die "$conf does not load: fix it and run again"
}
base_url=$(sed -n 's/^base_url = //p' "$tmp/effective.conf")
[ "$base_url" = "https://$server_name" ] ||
	say "note: base_url in $conf is '$base_url', not https://$server_name"

# 3. systemd unit
install_file "$tmp/attest.service" /etc/systemd/system/attest.service 0644
install_file "$tmp/attest-sync.service" /etc/systemd/system/attest-sync.service 0644

# 4. nginx site, checked before anything is reloaded
if [ "$do_nginx" = 1 ]; then
	site=/etc/nginx/sites-available/attest
	install_file "$tmp/attest.nginx.conf" "$site" 0644
	site_backup=$backup
	ln -sfn ../sites-available/attest /etc/nginx/sites-enabled/attest
	if ! nginx -t 2>"$tmp/nginx-t.log"; then
		cat "$tmp/nginx-t.log" >&2
		if [ -n "$site_backup" ]; then
			cp -p "$site_backup" "$site"
			say "restored the previous $site"
		else
			rm -f "$site" /etc/nginx/sites-enabled/attest
			say "removed the new $site"
		fi
		die "nginx -t failed: nothing reloaded"
	fi
	say "nginx -t: configuration ok"
fi

# 5. start or restart
systemd_up=0
[ -d /run/systemd/system ] && systemd_up=1
if [ "$do_systemd" = 0 ]; then
	say "--no-systemd: not enabling, starting or reloading anything"
elif [ "$systemd_up" = 1 ]; then
	systemctl daemon-reload
	for unit in attest attest-sync; do
		if systemctl is-active --quiet "$unit"; then
			systemctl restart "$unit"
			say "$unit.service restarted"
		else
			systemctl enable --now "$unit"
			say "$unit.service enabled and started"
		fi
	done
	if [ "$do_nginx" = 1 ]; then
		if systemctl is-active --quiet nginx; then
			systemctl reload nginx
			say "nginx reloaded"
		else
			systemctl enable --now nginx
			say "nginx enabled and started"
		fi
	fi
else
	say "systemd is not running here (a container?): nothing enabled or started."
	say "start Attest by hand, as the attest user:"
	echo "    install -d -m 0755 -o attest -g attest /run/attest"
	echo "    runuser -u attest -- $bin -c $conf migrate"
	echo "    runuser -u attest -- $bin -c $conf keys init"
	echo "    runuser -u attest -- $bin -c $conf serve &"
	echo "    runuser -u attest -- $bin -c $conf sync run &"
	if [ "$do_nginx" = 1 ]; then
		if [ -s /run/nginx.pid ] && kill -0 "$(cat /run/nginx.pid)" 2>/dev/null; then
			nginx -s reload
			say "nginx reloaded"
		else
			echo "    nginx"
		fi
	fi
fi

echo
echo "Register Attest in Moodle or Canvas with these URLs (deploy/README.md):"
"$bin" -c "$conf" urls

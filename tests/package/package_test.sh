#!/usr/bin/env bash
# The Debian package as an operator gets it: tools/dev/package builds it from
# the already-built tree, it is extracted into a throwaway root, and what the
# operator relies on is checked there: control fields, every file and its mode,
# the unit (systemd-analyze verify), the man pages, the bash completion, the
# programs running, the shipped config accepted by the daemon, the maintainer
# scripts run by dpkg in a throwaway root (maintainer_scripts.sh), and lintian.
# A missing tool is a failure, never a skip.
# package_test.sh SOURCE_DIR BUILD_DIR VERSION
set -euo pipefail
src=$1 build=$2 version=$3

fail() { echo "FAIL: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || fail "$1 is missing (tools/dev/install-deps installs it)"; }
for tool in dpkg-deb systemd-analyze man lintian python3 bash file; do need "$tool"; done
[[ -f /usr/share/bash-completion/bash_completion ]] || fail "bash-completion is missing (tools/dev/install-deps installs it)"

work=$(mktemp -d "${TMPDIR:-/tmp}/shopsync-package-test-XXXXXX")
node_pid=""
cleanup() {
  if [[ -n $node_pid ]]; then kill -KILL "$node_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- build -----------------------------------------------------------------
deb=$("$src/tools/dev/package" "$build" "$work/out")
[[ -f $deb ]] || fail "tools/dev/package printed '$deb', which is not a file"
arch=$(dpkg --print-architecture)
[[ $(basename "$deb") == "shopsync_${version}_${arch}.deb" ]] || fail "unexpected file name $(basename "$deb")"

# ---- control fields --------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
[[ $(field Package) == shopsync ]] || fail "Package: $(field Package)"
[[ $(field Version) == "$version" ]] || fail "Version: $(field Version), want $version"
[[ $(field Architecture) == "$arch" ]] || fail "Architecture: $(field Architecture)"
depends=$(field Depends)
depends_names=$(tr ',' '\n' <<<"$depends" | awk '{ print $1 }')
for lib in libc6 libstdc++6 libzmq5 liblmdb0 libsodium23 libavahi-core7 libpq5 libjwt0 zlib1g; do
  grep -qxF "$lib" <<<"$depends_names" || fail "Depends lacks $lib: $depends"
done
# Shared libraries only (dpkg-shlibdeps): nothing of the developer tool set on a till.
not_libraries=$(grep -v -e '^lib' -e '^zlib1g$' <<<"$depends_names" || true)
[[ -z $not_libraries ]] || fail "Depends names more than shared libraries ($not_libraries): $depends"
[[ -z $(field Pre-Depends) && -z $(field Recommends) ]] || fail "unexpected Pre-Depends/Recommends"
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
[[ $(cat "$work/control/conffiles") == /etc/shopsync/shopsyncd.toml ]] || fail "conffiles: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
  [[ $(stat -c %a "$work/control/$script") == 755 ]] || fail "$script is not mode 755"
  sh -n "$work/control/$script" || fail "$script is not valid sh"
done
grep -q "useradd --system" "$work/control/postinst" || fail "postinst creates no system user"
grep -q "try-restart shopsyncd.service" "$work/control/postinst" || fail "postinst does not restart on upgrade"
grep -Eq "enable|--now" "$work/control/postinst" && fail "postinst enables the service by itself"
grep -q "rm -rf /var/lib/shopsync" "$work/control/postrm" || fail "postrm purge keeps the data directory"

# ---- files and modes -------------------------------------------------------
# Every regular file, with its owner and mode: nothing more, nothing less.
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $2, $6 }' | sort >"$work/files"
sort >"$work/expected" <<'LIST'
-rw-r--r-- root/root ./etc/shopsync/shopsyncd.toml
-rw-r--r-- root/root ./lib/systemd/system/shopsyncd.service
-rwxr-xr-x root/root ./usr/bin/shopsync
-rwxr-xr-x root/root ./usr/bin/shopsync-inspect
-rwxr-xr-x root/root ./usr/bin/shopsyncd
-rw-r--r-- root/root ./usr/share/bash-completion/completions/shopsync
-rw-r--r-- root/root ./usr/share/doc/shopsync/changelog.gz
-rw-r--r-- root/root ./usr/share/doc/shopsync/copyright
-rw-r--r-- root/root ./usr/share/lintian/overrides/shopsync
-rw-r--r-- root/root ./usr/share/man/man1/shopsync-inspect.1.gz
-rw-r--r-- root/root ./usr/share/man/man1/shopsync.1.gz
-rw-r--r-- root/root ./usr/share/man/man1/shopsyncd.1.gz
-rw-r--r-- root/root ./usr/share/man/man5/shopsyncd.toml.5.gz
-rw-r--r-- root/root ./usr/share/shopsync/web/console.css
-rw-r--r-- root/root ./usr/share/shopsync/web/console.js
-rw-r--r-- root/root ./usr/share/shopsync/web/index.html
-rw-r--r-- root/root ./usr/share/shopsync/web/shopsync.js
LIST
diff -u "$work/expected" "$work/files" || fail "the package's files differ from the expected list (above)"
dpkg-deb -c "$deb" | awk '$1 ~ /^d/ && $1 != "drwxr-xr-x" { print }' | grep . && fail "directories not 0755 (above)"

root=$work/root
dpkg-deb -x "$deb" "$root"
for program in shopsyncd shopsync shopsync-inspect; do
  file -b "$root/usr/bin/$program" 2>/dev/null | grep -q "not stripped" && fail "$program is not stripped"
done

# ---- programs run ----------------------------------------------------------
for program in shopsyncd shopsync shopsync-inspect; do
  "$root/usr/bin/$program" --help >"$work/help" || fail "$program --help exits $?"
  grep -q "^usage: $program" "$work/help" || fail "$program --help prints no usage line"
  [[ $("$root/usr/bin/$program" --version) == "$program $version" ]] || fail "$program --version: $("$root/usr/bin/$program" --version)"
done

# ---- the shipped config ----------------------------------------------------
conf=$root/etc/shopsync/shopsyncd.toml
# As shipped (every setting commented out), and with every setting it shows
# uncommented: the daemon reads the file before anything else (exit 2 on error).
"$root/usr/bin/shopsyncd" --config "$conf" --data "$work/data-check" --print-key >/dev/null ||
  fail "shopsyncd refuses the shipped $conf"
sed -E 's/^#([a-z[])/\1/' "$conf" >"$work/uncommented.toml"
grep -q '^listen = ' "$work/uncommented.toml" || fail "the shipped config shows no listen setting"
"$root/usr/bin/shopsyncd" --config "$work/uncommented.toml" --data "$work/data-check" --print-key >/dev/null ||
  fail "shopsyncd refuses the shipped config's settings once uncommented"
# Started briefly with the shipped file on loopback, the node answers the
# packaged CLI that finds its credential in the data directory (api-auth is
# on as shipped), refuses one that does not, then stops cleanly.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
api=ipc://$work/api.sock
"$root/usr/bin/shopsyncd" --config "$conf" --data "$work/data" --listen "127.0.0.1:$port" --api "$api" \
  --no-mdns --name package-test >"$work/node.log" 2>&1 &
node_pid=$!
for ((i = 0; i < 100; i++)); do
  "$root/usr/bin/shopsync" --api "$api" --data "$work/data" --timeout 1 status >/dev/null 2>&1 && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$work/node.log" >&2; fail "shopsyncd exited with the shipped config"; }
  sleep 0.1
done
"$root/usr/bin/shopsync" --api "$api" --data "$work/data" status | grep -q package-test ||
  { cat "$work/node.log" >&2; fail "the packaged shopsync cannot reach the packaged shopsyncd"; }
if "$root/usr/bin/shopsync" --api "$api" --data "$work/data-check" status >"$work/refused" 2>&1 ||
  ! grep -q credential "$work/refused"; then
  cat "$work/refused" >&2
  fail "the shipped config's node answers a client without its credential"
fi
kill -TERM "$node_pid"
rc=0
wait "$node_pid" || rc=$?
node_pid=""
((rc == 0)) || { cat "$work/node.log" >&2; fail "shopsyncd stopped with exit code $rc"; }

# ---- the unit --------------------------------------------------------------
unit=$root/lib/systemd/system/shopsyncd.service
for line in "User=shopsync" "StateDirectory=shopsync" "Restart=on-failure" "NoNewPrivileges=yes" \
  "Type=notify" "NotifyAccess=main" "WatchdogSec=30" "RuntimeDirectory=shopsync" "ExecReload=/bin/sh -c 'kill -HUP \${MAINPID}'" \
  "ProtectSystem=strict" "ExecStart=/usr/bin/shopsyncd --config /etc/shopsync/shopsyncd.toml --data /var/lib/shopsync"; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done
# verify against the extracted root: ExecStart's program and the man pages of
# Documentation= must exist there; the targets and /bin/sh come from this host.
for target in /lib/systemd/system/*.target /lib/systemd/system/*.slice; do
  cp -P "$target" "$root/lib/systemd/system/"
done
install -D /bin/sh "$root/bin/sh"  # ExecReload's program, essential on every Debian system
if ! MANPATH=$root/usr/share/man systemd-analyze verify --root="$root" /lib/systemd/system/shopsyncd.service \
  >"$work/verify" 2>&1 || [[ -s $work/verify ]]; then
  cat "$work/verify" >&2
  fail "systemd-analyze verify reports the unit (above)"
fi

# ---- man pages -------------------------------------------------------------
for page in man1/shopsyncd.1 man1/shopsync.1 man1/shopsync-inspect.1 man5/shopsyncd.toml.5; do
  name=$(basename "$page" | sed -E 's/\.[0-9]$//')
  LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$root/usr/share/man/$page.gz" >"$work/page" 2>"$work/page.err" ||
    fail "man -l $page exits $?"
  [[ ! -s $work/page.err ]] || { cat "$work/page.err" >&2; fail "$page renders with warnings"; }
  grep -q "^NAME" "$work/page" && grep -q "$name - " "$work/page" || fail "$page has no NAME line for $name"
done

# ---- bash completion -------------------------------------------------------
completions=$(bash -c '
  source /usr/share/bash-completion/bash_completion
  source "$1"
  COMP_WORDS=(shopsync st); COMP_CWORD=1; COMP_LINE="shopsync st"; COMP_POINT=${#COMP_LINE}
  _shopsync; echo "${COMPREPLY[*]}"
  COMP_WORDS=(shopsync trust ""); COMP_CWORD=2; COMP_LINE="shopsync trust "; COMP_POINT=${#COMP_LINE}
  _shopsync; echo "${COMPREPLY[*]}"' _ "$root/usr/share/bash-completion/completions/shopsync")
[[ $completions == $'status\nadd ls rm' ]] || fail "bash completion of 'shopsync st' and 'shopsync trust ': $completions"

# ---- maintainer scripts ----------------------------------------------------
mkdir "$work/throwaway"
"$(dirname "$0")/maintainer_scripts.sh" "$deb" "$work/throwaway" || fail "the maintainer scripts (above)"

# ---- lintian ---------------------------------------------------------------
lintian_ok=true
lintian --fail-on error,warning,info,pedantic --pedantic --display-info "$deb" >"$work/lintian" 2>&1 || lintian_ok=false
if ! $lintian_ok || grep -qv "running with root privileges" "$work/lintian"; then
  cat "$work/lintian" >&2
  fail "lintian reports the package (above)"
fi

echo "package $(basename "$deb") checked"

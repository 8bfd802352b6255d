#!/usr/bin/env bash
# The package's maintainer scripts for real: dpkg installs, upgrades, removes
# and purges the .deb in a throwaway root (an overlay over this host's root
# file system, in a mount namespace of its own, written to a tmpfs that goes
# with it: the host is never changed), and what postinst, prerm and postrm
# promise is checked after each step. Part of package/deb (package_test.sh).
# maintainer_scripts.sh DEB WORK_DIR   (as root; WORK_DIR is empty and removed by the caller)
set -euo pipefail
deb=$1 work=$2

fail() { echo "FAIL: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || fail "the maintainer scripts test needs root (mount namespaces and chroot)"
for tool in unshare chroot mount; do command -v "$tool" >/dev/null || fail "$tool is missing"; done

if [[ ${1:-} != --inside ]]; then
  exec unshare --mount --propagation private "$0" --inside "$deb" "$work"
fi
deb=$2 work=$3
mount -t tmpfs shopsync-package-test "$work"
mkdir "$work/upper" "$work/overlay" "$work/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$work/upper,workdir=$work/overlay" "$work/root"
mount --rbind /dev "$work/root/dev"
mount -t proc proc "$work/root/proc"
root=$work/root
in_root() { chroot "$root" "$@"; }
cp "$deb" "$root/tmp/shopsync.deb"
# man-db's trigger would rebuild the whole man index of the root (a minute).
rm -f "$root/var/lib/man-db/auto-update"
in_root test ! -e /usr/bin/shopsyncd || fail "this host has shopsync installed; the test needs a root without it"
in_root getent passwd shopsync >/dev/null && fail "this host has a shopsync user; the test needs a root without it"

# ---- install: the user, the data directory, the keys -----------------------
in_root dpkg -i /tmp/shopsync.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i fails"; }
IFS=: read -r _ _ _ _ _ home shell < <(in_root getent passwd shopsync) || fail "postinst created no shopsync user"
[[ $home == /var/lib/shopsync && $shell == /usr/sbin/nologin ]] || fail "shopsync user: home $home, shell $shell"
in_root getent group shopsync >/dev/null || fail "postinst created no shopsync group"
[[ $(in_root stat -c '%U:%G %a' /var/lib/shopsync) == "shopsync:shopsync 750" ]] ||
  fail "/var/lib/shopsync is $(in_root stat -c '%U:%G %a' /var/lib/shopsync), want shopsync:shopsync 750"
[[ $(in_root stat -c '%U' /var/lib/shopsync/curve.secret) == shopsync ]] || fail "postinst made no key pair owned by shopsync"
key=$(in_root runuser -u shopsync -- shopsyncd --data /var/lib/shopsync --print-key) || fail "--print-key as shopsync fails"
[[ -n $key ]] || fail "--print-key printed nothing"

# ---- upgrade (the same version again): the keys stay ------------------------
in_root dpkg -i /tmp/shopsync.deb >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i over itself fails"; }
[[ $(in_root runuser -u shopsync -- shopsyncd --data /var/lib/shopsync --print-key) == "$key" ]] ||
  fail "an upgrade changed the node's key"

# ---- remove: programs go, the config and the data stay ----------------------
in_root dpkg -r shopsync >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r fails"; }
for gone in /usr/bin/shopsyncd /usr/bin/shopsync /usr/bin/shopsync-inspect /lib/systemd/system/shopsyncd.service; do
  in_root test ! -e "$gone" || fail "dpkg -r left $gone"
done
in_root test -f /etc/shopsync/shopsyncd.toml || fail "dpkg -r removed the conffile (only purge may)"
in_root test -f /var/lib/shopsync/curve.secret || fail "dpkg -r removed the node's data and keys (only purge may)"

# ---- purge: nothing of shopsync is left -------------------------------------
in_root dpkg -P shopsync >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -P fails"; }
in_root test ! -e /etc/shopsync || fail "purge left /etc/shopsync"
in_root test ! -e /var/lib/shopsync || fail "purge left /var/lib/shopsync"
# Every file the four steps left in the root: only dpkg's own records and logs,
# and the system user (Debian keeps system users on purge: files may still
# belong to them) with the lock file of useradd.
rm -f "$root/tmp/shopsync.deb"
stray=$(cd "$work/upper" && find . -type f -o -type l -o -type c |
  grep -Ev '^\./(var/lib/dpkg/|var/log/|var/cache/debconf/|etc/(passwd|group|shadow|gshadow)-?$|etc/(subuid|subgid)-?$|etc/\.pwd\.lock$|etc/ld\.so\.cache$|tmp/|var/lib/man-db/auto-update$)' || true)
[[ -z $stray ]] || fail "install and purge left these files: $stray"
echo "maintainer scripts checked in a throwaway root (install, upgrade, remove, purge)"

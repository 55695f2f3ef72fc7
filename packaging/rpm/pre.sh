# %pre for switchboard (RPM); $1 = 1 on install, 2 on upgrade.
# Creates the system user before the files are laid down (the config file is
# owned by root:switchboard), and on an upgrade takes an automatic backup of
# the database with the still-installed (old) binary, before the new version
# can migrate it: <data_dir>/backups/pre-upgrade-<old version>-<UTC date>.redb
# (online if the service is running; the newest 3 are kept). If no backup can
# be made the upgrade stops; SWITCHBOARD_SKIP_PRE_UPGRADE_BACKUP=1 skips it.

CONFIG=/etc/switchboard/switchboard.toml
SERVICE=switchboard.service
USER_NAME=switchboard
KEEP=3

say() { echo "switchboard: $*" >&2; }

# Same entry as /usr/lib/sysusers.d/switchboard.conf (not installed yet).
if command -v systemd-sysusers >/dev/null 2>&1; then
    echo 'u switchboard - "Switchboard messaging inbox" /var/lib/switchboard /usr/sbin/nologin' \
        | systemd-sysusers --replace=/usr/lib/sysusers.d/switchboard.conf - || exit 1
elif ! getent passwd "$USER_NAME" >/dev/null; then
    getent group "$USER_NAME" >/dev/null || groupadd --system "$USER_NAME" || exit 1
    useradd --system --gid "$USER_NAME" --home-dir /var/lib/switchboard \
        --no-create-home --shell /sbin/nologin \
        --comment "Switchboard messaging inbox" "$USER_NAME" || exit 1
fi

[ "$1" -ge 2 ] 2>/dev/null || exit 0                 # fresh install: done
[ "${SWITCHBOARD_SKIP_PRE_UPGRADE_BACKUP:-0}" = 1 ] && {
    say "SWITCHBOARD_SKIP_PRE_UPGRADE_BACKUP=1: no pre-upgrade backup taken."
    exit 0
}

dir=""
[ -r "$CONFIG" ] && dir=$(sed -n 's/^[[:space:]]*data_dir[[:space:]]*=[[:space:]]*"\([^"]*\)".*$/\1/p' "$CONFIG" | head -n 1)
[ -n "$dir" ] || dir=/var/lib/switchboard
db="$dir/switchboard.redb"
[ -f "$db" ] || exit 0                                # nothing stored yet

backups="$dir/backups"
mkdir -p "$backups" && chown "$USER_NAME:$USER_NAME" "$backups" && chmod 0700 "$backups" || exit 1

need_kb=$(du -k "$db" | cut -f 1)
free_kb=$(df -Pk "$backups" | awk 'NR == 2 { print $4 }')
if [ -n "$need_kb" ] && [ -n "$free_kb" ] && [ "$need_kb" -ge "$free_kb" ]; then
    say "not enough free space in $backups for a pre-upgrade backup"
    say "(database ${need_kb} KiB, free ${free_kb} KiB); free some space and retry,"
    say "or set SWITCHBOARD_SKIP_PRE_UPGRADE_BACKUP=1."
    exit 1
fi

# The version that wrote the data: ask the installed binary, else the rpm db.
old_version=$(/usr/bin/switchboard --version 2>/dev/null | awk 'NR == 1 { print $2 }')
[ -n "$old_version" ] || old_version=$(rpm -q --qf '%{VERSION}-%{RELEASE}\n' switchboard 2>/dev/null | head -n 1)
old_version=$(echo "${old_version:-unknown}" | tr -c 'A-Za-z0-9.+~\n-' '_')
file="$backups/pre-upgrade-${old_version}-$(date -u +%Y%m%dT%H%M%SZ).redb"

umask 077   # backups hold every message: readable by the service user only

prune() {
    # shellcheck disable=SC2012 # names are ours: no spaces or newlines
    ls -1t "$backups"/pre-upgrade-*.redb 2>/dev/null | tail -n +$((KEEP + 1)) | while read -r old; do
        rm -f "$old"
    done
}

# 1. Online backup with the installed (old) binary, as the service user.
if [ -x /usr/bin/switchboard ]; then
    if runuser -u "$USER_NAME" -- /usr/bin/switchboard --config "$CONFIG" backup "$file" \
        && [ -s "$file" ]; then
        say "pre-upgrade backup: $file"
        prune
        exit 0
    fi
    rm -f "$file"
    say "online backup failed; stopping the service and copying the database file."
fi

# 2. Fallback: stop the service (%post starts it again) and copy the file.
if [ -d /run/systemd/system ]; then
    systemctl stop "$SERVICE" >/dev/null 2>&1 || true
fi
if cp -p "$db" "$file" && [ -s "$file" ]; then
    say "pre-upgrade backup: $file"
    prune
    exit 0
fi
rm -f "$file"
say "could not back up $db before the upgrade; nothing was changed."
say "Fix the cause (see above) and retry, or set SWITCHBOARD_SKIP_PRE_UPGRADE_BACKUP=1."
exit 1

# %post for switchboard (RPM); $1 = 1 on install, >= 2 on upgrade.
# Creates the state directories, fixes the config file's owner and mode,
# reloads systemd, and enables + starts the service on install, or restarts
# it on upgrade (the new version migrates the database; %pre took a backup).

CONFIG=/etc/switchboard/switchboard.toml
SERVICE=switchboard.service

if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create switchboard.conf || :
fi
install -d -m 0700 -o switchboard -g switchboard /var/lib/switchboard /var/lib/switchboard/backups || :
if [ -f "$CONFIG" ]; then
    chown root:switchboard "$CONFIG" || :
    chmod 0640 "$CONFIG" || :
fi

started=no
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl enable --now "$SERVICE" && started=yes
    else
        # Restart only if it is running (or was stopped by %pre for the backup
        # and is enabled).
        if systemctl is-enabled --quiet "$SERVICE" 2>/dev/null; then
            systemctl restart "$SERVICE" && started=yes
        else
            systemctl try-restart "$SERVICE" && started=yes
        fi
    fi
    [ "$started" = yes ] || echo "switchboard: the service did not start; see: journalctl -u switchboard -e" >&2
fi

if [ "$1" -eq 1 ]; then
    listen=$(sed -n 's/^[[:space:]]*listen[[:space:]]*=[[:space:]]*"\([^"]*\)".*$/\1/p' "$CONFIG" 2>/dev/null | head -n 1)
    port=${listen##*:}
    [ -n "$port" ] || port=8443
    host=$(hostname -f 2>/dev/null || hostname 2>/dev/null || echo localhost)
    cat <<MSG

Switchboard is installed.
  Configuration: $CONFIG   (then: systemctl restart switchboard)
  Data:          /var/lib/switchboard
  Open:          https://$host:$port/   (or this box's IP address)
  First login:   the one-time setup link that creates the first admin is in
                 the service log:
                     journalctl -u switchboard | grep -i setup
  Certificate:   self-signed; compare your browser's SHA-256 fingerprint with
                     journalctl -u switchboard | grep -i fingerprint
  Guide:         /usr/share/doc/switchboard/operations.md
MSG
    if [ "$started" = no ]; then
        echo "  (systemd is not running here, so the service was not started:"
        echo "   run it with: runuser -u switchboard -- switchboard --config $CONFIG)"
    fi
    echo
fi
exit 0

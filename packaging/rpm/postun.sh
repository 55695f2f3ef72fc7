# %postun for switchboard (RPM); $1 = 0 on erase, 1 on upgrade.
# RPM has no "purge": erasing keeps /var/lib/switchboard (database, backups,
# certificate) and saves an edited config as switchboard.toml.rpmsave. To
# delete everything afterwards: rm -rf /var/lib/switchboard /etc/switchboard
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -eq 0 ]; then
    echo "switchboard: removed; data kept in /var/lib/switchboard (delete it by hand to purge)." >&2
fi
exit 0

# %preun for switchboard (RPM); $1 = 0 on erase, 1 on upgrade.
# On erase: stop and disable the service. On upgrade: leave it running, so the
# new package's %pre can take an online backup; its %post restarts it.
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl disable --now switchboard.service >/dev/null 2>&1 || :
fi
exit 0

#!/bin/sh
# Back up one node: "hub" or a region id. Called by mgn-backup@.service.
# MGN_BACKUP_ARGS (from /etc/mgn/backup-<node>.env) adds e.g. --db for PostgreSQL.
set -eu
node="$1"
if [ "$node" = "hub" ]; then
    exec /opt/mgn/.venv/bin/mgn hub backup --workdir /var/lib/mgn/hub ${MGN_BACKUP_ARGS:-}
fi
exec /opt/mgn/.venv/bin/mgn region backup --region "$node" --workdir "/var/lib/mgn/$node" ${MGN_BACKUP_ARGS:-}

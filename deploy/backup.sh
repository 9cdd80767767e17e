#!/bin/sh
# Back up the game's database: a compressed custom-format pg_dump into an owner-only folder,
# keeping the dumps of the last GAME_BACKUP_KEEP_DAYS days. Run as the postgres user (the
# game-backup.service unit does, nightly); pg_dump's usual PGHOST/PGPORT/PGUSER apply.
#   GAME_BACKUP_DIR        default /var/backups/game
#   GAME_BACKUP_KEEP_DAYS  default 14
#   GAME_BACKUP_DATABASE   default game
set -eu
DIR=${GAME_BACKUP_DIR:-/var/backups/game}
KEEP=${GAME_BACKUP_KEEP_DAYS:-14}
DB=${GAME_BACKUP_DATABASE:-game}
umask 077
mkdir -p "$DIR"
chmod 700 "$DIR"
stamp=$(date -u +%Y-%m-%dT%H%M%SZ)
partial="$DIR/.game-$stamp.dump.partial"
trap 'rm -f "$partial"' EXIT
pg_dump --format=custom --file="$partial" "$DB"
mv "$partial" "$DIR/game-$stamp.dump"
trap - EXIT
find "$DIR" -maxdepth 1 -type f -name 'game-*.dump' -mtime +"$KEEP" -delete
echo "backup: $DIR/game-$stamp.dump, $(wc -c < "$DIR/game-$stamp.dump") bytes; dumps older than $KEEP days removed"

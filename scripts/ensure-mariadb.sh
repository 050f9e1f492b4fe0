#!/usr/bin/env bash
# The local MariaDB (127.0.0.1:3306, root, no password) that the sample and the tests import into:
# started when it is installed but not running.
set -euo pipefail
ping() { mariadb-admin --host=127.0.0.1 --port=3306 --user=root ping >/dev/null 2>&1; }
ping && exit 0
if [ -x /usr/sbin/mariadbd ]; then
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do ping && exit 0; sleep 1; done
fi
echo "MariaDB is not reachable on 127.0.0.1:3306 (root, empty password): start it, or install it with apt-get install mariadb-server" >&2
exit 1

#!/usr/bin/env bash
# Run a real single-node Apache Kafka 4.x broker (KRaft combined mode) on
# loopback without Docker. The broker jars come from Maven Central via Maven,
# because that is the only artifact source reachable from this environment
# (the official kafka_*.tgz download site is not).
#
#   apache-kafka.sh fetch          resolve broker jars into .cache/lib
#   apache-kafka.sh start [PORT]   start broker (default 39092), print
#                                  KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:PORT
#   apache-kafka.sh stop           stop broker, delete its data dir
#   apache-kafka.sh status         exit 0 if the broker is running
#
# Only the final KAFKA_BOOTSTRAP_SERVERS line of `start` goes to stdout; all
# progress messages go to stderr so callers can `eval`/grep stdout safely.
#
# Environment overrides:
#   KAFKA_HEAP_OPTS       JVM heap flags          (default: -Xmx512m)
#   KAFKA_START_TIMEOUT   seconds to wait ready   (default: 90)
#   PYTHON                interpreter for probes  (default: python3)
set -euo pipefail

# Resolve our own directory so the script works from any cwd.
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
CACHE_DIR="$SCRIPT_DIR/.cache"           # git-ignored
LIB_DIR="$CACHE_DIR/lib"
RUN_DIR="$CACHE_DIR/run"
PID_FILE="$RUN_DIR/kafka.pid"
DATA_FILE="$RUN_DIR/datadir"             # path of the temp data dir
PORT_FILE="$RUN_DIR/port"
LOG_FILE="$RUN_DIR/broker.log"           # log4j2 output (kept after stop)
OUT_FILE="$RUN_DIR/broker.out"           # JVM stdout/stderr (kept after stop)
# Marker written after a successful fetch; holds the pom's hash so that
# editing the pom (e.g. a version bump) triggers a re-fetch.
FETCH_MARKER="$LIB_DIR/.fetched-pom.sha256"

# Pinned so the result doesn't depend on Maven's (old) default plugin version.
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

DEFAULT_PORT=39092
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
PYTHON="${PYTHON:-python3}"

log() { echo "[apache-kafka] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pom_hash() { sha256sum "$POM" | cut -d' ' -f1; }

# ---------------------------------------------------------------- fetch ----
cmd_fetch() {
  if [[ -f "$FETCH_MARKER" && "$(cat "$FETCH_MARKER")" == "$(pom_hash)" ]]; then
    log "jars already in $LIB_DIR (delete it to force a re-fetch)"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found on PATH"
  log "resolving Kafka broker jars from Maven Central (uses ~/.m2 as cache)..."
  mkdir -p "$CACHE_DIR"
  # Copy into a temp dir and swap it in at the end, so an interrupted fetch
  # never leaves a half-filled lib/ that a later `start` would trust.
  local tmp="$CACHE_DIR/lib.tmp.$$"
  rm -rf "$tmp"
  # runtime scope: kafka_2.13 declares most broker modules as runtime deps.
  # All mvn output goes to stderr to keep our stdout contract; the sed strips
  # the stray ANSI resets Maven 3.8 prints even with -q -B (pipefail keeps
  # mvn's exit status).
  if ! mvn -q -B -Dstyle.color=never -f "$POM" "$DEP_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 \
      | sed 's/\x1b\[[0-9;]*m//g' >&2; then
    rm -rf "$tmp"
    die "maven could not resolve the broker jars (see output above)"
  fi
  ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || { rm -rf "$tmp"; die "kafka_2.13 jar missing after fetch"; }
  pom_hash >"$tmp/.fetched-pom.sha256"
  rm -rf "$LIB_DIR"
  mv "$tmp" "$LIB_DIR"
  log "fetched $(ls "$LIB_DIR"/*.jar | wc -l) jars into $LIB_DIR"
}

# ------------------------------------------------------------- helpers ----
# True if PID is alive AND is our broker (guards against PID reuse after a
# crash/reboot, so `stop` never signals an unrelated process).
is_our_broker() {
  local pid="$1"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kafka.Kafka $RUN_DIR/server.properties"
}

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid; pid="$(cat "$PID_FILE")"
  is_our_broker "$pid" || return 1
  echo "$pid"
}

# Ask the OS for a free loopback port (used for the controller listener so
# it can't collide with anything else on the machine).
free_port() {
  "$PYTHON" - <<'EOF'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
EOF
}

port_in_use() {
  "$PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}

# Kafka cluster ids are 16 random bytes, URL-safe base64 without padding
# (same format as `kafka-storage.sh random-uuid`). Kafka avoids ids that start
# with '-' because they look like CLI flags, so do the same. Doing it in
# Python saves a JVM start (~1 s).
random_cluster_id() {
  "$PYTHON" - <<'EOF'
import base64, uuid
while True:
    cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    if not cid.startswith("-"):
        print(cid); break
EOF
}

# Real protocol check, not just "port open": send a Kafka ApiVersions v0
# request and require a response with the same correlation id and
# error_code 0. Uses only the Python stdlib.
broker_answers() {
  "$PYTHON" - "$1" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
client = b"apache-kafka.sh"
# request header v1: api_key=18 (ApiVersions), api_version=0, correlation_id, client_id
body = struct.pack(">hhih", 18, 0, 4242, len(client)) + client
try:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        buf = b""
        while len(buf) < 10:
            chunk = s.recv(4096)
            if not chunk:
                sys.exit(1)
            buf += chunk
    _size, corr, err = struct.unpack(">iih", buf[:10])
    sys.exit(0 if corr == 4242 and err == 0 else 1)
except OSError:
    sys.exit(1)
EOF
}

# Find the StorageTool main class in the fetched jars. In Kafka 4.0/4.1 it is
# the Scala object kafka.tools.StorageTool in kafka_2.13; later versions may
# move it to org.apache.kafka.tools.StorageTool, so probe rather than assume.
storage_tool_class() {
  # zipfile instead of unzip/jar: python3 is already required, unzip may not be.
  "$PYTHON" - "$LIB_DIR" <<'EOF'
import glob, os, sys, zipfile
lib = sys.argv[1]
jars = glob.glob(os.path.join(lib, "kafka_2.13-*.jar")) + glob.glob(os.path.join(lib, "kafka-tools-*.jar"))
for jar in jars:
    names = set(zipfile.ZipFile(jar).namelist())
    for cls in ("kafka.tools.StorageTool", "org.apache.kafka.tools.StorageTool"):
        if cls.replace(".", "/") + ".class" in names:
            print(cls)
            sys.exit(0)
print("kafka.tools.StorageTool")  # the 4.0/4.1 location
EOF
}

check_java() {
  command -v java >/dev/null || die "java not found on PATH (Kafka 4.x needs Java 17+)"
  local v
  v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  [[ "${v%%.*}" -ge 17 ]] 2>/dev/null || die "Java 17+ required, found '$v'"
}

# ---------------------------------------------------------------- start ----
cmd_start() {
  local port="${1:-$DEFAULT_PORT}"
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"

  # Already running: succeed if it's the same port (idempotent), else refuse.
  local pid
  if pid="$(running_pid)"; then
    if [[ "$(cat "$PORT_FILE" 2>/dev/null)" == "$port" ]]; then
      log "already running (pid $pid)"
      echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port"
      return 0
    fi
    die "a broker is already running on port $(cat "$PORT_FILE") (pid $pid); run stop first"
  fi

  check_java
  cmd_fetch
  # Leftovers from a crashed run (pid dead) would otherwise leak temp dirs.
  cleanup_run_state

  port_in_use "$port" && die "port $port on 127.0.0.1 is already in use"
  local cport; cport="$(free_port)"

  mkdir -p "$RUN_DIR"
  local data_dir
  data_dir="$(mktemp -d "${TMPDIR:-/tmp}/eduhub-kafka.XXXXXX")"
  echo "$data_dir" >"$DATA_FILE"
  echo "$port" >"$PORT_FILE"

  # KRaft combined mode: this one JVM is both controller (metadata quorum of
  # one voter) and broker. Replication factors are 1 because there is only
  # one broker; the defaults (3) would make internal topics uncreatable.
  cat >"$RUN_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data_dir/kraft-logs
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# No 3 s wait for more members before the first rebalance: faster tests.
group.initial.rebalance.delay.ms=0
EOF

  # log4j2 config: everything INFO+ into one file under .cache/run so the
  # log survives `stop` (the data dir doesn't) for post-mortems.
  # shutdownHook=disable: otherwise log4j2's own JVM shutdown hook closes the
  # appender while Kafka's shutdown hook is still logging, and log4j2 then
  # re-initialises and loses the shutdown messages. The file is flushed per
  # line anyway. append=true for the same reason (a re-init must not
  # truncate); the file is emptied explicitly below instead.
  cat >"$RUN_DIR/log4j2.properties" <<EOF
status = warn
shutdownHook = disable
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $LOG_FILE
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
EOF
  : >"$LOG_FILE"

  local cp="$LIB_DIR/*"
  local jvm_common=(-Dlog4j2.configurationFile="$RUN_DIR/log4j2.properties"
                    -Djava.awt.headless=true)

  local cluster_id storage_cls
  cluster_id="$(random_cluster_id)"
  storage_cls="$(storage_tool_class)"
  log "formatting storage in $data_dir (cluster id $cluster_id, $storage_cls)"
  if ! java -Xmx256m "${jvm_common[@]}" -cp "$cp" "$storage_cls" format \
        -t "$cluster_id" -c "$RUN_DIR/server.properties" >"$OUT_FILE" 2>&1; then
    cat "$OUT_FILE" >&2
    cleanup_run_state
    die "storage format failed"
  fi

  log "starting broker on 127.0.0.1:$port (controller 127.0.0.1:$cport)"
  # setsid: detach from the caller's process group/terminal so Ctrl-C or a
  # test runner killing its group doesn't take the broker down unexpectedly;
  # `stop` is the way to end it. (No --fork, so $! is the java pid.)
  # shellcheck disable=SC2086  # HEAP_OPTS is intentionally word-split
  setsid java $HEAP_OPTS -XX:+UseG1GC "${jvm_common[@]}" -cp "$cp" \
      kafka.Kafka "$RUN_DIR/server.properties" </dev/null >>"$OUT_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"

  # Ready = broker logged "Kafka Server started" (KafkaRaftServer finished
  # startup, broker unfenced) AND answers an ApiVersions request.
  local deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    if ! kill -0 "$pid" 2>/dev/null; then
      fail_start "broker process exited during startup"
    fi
    if grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null && broker_answers "$port"; then
      log "ready (pid $pid, data $data_dir, log $LOG_FILE)"
      echo "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port"
      return 0
    fi
    sleep 0.5
  done
  fail_start "broker not ready after ${START_TIMEOUT}s"
}

# Startup failed: show why, then don't leave a half-started broker behind.
fail_start() {
  log "ERROR: $1"
  log "---- tail of $LOG_FILE ----"
  tail -n 60 "$LOG_FILE" >&2 2>/dev/null || true
  log "---- tail of $OUT_FILE ----"
  tail -n 30 "$OUT_FILE" >&2 2>/dev/null || true
  cmd_stop >/dev/null 2>&1 || true
  exit 1
}

# ----------------------------------------------------------------- stop ----
# Remove pid/port files and the temp data dir (only if it's really one of ours).
cleanup_run_state() {
  if [[ -f "$DATA_FILE" ]]; then
    local d; d="$(cat "$DATA_FILE")"
    case "$d" in
      */eduhub-kafka.*) rm -rf -- "$d" ;;
    esac
  fi
  rm -f "$PID_FILE" "$DATA_FILE" "$PORT_FILE"
}

cmd_stop() {
  local pid
  if pid="$(running_pid)"; then
    log "stopping broker (pid $pid)"
    # SIGTERM triggers Kafka's shutdown hook (clean log/metadata close).
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 40; i++)); do        # 40 x 0.5 s = 20 s
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "still alive after 20s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      # Wait briefly so the data dir isn't deleted under a live process.
      for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
  else
    log "no broker running"
  fi
  cleanup_run_state
}

# --------------------------------------------------------------- status ----
cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    log "running (pid $pid, bootstrap 127.0.0.1:$(cat "$PORT_FILE" 2>/dev/null))"
    return 0
  fi
  log "not running"
  return 1
}

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

case "${1:-}" in
  fetch)  cmd_fetch ;;
  start)  shift; cmd_start "${1:-}" ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  *)      usage ;;
esac

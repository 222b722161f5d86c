#!/bin/sh
# make run: nginx with ngx_http_faas_module on 127.0.0.1:$PORT, the runner
# and the example functions, in the foreground. Ctrl-C stops everything.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
port=${1:-${PORT:-8080}}
run=${RUN_DIR:-$top/build/run}
nginx=${NGINX:-nginx}
functions=$top/functions

# can USER reach PATH (as root: nginx's workers and the functions run as
# other users, who may not traverse a checkout under /root)
reach() {
    [ "$(id -u)" != 0 ] || runuser -u "$1" -- test "$2" "$3" 2>/dev/null
}

user_line=""
runner_extra=""
if [ "$(id -u)" = 0 ]; then
    user_line="user www-data;"
    runner_extra="listen_group = www-data"
fi

mkdir -p "$run"
made=""
if ! reach www-data -x "$run"; then
    run=$(mktemp -d /tmp/ngx-faas-run.XXXXXX)
    made=$run
    echo "note: nginx's workers (www-data) cannot reach the checkout;" \
         "running from $run (removed when it stops)" >&2
fi
mkdir -p "$run/logs"
chmod 755 "$run"

# the example functions run as a user of their own (the dynamic user of
# their tenant, or the owner of their folder), never as root: copied
# where any user reaches them (with the programs make built for them)
if ! reach nobody -r "$functions/hello/function.conf" \
   || ! reach nobody -x "$top/build/functions/hello/hello"
then
    rm -rf "$run/functions" "$run/build"
    mkdir -p "$run/build"
    cp -r "$top/functions" "$run/functions"
    cp -r "$top/build/functions" "$run/build/functions"
    chmod -R a+rX "$run/functions" "$run/build"
    functions=$run/functions
    echo "note: the functions run as users who cannot reach the" \
         "checkout; serving a copy from $functions" >&2
fi

cat > "$run/runner.conf" <<CONF
listen = unix:$run/runner.sock
functions = $functions
state_dir = $run/state
meter_log = $run/logs/meter.log
$runner_extra
CONF

cat > "$run/nginx.conf" <<CONF
load_module $top/build/ngx_http_faas_module.so;
$user_line
worker_processes 1;
daemon off;
pid $run/nginx.pid;
error_log $run/logs/error.log info;
events { worker_connections 1024; }

http {
    client_body_temp_path $run/client_body_temp;
    fastcgi_temp_path $run/fastcgi_temp;
    proxy_temp_path $run/proxy_temp;
    scgi_temp_path $run/scgi_temp;
    uwsgi_temp_path $run/uwsgi_temp;
    faas_temp_path $run/faas_temp;

    log_format faas_meter 'time=\$time_iso8601 function=\$faas_function '
                          'tenant=\$faas_tenant status=\$status '
                          'outcome=\$faas_status duration=\$faas_duration '
                          'billed=\$faas_billed_duration '
                          'init=\$faas_init_duration cold=\$faas_cold '
                          'queue=\$faas_queue_duration cpu=\$faas_cpu_time '
                          'memory=\$faas_max_memory '
                          'memory_size=\$faas_memory_size';

    upstream faas {
        server unix:$run/runner.sock;
        keepalive 32;
    }

    server {
        listen 127.0.0.1:$port;

        location /fn/ {
            faas_route ^/fn/(?<name>[A-Za-z0-9_-]+)(?<path_info>/.*)?\$ \$name;
            faas_pass faas;
            access_log $run/logs/faas.log faas_meter;
        }
    }
}
CONF

"$top/build/fcgi-runner" --test --config "$run/runner.conf"

"$top/build/fcgi-runner" --config "$run/runner.conf" &
runner=$!
"$nginx" -p "$run/" -c "$run/nginx.conf" -e "$run/logs/error.log" &
ngx=$!

stop() {
    trap - INT TERM EXIT
    kill -QUIT "$ngx" 2>/dev/null || true
    kill -TERM "$runner" 2>/dev/null || true
    wait "$ngx" 2>/dev/null || true
    wait "$runner" 2>/dev/null || true
    [ -z "$made" ] || rm -rf "$made"
}
trap stop INT TERM EXIT

sleep 0.5
cat <<MSG

ngx_faas is running on http://127.0.0.1:$port/ (Ctrl-C stops it). Try:

    curl http://127.0.0.1:$port/fn/hello
    curl http://127.0.0.1:$port/fn/hello-cgi/some/path?x=1
    curl http://127.0.0.1:$port/fn/hello-php
    curl http://127.0.0.1:$port/fn/hello-python/some/path
    curl http://127.0.0.1:$port/fn/nosuch        # 404

Logs: the runner's below; nginx's in $run/logs/. What each call used:

    $top/build/fcgi-runner meter $run/logs/faas.log $run/logs/meter.log

MSG

wait "$runner"

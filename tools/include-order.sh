#!/bin/sh
# The runner's files from the bottom up: each may include the headers
# of files before it in this list (and its own), never one after it or
# beside it. No include cycle can form; an #include line tells which
# way a dependency goes. What a lower file needs from a higher one it
# gets through a callback or an ops table registered at startup.
#
#   tools/include-order.sh DIR     (make lint runs it on fcgi-runner)

ORDER="fr_core fr_log fr_path fr_peer fr_event fr_buf fr_fcgi fr_pq fr_pg fr_pg_uri fr_store_sql fr_store_pg_sql fr_store_file fr_store fr_conf fr_conf_pairs fr_cron fr_runner fr_state fr_tenant fr_isolate fr_isolate_keep fr_pids fr_cgroup_host fr_cgroup fr_proto fr_proto_room fr_sweep fr_spawn fr_strict fr_folder fr_docroot fr_identity fr_runtime fr_runtime_php fr_names fr_func
fr_stderr fr_meter fr_meter_kin fr_meter_idle fr_meter_log fr_queue fr_pool fr_room fr_fault fr_fastcgi_worker fr_cgi fr_stats fr_metrics fr_dashboard fr_status fr_reap fr_clients fr_listen fr_upgrade
fr_conn fr_params fr_request fr_proxy fr_store_pg fr_store_pg_done fr_store_pg_doubt fr_backlog fr_async fr_dispatch fr_sched fr_usage fr_usage_hours fr_report_print fr_report_open fr_report fr_invocations fr_client fr_main"

dir=${1:-fcgi-runner}
bad=0

rank() {
    i=0
    for n in $ORDER; do
        [ "$n" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo -1
}

for f in "$dir"/*.c "$dir"/*.h; do
    base=$(basename "$f"); base=${base%.*}
    r=$(rank "$base")
    if [ "$r" = -1 ]; then
        echo "$f: not in the include order of tools/include-order.sh"
        bad=1
        continue
    fi
    for h in $(sed -n 's/^#include "\(fr_[a-z_]*\)\.h"$/\1/p' "$f"); do
        [ "$h" = "$base" ] && continue
        hr=$(rank "$h")
        if [ "$hr" = -1 ] || [ "$hr" -ge "$r" ]; then
            echo "$f: includes $h.h, which is not below it"
            bad=1
        fi
    done
done

[ $bad = 0 ] && echo "include order: $(ls "$dir"/*.c "$dir"/*.h | wc -l) files, no upward include"
exit $bad

#!/bin/bash
# make test: the whole suite under prove. On a failure, what the failing
# tests said (their "Failed test" lines and the diagnostics after them)
# is printed again below the run, then prove's summary once more, so the
# last lines of the output (all CI shows) say why, not only which.
#
# usage: tools/prove.sh JOBS [prove arguments...]; the run's whole output
# stays in build/prove.log

set -u

jobs=$1
shift
log=build/prove.log
mkdir -p build

prove -j"$jobs" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

if [ "$rc" -ne 0 ]; then
    echo
    echo "=== what the failing tests said (all of it: $log) ==="
    # each "Failed test" line and the "#" lines that follow it, 12 at most
    perl -ne 'if (/^#\s+Failed test/) { $n = 12; print; next }
              if ($n && /^#/) { $n--; print; next } $n = 0' "$log" \
        | head -n 60
    echo
    sed -n '/^Test Summary Report/,$p' "$log"
fi

exit "$rc"

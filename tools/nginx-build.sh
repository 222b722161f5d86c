#!/bin/sh
# nginx-build.sh TOP BUILDDIR [CONFIGURE OPTIONS]: nginx and the module
# from the upstream source of the packaged version, objects in BUILDDIR.
# Configured when BUILDDIR has no Makefile; otherwise make rebuilds what
# changed. The log is BUILDDIR.log; on failure its tail is printed.
set -eu

top=$1
out=$(cd "$top" && mkdir -p "$2" && cd "$2" && pwd)
shift 2

src=$(sh "$top/tools/nginx-source.sh" "$top/build/src")
log=$out.log

cd "$src"

# configured again when the options or the module's config change
opts="--with-compat --with-http_ssl_module $*"
if [ ! -f "$out/Makefile" ] || [ "$top/config" -nt "$out/Makefile" ] \
   || [ "$(cat "$out/.options" 2>/dev/null)" != "$opts" ]; then
    ./configure --builddir="$out" --with-compat --with-http_ssl_module \
        --add-dynamic-module="$top" "$@" >"$log" 2>&1 \
        || { tail -30 "$log"; exit 1; }
    echo "$opts" >"$out/.options"
fi

make -j"$(nproc)" -f "$out/Makefile" >>"$log" 2>&1 || { tail -30 "$log"; exit 1; }

[ -x "$out/nginx" ] && [ -f "$out/ngx_http_faas_module.so" ]
echo "built $out/nginx with $out/ngx_http_faas_module.so"

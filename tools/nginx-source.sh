#!/bin/sh
# Unpacks the upstream source of the packaged nginx's version (Debian's
# orig tarball, through a deb-src line this adds if there is none) into
# DIR/nginx-VERSION and prints that path. For building nginx itself:
# vanilla, as most third-party modules are built, and with sanitizers.
set -eu

dir=${1:?usage: nginx-source.sh DIR}
version=$(dpkg-query -W -f '${Version}' nginx | sed 's/-.*//')
src="$dir/nginx-$version"

if [ -f "$src/configure" ]; then
    echo "$src"
    exit 0
fi

mkdir -p "$dir"
tarball="$dir/nginx_$version.orig.tar.gz"

if [ ! -f "$tarball" ]; then
    if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list \
            /etc/apt/sources.list.d/; then
        # the twin of the Debian line, for sources
        sed -n '/^Types: deb$/,/^$/p' /etc/apt/sources.list.d/debian.sources \
            | sed 's/^Types: deb$/Types: deb-src/' \
            > /etc/apt/sources.list.d/ngx-faas-src.sources
        [ -s /etc/apt/sources.list.d/ngx-faas-src.sources ] || {
            echo "nginx-source.sh: no Debian source line to copy" >&2
            exit 1
        }
        apt-get update -qq >&2
    fi

    # the orig tarball is what we need; a newer Debian revision's .dsc
    # missing from a mirror is no reason to stop
    (cd "$dir" && apt-get source --download-only -qq nginx \
        >"$dir/apt-source.log" 2>&1) || true

    if [ ! -f "$tarball" ]; then
        cat "$dir/apt-source.log" >&2
        echo "nginx-source.sh: no $tarball: apt-get source nginx failed" >&2
        exit 1
    fi
fi

tar -xzf "$tarball" -C "$dir"
echo "$src"

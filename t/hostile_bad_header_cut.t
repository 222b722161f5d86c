#!/usr/bin/perl

# A function that sends a header block nginx will not take, then hangs
# past its timeout or crashes, ran once: nginx got a response it refused
# and then a closed connection, which it took for a kept connection the
# runner had dropped, and sent the request again (a GET runs twice, each
# up to its timeout). Promise: one run, one 502 or 504, metered or not,
# whether the runner or only nginx knows the header for garbage (a
# hostile review's finding).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use File::Path qw(make_path);
use Test::More;

my $t = FaasTest->new;

my $dir = $t->function('cut', "exec = ./run.sh\nmode = cgi\ntimeout = 1s\n",
                       'run.sh' => <<'EOF2');
#!/bin/sh
set -f
set -- $(echo "$QUERY_STRING" | tr '&' ' ')
echo "$1 $2" >> out/runs
case "$1" in
    status) printf 'Status: abc\r\nContent-Type: text/plain\r\n\r\nbody\n' ;;
    length) printf 'Content-Length: x\r\nContent-Type: text/plain\r\n\r\n' ;;
    cr)     printf 'X-A: a\rb\r\nContent-Type: text/plain\r\n\r\n' ;;
    fine)   printf 'Content-Type: text/plain\r\n\r\nfine\n'; exit 0 ;;
esac
case "$2" in
    hang)  sleep 10 ;;
    crash) kill -SEGV $$ ;;
esac
EOF2
# the same from a FastCGI worker (kind=0: "Status: abc", which the
# runner knows for garbage; kind=1: "Content-Length: x", nginx only)
$t->function('fcut', "exec = " . $t->testfn . "\ntimeout = 1s\n");
make_path("$dir/out");
chmod 0777, "$dir/out";

my $access = $t->prefix . '/logs/access.log';
$t->start_runner;
# /m/: the measurements asked for ($faas_* in a log); /fn/: none
$t->start_nginx("    log_format m '\$request_uri \$status \$faas_status';\n"
                . $t->faas_location(extra => <<"EOF2"));
        location /m/ {
            faas_route ^/m/(?<fname>[^/]*)\$ \$fname;
            faas_pass runner;
            access_log $access m;
        }
EOF2

sub runs {
    my @l = split /\n/, (FaasTest::read_file("$dir/out/runs") // '');
    return scalar @l;
}

for my $loc (qw(fn m)) {
    for my $bad (qw(status length cr)) {
        for my $end (qw(hang crash)) {
            # a kept connection to the runner first: the next request
            # goes on it (nginx retries one that was kept)
            is($t->http_get("/$loc/cut?fine")->{status}, 200,
               "/$loc/: a request that keeps a connection");
            my $before = runs();
            my $r = $t->http_get("/$loc/cut?$bad&$end", timeout => 30);
            like($r->{status}, qr/^50[24]$/,
                 "/$loc/, $bad header then $end: $r->{status}");
            sleep 1;
            is(runs() - $before, 1, '... it ran once');
        }
    }
}

# the FastCGI one's runs, as the runner counts them
sub fruns {
    my $bin = $t->runner_bin_name;
    my $sock = $t->socket_path;
    my $m = `$bin status --listen unix:$sock --format prometheus 2>&1`;
    my $n = 0;
    $n += $1 while $m =~ /^faas_function_invocations_total\{function="fcut",(?#
                           )[^}]*outcome="(?!accepted)\w+"\} (\d+)$/mg;
    return $n;
}

for my $loc (qw(fn m)) {
    for my $kind (0, 1) {
        for my $crash (0, 1) {
            is($t->http_get("/$loc/fcut?op=pid")->{status}, 200,
               "/$loc/: FastCGI, a request that keeps a connection");
            my $before = fruns();
            my $r = $t->http_get("/$loc/fcut?op=badthen&kind=$kind"
                                 . "&crash=$crash", timeout => 30);
            like($r->{status}, qr/^50[24]$/, "/$loc/, FastCGI, bad header "
                 . "$kind then " . ($crash ? 'crash' : 'hang')
                 . ": $r->{status}");
            sleep 1;
            is(fruns() - $before, 1, '... it ran once') or diag(fruns() . " after, $before before");
        }
    }
}

ok(FaasTest::wait_for(sub { (FaasTest::read_file($access) // '')
                            =~ /cr&crash/ }, 5), 'the access log written');
my $log = FaasTest::read_file($access) // '';
unlike($log, qr/^\/m\/cut\?(status|length|cr)\S* \S+ ok$/m,
       '... no bad header metered as ok');
is($t->http_get('/fn/cut?fine')->{body}, "fine\n", 'the function serves on');

$t->done;

done_testing;

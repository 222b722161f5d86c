#!/usr/bin/perl

# A function that writes a body nginx reads none of: a HEAD's, a 204's,
# a 304's, one behind an X-Accel-Redirect nginx acts on. Stock
# fastcgi_pass closes its connection to the runner after the header,
# and the runner, as for any client that left, killed the worker once
# it had written 1 MiB nobody read ("wrote N bytes nobody reads"): every
# HEAD of a large resource cost a worker and its next request a cold
# start. Promise: such a body is dropped up to 16 MiB (what faas_pass
# reads of it) and the worker serves on, through stock fastcgi_pass and
# faas_pass, in FastCGI and CGI mode; a GET of the same gets its whole
# body. Its hostile twins: a HEAD to an endless stream, with no length
# or one that claims 2^63 bytes, is still killed (past 17 MiB), long
# before its timeout.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('big', "exec = $fn\nmax_instances = 1\n");
$t->function('cgi', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
case "$QUERY_STRING" in
204) printf 'Status: 204 No Content\r\n\r\n' ;;
304) printf 'Status: 304 Not Modified\r\n\r\n' ;;
*)   printf 'Content-Type: text/plain\r\nContent-Length: 12000000\r\n\r\n' ;;
esac
head -c 12000000 /dev/zero | tr '\0' x
EOF
# endless, with no length or one that claims 2^63 bytes
$t->function('endless', "exec = ./run.sh\nmode = cgi\ntimeout = 60s\n",
             'run.sh' => <<'EOF');
#!/bin/sh
case "$QUERY_STRING" in
huge) printf 'Content-Length: 9223372036854775807\r\n' ;;
esac
printf 'Content-Type: text/plain\r\n\r\n'
exec yes endless
EOF

my $faas_port = FaasTest::free_port();
$t->start_runner;
$t->start_nginx($t->fastcgi_location(extra => "location /accel/ {\n"
                                     . "internal;\nreturn 200 accel;\n}\n")
                . $t->faas_route_server($faas_port));

sub req {
    my ($port, $line) = @_;
    return $t->http("$line HTTP/1.0\r\nHost: x\r\n\r\n", port => $port,
                    timeout => 20) // die "connect: $!";
}

sub pid { (req($t->{port}, 'GET /fn/big')->{body} =~ /pid=(\d+)/)[0] // 0 }

my $pid = pid();
ok($pid, "the worker's pid");

my $big = 'op=big&n=3000000';

for my $front (['fastcgi_pass', $t->{port}], ['faas_pass', $faas_port]) {
    my ($name, $port) = @$front;
    for my $q ("$big", "$big&s=204", "$big&s=304") {
        my ($m, $s) = $q =~ /s=(\d+)/ ? ('GET', $1) : ('HEAD', 200);
        my $r = req($port, "$m /fn/big?$q");
        is("$r->{status} [$r->{body}]", "$s []", "$name: $m $s with 3 MB "
           . 'after it: no body');
        is(pid(), $pid, '... the worker serves on');
    }
    my $r = req($port, 'HEAD /fn/cgi');
    is($r->{status}, 200, "$name: a CGI's HEAD of 12 MB: 200");
    is(FaasTest::header($r, 'content-length'), '12000000',
       '... its Content-Length');
    for my $s (204, 304) {
        $r = req($port, "GET /fn/cgi?$s");
        is("$r->{status} [$r->{body}]", "$s []", "$name: a CGI's $s with "
           . '12 MB after it: no body');
    }
}

my $r = req($t->{port}, "GET /fn/big?$big&accel=1");
is("$r->{status} [$r->{body}]", '200 [accel]', 'fastcgi_pass: an '
   . 'X-Accel-Redirect with 3 MB after it: the redirect');
is(pid(), $pid, '... the worker serves on');

ok(FaasTest::wait_for(sub { () = $t->runner_log =~ /"cgi"[^\n]* ended \(ok\)/g
                            } , 20), "the CGIs' runs end");
unlike($t->runner_log, qr/"(?:big|cgi)"[^\n]* nobody reads/,
       'none killed for a body nobody reads');

# the hostile twins: each killed once past its bound, long before its
# timeout (60 s)
for my $q ('', '?huge') {
    my $log = length $t->runner_log;
    $r = req($t->{port}, "HEAD /fn/endless$q");
    is($r->{status}, 200, "HEAD to an endless stream$q: 200");
    ok(FaasTest::wait_for(sub { substr($t->runner_log, $log)
                                =~ /"endless": worker \d+ wrote \d+ bytes nob/
                              }, 20), '... killed past its bound');
    my ($n) = substr($t->runner_log, $log) =~ /wrote (\d+) bytes/;
    ok(defined $n && $n > 17 * 1024 * 1024 && $n < 18 * 1024 * 1024,
       '... at ' . ($n // '?') . ' bytes: 16 MiB and 1');
    ok(FaasTest::wait_for(sub { !$t->workers('endless') }, 10),
       '... no process of it left');
}

$r = req($t->{port}, "GET /fn/big?$big");
is(length($r->{body}), 3000000, 'a GET of the same: its 3 MB');
is(pid(), $pid, '... the same worker serves on');

$t->done;
done_testing;

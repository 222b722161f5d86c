#!/usr/bin/perl

# A function that writes a body where HTTP has none: a HEAD's, a 204's
# or a 304's. nginx reads none: stock fastcgi_pass ends its connection
# to the runner after the header, and the runner, as for any client
# that left, killed the worker once it had written 1 MiB nobody read
# ("wrote N bytes nobody reads"): every HEAD of a large resource cost a
# worker and its next request a cold start. Promise: the runner passes
# the header on and drops such a body, as php-fpm and gunicorn send
# none; the worker serves on, through stock fastcgi_pass and faas_pass,
# in FastCGI and CGI mode; a GET of the same gets its whole body. Such
# a body is dropped up to its Content-Length, or 16 MiB without one
# (what faas_pass reads of it); past that the worker is killed as for
# any client that left: a HEAD to an endless stream, or one whose
# Content-Length lies, holds no slot to its timeout.

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
*)   printf 'Content-Type: text/plain\r\nContent-Length: 3000000\r\n\r\n' ;;
esac
head -c 3000000 /dev/zero | tr '\0' x
EOF
# 20 MB said and written: past the 16 MiB a body without length may be
$t->function('large', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => <<'EOF');
#!/bin/sh
printf 'Content-Type: text/plain\r\nContent-Length: 20000000\r\n\r\n'
head -c 20000000 /dev/zero
EOF
# endless, with no length or a length that lies
$t->function('endless', "exec = ./run.sh\nmode = cgi\ntimeout = 60s\n",
             'run.sh' => <<'EOF');
#!/bin/sh
case "$QUERY_STRING" in
lie) printf 'Content-Type: text/plain\r\nContent-Length: 1000\r\n\r\n' ;;
*)   printf 'Content-Type: text/plain\r\n\r\n' ;;
esac
exec yes endless
EOF

my $faas_port = FaasTest::free_port();
$t->start_runner;
$t->start_nginx($t->fastcgi_location
    . $t->faas_route_server($faas_port));

sub req {
    my ($port, $line) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    return FaasTest::http_exchange($s, "$line HTTP/1.0\r\nHost: x\r\n\r\n",
                                   timeout => 20);
}

my ($pid) = req($t->{port}, 'GET /fn/big')->{body} =~ /(\d+)/;
ok($pid, "the worker's pid");

for my $front (['fastcgi_pass', $t->{port}], ['faas_pass', $faas_port]) {
    my ($name, $port) = @$front;
    for (1 .. 3) {
        my $r = req($port, 'HEAD /fn/big?op=big&n=3000000');
        is("$r->{status} [$r->{body}]", '200 []', "$name: HEAD of 3 MB: 200, "
           . 'no body');
    }
    my $r = req($port, 'HEAD /fn/cgi');
    is($r->{status}, 200, "$name: a CGI's HEAD of 3 MB: 200");
    is(FaasTest::header($r, 'content-length'), '3000000',
       '... its Content-Length');
    for my $s (204, 304) {
        $r = req($port, "GET /fn/cgi?$s");
        is("$r->{status} [$r->{body}]", "$s []", "$name: a CGI's $s with "
           . '3 MB after it: no body');
    }
}

my $r = req($t->{port}, 'HEAD /fn/large');
is(FaasTest::header($r, 'content-length'), '20000000',
   "fastcgi_pass: a CGI's HEAD of 20 MB, said: its Content-Length");
ok(FaasTest::wait_for(sub { $t->runner_log =~ /"large"[^\n]* ended \(ok\)/ },
                      20), '... its run ends by itself');

# the hostile twins: each killed once past its bound, long before its
# timeout (60 s)
for my $q ('', '?lie') {
    my $log = length $t->runner_log;
    $r = req($t->{port}, "HEAD /fn/endless$q");
    is($r->{status}, 200, "HEAD to an endless stream$q: 200");
    ok(FaasTest::wait_for(sub { substr($t->runner_log, $log)
                                =~ /"endless": worker \d+ wrote \d+ bytes nob/
                              }, 20),
       '... killed past its bound');
    my ($n) = substr($t->runner_log, $log) =~ /wrote (\d+) bytes/;
    ok($q ? $n < 2 * 1024 * 1024 : $n > 16 * 1024 * 1024,
       "... at $n bytes: " . ($q ? 'its length and 1 MiB' : '16 MiB and 1'));
    ok(FaasTest::wait_for(sub { !$t->workers('endless') }, 10),
       '... no process of it left');
}

$r = req($t->{port}, 'GET /fn/big?op=big&n=3000000');
is(length($r->{body}), 3000000, 'a GET of the same: its 3 MB');
is((req($t->{port}, 'GET /fn/big')->{body} =~ /(\d+)/)[0], $pid,
   'the same worker serves on');
unlike($t->runner_log, qr/"(?:big|cgi|large)"[^\n]* nobody reads/,
       'none killed for a body unread');

$t->done;
done_testing;

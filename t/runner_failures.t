#!/usr/bin/perl

# Functions that misbehave: hang, crash, exit, write garbage, cannot
# start. The client gets 502 or 504, the worker is replaced, and the
# runner and the other functions go on unharmed.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('slow', "exec = $fn\ntimeout = 1s\n");
$t->function('bad', "exec = $fn\nmax_instances = 2\n");
$t->function('good', "exec = $fn\n");
$t->function('single', "exec = $fn\nmax_instances = 1\nqueue_timeout = 1s\n");
$t->function('missing', "exec = ./no-such-program\n");
$t->function('quitter', "exec = $fn\nenv.TESTFN_EXIT = 1\n");
$t->start_runner;
$t->start_nginx;

my $good = $t->http_get('/fn/good');
is($good->{status}, 200, 'good function answers');

# timeout: 504, the whole process group is killed
my $t0 = time;
my $r = $t->http_get('/fn/slow?op=spawnchild&ms=60000');
my $took = time - $t0;
is($r->{status}, 504, 'timeout: 504');
is($r->{body}, "504 Gateway Timeout\n", 'short fixed body');
ok($took > 0.9 && $took < 5, sprintf('after the timeout (%.2f s)', $took));
my $dir = $t->functions_dir . '/slow';
ok(FaasTest::wait_for(sub {
       !grep { FaasTest::proc_cwd($_) =~ m{/slow$} } $t->leftovers }, 5),
   'worker and its helper process are gone');
like($t->runner_log, qr/"slow" timed out after 1000 ms/, 'timeout logged');
is($t->http_get('/fn/slow?op=sleep&ms=10')->{status}, 200,
   'a new worker serves the next request');

# crash before any output
$t->http_get('/fn/bad');
my ($bpid) = $t->workers('bad');
$r = $t->http_get('/fn/bad?op=crash');
is($r->{status}, 502, 'crash: 502');
is($r->{body}, "502 Bad Gateway\n", 'short fixed body');
ok($t->wait_log(qr/worker \d+ of "bad" exited on signal 11/),
   'crash logged with its signal');
ok(FaasTest::wait_for(sub { !-e "/proc/$bpid" }, 5),
   'the crashed worker is reaped: not even a zombie left');
is($t->http_get('/fn/bad')->{status}, 200, 'bad function recovers');
is($t->http_get('/fn/good')->{status}, 200, 'other functions unaffected');

# crash after part of the response went out: the client must not take
# a cut response for a whole one
my $x = $t->fcgi_call('bad', params => [ QUERY_STRING => 'op=crash&flush=1' ]);
ok($x->{eof} && !$x->{ended}, 'crash mid-response: connection closed, '
   . 'no END_REQUEST');
like($x->{stdout}, qr/partial/, 'after the part that was sent');

# and, asked for, the measurements come before the close: the invocation
# ran and is billed, its outcome crashed
$x = $t->fcgi_call('bad', params => [ QUERY_STRING => 'op=crash&flush=1',
                                      FAAS_METER => 1 ]);
my ($m) = map { $_->[2] } grep { $_->[0] == 100 } @{ $x->{records} };
ok($x->{eof} && !$x->{ended}, 'metered crash mid-response: still no '
   . 'END_REQUEST');
like($m // '', qr/\x07\x07outcomecrashed/, 'but its measurements, crashed');
like($m // '', qr/duration/, 'with its duration');

# exit mid-request, once it read the request: it ran it, so neither a
# POST nor a GET is sent to a second worker (one that never read it, a
# retiring php-cgi's, is: runner_php.t)
my $exits = sub { scalar(() = $t->runner_log =~ /of "bad" exited with code 3/g) };
$t->http_get('/fn/bad');
$r = $t->http_post('/fn/bad?op=exit', 'x');
is($r->{status}, 502, 'exit mid-request: 502');
ok(FaasTest::wait_for(sub { $exits->() == 1 }, 5), 'exit code logged');
sleep 0.5;
is($exits->(), 1, 'a POST is not sent to a second worker');

$t->http_get('/fn/bad');
$r = $t->http_get('/fn/bad?op=exit');
is($r->{status}, 502, 'exit mid-request, GET: 502');
ok(FaasTest::wait_for(sub { $exits->() == 2 }, 5), 'exit code logged');
sleep 0.5;
is($exits->(), 2, 'a GET it read is not run again either');

# garbage instead of FastCGI
$r = $t->http_get('/fn/bad?op=garbage');
is($r->{status}, 502, 'garbage: 502');
like($t->runner_log, qr/"bad" sent garbage/, 'garbage logged');

# concurrent: one crashes while another runs on a sibling worker
my $s = $t->http_start('/fn/bad?op=sleep&ms=500');
sleep 0.1;
is($t->http_get('/fn/bad?op=crash')->{status}, 502, 'crash beside a '
   . 'running request');
is(FaasTest::http_finish($s)->{status}, 200, 'the sibling request is fine');

# cannot start: missing program
$r = $t->http_get('/fn/missing');
is($r->{status}, 502, 'missing exec: 502');
like($t->runner_log, qr/"missing" cannot start: exec "\.\/no-such-program"/,
     'reason in the log');

# cannot start: exits at once; respawns are throttled
$r = $t->http_get('/fn/quitter');
is($r->{status}, 502, 'exits at start: 502');
ok($t->wait_log(qr/of "quitter" exited with code 1 before it was ready/),
   'logged as a start failure');
my $n0 = () = $t->runner_log =~ /"quitter" exited with code 1/g;
my $fast = 0;
$t0 = time;
for (1 .. 30) {
    $fast++ if $t->http_get('/fn/quitter')->{status} == 502;
}
$took = time - $t0;
is($fast, 30, 'all 30 requests answered 502');
my $n1 = () = $t->runner_log =~ /"quitter" exited with code 1/g;
ok($n1 - $n0 <= 4, 'but at most a few start attempts in '
   . sprintf('%.1f s (%d)', $took, $n1 - $n0));
ok($took < 10, 'and no request waits out queue_timeout');

is($t->http_get('/fn/good')->{status}, 200, 'good function still fine');

# a POST answered while its body waits for a worker (503 at
# queue_timeout): the rest of the body is read and dropped, and the kept
# connection serves nginx's next request (it waited for ever before)
{
    my $busy = $t->http_start('/fn/single?op=sleep&ms=4000');
    sleep 1;
    my $p = $t->http_post('/fn/single', 'b' x 5000, timeout => 10);
    is($p && $p->{status}, 503, 'a POST queued past queue_timeout: 503');
    my $g = $t->http_get('/fn/good', timeout => 10);
    is($g && $g->{status}, 200,
       'the kept connection serves the next request');
    FaasTest::http_finish($busy, timeout => 10);
}
ok(FaasTest::proc_alive($t->runner_pid), 'runner alive');

# no zombies among the runner's children
my @z = grep { FaasTest::read_file("/proc/$_/stat") =~ /^\d+ \(.*\) Z/s }
        FaasTest::proc_children($t->runner_pid);
ok(FaasTest::wait_for(sub {
       !grep { FaasTest::read_file("/proc/$_/stat") =~ /^\d+ \(.*\) Z/s }
             FaasTest::proc_children($t->runner_pid) }, 3),
   'no zombie children');

$t->done;
done_testing;

#!/usr/bin/perl

# Worker pools within limits: reuse, recycle after max_requests, scale to
# zero after idle_timeout, min_instances kept warm, max_instances, the
# most recently used worker first, the bounded queue and max_workers.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $fn = $t->testfn;

# told apart by the pid the worker reports: the host's without a pid
# namespace
$t->function('recycle', "exec = $fn\nmax_requests = 3\nisolation = none\n");
$t->function('idle', "exec = $fn\nidle_timeout = 1s\nmax_instances = 4\n");
$t->function('warm', "exec = $fn\nmin_instances = 2\nmax_instances = 4\n"
                     . "idle_timeout = 1s\n");
$t->function('one', "exec = $fn\nmax_instances = 1\nqueue = 2\n");
$t->function('impatient', "exec = $fn\nmax_instances = 1\n"
                          . "queue_timeout = 500ms\n");
$t->function('noqueue', "exec = $fn\nmax_instances = 1\nqueue = 0\n");
$t->start_runner(conf => "max_workers = 12\nlimit_isolation = none\n");
$t->start_nginx;

sub pid_of { ($_[0]{body} // '') =~ /pid=(\d+)/ ? $1 : 0 }

# max_requests
my @p = map { pid_of($t->http_get('/fn/recycle')) } 1 .. 7;
is($p[0], $p[1], 'recycle: second request on the same worker');
is($p[1], $p[2], 'recycle: third too');
isnt($p[3], $p[2], 'recycle: fourth on a new worker');
is($p[3], $p[5], 'which serves three');
isnt($p[6], $p[5], 'and is replaced in turn');
ok(FaasTest::wait_for(sub { !FaasTest::proc_alive($p[0]) }, 5),
   'the retired worker exited');

# min_instances: warm before any request
ok(FaasTest::wait_for(sub { $t->workers('warm') == 2 }, 5),
   'min_instances = 2: two workers before any request');

# a burst: more workers, up to max_instances
my @s = map { $t->http_start("/fn/$_?op=sleep&ms=700") } ('idle') x 6,
                                                         ('warm') x 6;
my ($most_idle, $most_warm) = (0, 0);
my $end = time + 0.6;
while (time < $end) {
    my $i = $t->workers('idle');
    my $w = $t->workers('warm');
    $most_idle = $i if $i > $most_idle;
    $most_warm = $w if $w > $most_warm;
    sleep 0.05;
}
my @r = map { FaasTest::http_finish($_) } @s;
is(scalar(grep { $_->{status} == 200 } @r), 12, 'burst of 12 all served');
is($most_idle, 4, 'idle: burst grows to max_instances = 4');
is($most_warm, 4, 'warm: burst grows to max_instances = 4');

# after the burst, steady sequential traffic stays on one worker (most
# recently used first) so the others go idle and are stopped
my %seen;
$end = time + 2.5;
while (time < $end) {
    $seen{ pid_of($t->http_get('/fn/idle')) }++;
    sleep 0.05;
}
is($t->workers('idle'), 1, 'steady traffic after a burst: one worker left');
my @top = sort { $seen{$b} <=> $seen{$a} } keys %seen;
ok($seen{ $top[0] } > 0.9 * (eval { my $n = 0; $n += $_ for values %seen; $n }),
   'served by the most recently used worker');

# scale to zero
ok(FaasTest::wait_for(sub { $t->workers('idle') == 0 }, 5),
   'idle_timeout: scaled to zero');
ok(FaasTest::wait_for(sub { $t->workers('warm') == 2 }, 5),
   'min_instances: back to two, not zero');
sleep 1.5;
is($t->workers('warm'), 2, 'and stays at two');

# scale from zero again
my $r = $t->http_get('/fn/idle');
is($r->{status}, 200, 'a request after scale to zero');

# the queue: one worker, two may wait, the next is refused
@s = map { $t->http_start('/fn/one?op=sleep&ms=800') } 1 .. 3;
sleep 0.3;
my $t0 = time;
$r = $t->http_get('/fn/one');
my $took = time - $t0;
is($r->{status}, 503, 'queue full: 503');
is(FaasTest::header($r, 'retry-after'), '1', 'with Retry-After');
ok($took < 0.5, 'at once, not after the wait');
@r = map { FaasTest::http_finish($_) } @s;
is(scalar(grep { $_->{status} == 200 } @r), 3, 'the queued three served');
is($t->workers('one'), 1, 'by the one worker');
like($t->runner_log, qr/"one": queue of 2 is full/, 'queue full logged');

# queue = 0: no waiting at all once the worker is busy
my $s1 = $t->http_start('/fn/noqueue?op=sleep&ms=600');
sleep 0.3;
$r = $t->http_get('/fn/noqueue');
is($r->{status}, 503, 'queue = 0: busy worker means 503');
is(FaasTest::http_finish($s1)->{status}, 200, 'the running one finishes');

# queue_timeout
$s1 = $t->http_start('/fn/impatient?op=sleep&ms=1500');
sleep 0.2;
$t0 = time;
$r = $t->http_get('/fn/impatient');
$took = time - $t0;
is($r->{status}, 503, 'queue_timeout: 503');
ok($took >= 0.4 && $took < 1.3, sprintf('after about 500 ms (%.2f s)', $took));
is(FaasTest::http_finish($s1)->{status}, 200, 'the slow one finishes');

$t->done;
done_testing;

#!/usr/bin/perl

# max_workers bounds all functions together: at the limit, the least
# recently used idle worker of another function makes room, and requests
# beyond the limit wait in their queue instead of failing. The hostile
# twin: a function with no queue at the limit, asked ten times at once,
# stops one idle worker in all (each refused request used to stop one);
# one request waiting stops one worker, no more.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('a', "exec = $fn\n");
$t->function('b', "exec = $fn\n");
$t->function('c', "exec = $fn\nqueue = 0\n");
$t->function('d', "exec = $fn\n");
$t->start_runner(conf => "max_workers = 2\n");
$t->start_nginx;

is($t->http_get('/fn/a')->{status}, 200, 'a served');
is(scalar $t->workers('a'), 1, 'a keeps an idle worker');

my @s = map { $t->http_start('/fn/b?op=sleep&ms=600') } 1 .. 3;
my $most = 0;
my $end = time + 1.5;
while (time < $end) {
    # the workers: not the functions' prototypes
    my $n = () = grep {
        FaasTest::read_file("/proc/$_/cmdline") !~ /^faas-init\0prototype\0/
    } FaasTest::proc_children($t->runner_pid);
    $most = $n if $n > $most;
    sleep 0.02;
}
my @r = map { FaasTest::http_finish($_) } @s;
is(scalar(grep { $_->{status} == 200 } @r), 3, 'three requests of b served');
ok($most <= 2, "never more than max_workers = 2 processes ($most)");
is(scalar $t->workers('a'), 0, 'the idle worker of a made room');
like($t->runner_log, qr/max_workers reached: stopping idle worker \d+ of "a"/,
     'and that was logged');
is($t->http_get('/fn/a')->{status}, 200, 'a still serves after');

$t->done;

# the host full of idle workers of four functions; c may have one worker
# and no queue: ten requests at once stop one idle worker in all
my $h = FaasTest->new;
$h->function("w$_", "exec = $fn\n") for 1 .. 4;
$h->function('c', "exec = $fn\nqueue = 0\nmax_instances = 1\n");
$h->start_runner(conf => "max_workers = 4\n");
$h->start_nginx;
is($h->http_get("/fn/w$_")->{status}, 200, "w$_ served") for 1 .. 4;
my @idle = map { $h->workers("w$_") } 1 .. 4;
is(scalar @idle, 4, 'four idle workers: the host is full');

my @c = map { $h->http_start('/fn/c?op=sleep&ms=300') } 1 .. 10;
my %status;
$status{ (FaasTest::http_finish($_, timeout => 10) // {})->{status} // 0 }++
    for @c;
is(($status{503} // 0) + ($status{200} // 0), 10,
   'c, with no queue, ten at once at the limit: each 503 or 200 ('
   . join(' ', map { "$_=$status{$_}" } sort keys %status) . ')');
my $n = () = $h->runner_log =~ /stopping idle worker \d+ of "w\d" for "c"/g;
is($n, 1, '... one idle worker stopped for them all, not one each');
my @kept = map { $h->workers("w$_") } 1 .. 4;
is(scalar @kept, 3, '... the other three kept');
is($h->http_get('/fn/c')->{status}, 200, '... and c is served after');

$h->done;
done_testing;

#!/usr/bin/perl

# max_workers bounds all functions together: at the limit, the least
# recently used idle worker of another function makes room, and requests
# beyond the limit wait in their queue instead of failing. The hostile
# twin: a function with no queue at the limit, asked again and again, is
# refused and stops nobody's idle worker (each used to stop one for a
# request refused anyway); one request waiting stops one worker, no more.

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

# the host full of idle workers, a and b
is($t->http_get('/fn/b')->{status}, 200, 'b served');
my @idle = sort($t->workers('a'), $t->workers('b'));
is(scalar @idle, 2, 'two idle workers, a\'s and b\'s');
my %status;
$status{ $t->http_get('/fn/c')->{status} // 0 }++ for 1 .. 10;
is(join(' ', %status), '503 10', 'c, with no queue, at the limit: 503 each');
is(join(' ', sort($t->workers('a'), $t->workers('b'))), "@idle",
   '... and no idle worker was stopped for it');
unlike($t->runner_log, qr/stopping idle worker \d+ of "\w" for "c"/,
       '... none logged');

is($t->http_get('/fn/d')->{status}, 200, 'd, with a queue, waits and is served');
my $n = () = $t->runner_log =~ /stopping idle worker \d+ of "\w" for "d"/g;
is($n, 1, '... one idle worker stopped for it');
my @kept = ($t->workers('a'), $t->workers('b'));
is(scalar @kept, 1, '... the other kept');

$t->done;
done_testing;

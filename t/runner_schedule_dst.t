#!/usr/bin/perl

# Schedules across a change of the clocks, in the runner (its wall clock
# alone is moved, by build/t/fakeclock.so; the machine's is never
# touched): in Europe/Berlin a daily 02:30 runs when the clocks jump
# forward past it (not a day later), and in the hour they repeat a
# schedule of every hour computed in the first pass runs again at the
# second 02:00 (not an hour later) while one that names the hour does not run twice.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::Local qw(timegm);

my $shim = "$FaasTest::BUILD/t/fakeclock.so";
FaasTest::need(-f $shim, "$shim (make builds it)");

my $t = FaasTest->new;
my $p = $t->prefix;
my $offset = "$p/clock-offset";

my $run = "#!/bin/sh\necho run >> out/log\n"
          . "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n";
my %dir;
for my $f (['daily', '30 2 * * *'], ['hourly', '0 * * * *'],
           ['fixed', '0 2 * * *'])
{
    $dir{$f->[0]} = $t->function($f->[0], "exec = ./run.sh\nmode = cgi\n"
                                 . "schedule = $f->[1]\n"
                                 . "schedule_timezone = Europe/Berlin\n",
                                 'run.sh' => $run);
    mkdir "$dir{$f->[0]}/out";
    chmod 0777, "$dir{$f->[0]}/out";
}

sub runs {
    my ($name) = @_;
    return scalar grep { length } split /\n/,
           FaasTest::read_file("$dir{$name}/out/log");
}

# the runner started with its clock $lead seconds before $at (UTC)
sub start_before {
    my ($at, $lead) = @_;
    FaasTest::write_file($offset, ($at - $lead - time) . "\n");
    $t->start_runner(env => {
        LD_PRELOAD => $shim,
        FAKECLOCK_FILE => $offset,
        ASAN_OPTIONS => $FaasTest::SANITIZER_ENV{ASAN_OPTIONS}
                        . ':verify_asan_link_order=0',
    });
}

# forward: 2026-03-29 01:00 UTC, 02:00 CET becomes 03:00 CEST
start_before(timegm(0, 0, 1, 29, 2, 2026), 6);
ok(FaasTest::wait_for(sub { runs('daily') >= 1 }, 30),
   'the clocks jump over 02:30: the daily 02:30 runs at the jump');
sleep 3;
is(runs('daily'), 1, '... once');
$t->stop_runner;

# back: 2026-10-25 01:00 UTC, 03:00 CEST becomes 02:00 CET
# (started in the first pass at 02:10 CEST, the clock then moved on to
# just before the change: the next tick was computed at 02:10)
FaasTest::write_file("$dir{$_}/out/log", '') for keys %dir;
my $back = timegm(0, 0, 1, 25, 9, 2026);
start_before($back, 3000);
sleep 1;
FaasTest::write_file($offset, ($back - 5 - time) . "\n");
ok(FaasTest::wait_for(sub { runs('hourly') >= 1 }, 30),
   'the clocks go back to 02:00: a schedule of every hour runs again');
sleep 3;
is(runs('hourly'), 1, '... once');
is(runs('fixed'), 0, 'one at 02:00 ran in the first pass: not again');
$t->stop_runner;

$t->done;
done_testing;

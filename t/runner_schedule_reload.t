#!/usr/bin/perl

# A reload (SIGHUP) never skips a tick. A changed function.conf used to
# make its schedule's first look again; the runner looks once a second,
# so a reload in the second before a tick had that look fall on the
# tick, which it took for one already past: the tick never ran, and
# nothing said so. Promise: with the schedule unchanged the next tick
# is kept; with it written anew, a tick due at the first look runs.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;

my $every = 4;
my $rec = <<'EOF';
#!/bin/sh
date +%s >> out/log
printf 'Content-Type: text/plain\r\n\r\nticked\n'
EOF
my $dir = $t->function('tick', "exec = ./run.sh\nmode = cgi\n"
                       . "schedule = \@every ${every}s\n",
                       'run.sh' => $rec);
mkdir "$dir/out";
chmod 0777, "$dir/out";

$t->start_runner;

sub runs {
    return grep { /^\d+$/ } split /\n/,
        (FaasTest::read_file("$dir/out/log") // '');
}

# the first tick ran: the schedule is looked at
ok(FaasTest::wait_for(sub { runs() >= 1 }, 3 * $every),
   'it ticks') or BAIL_OUT('no tick at all');

# a reload 0.6 s before a tick, with function.conf changed: the same
# schedule (a comment added), then written anew twice ("4" for "4s")
my @confs = ("schedule = \@every ${every}s\n# changed\n",
             "schedule = \@every $every\n",
             "schedule = \@every ${every}s\n");
my $i = 0;
for my $sched (@confs) {
    $i++;

    # the next tick at least a second away, then 0.6 s before it
    my $tick = (int(time / $every) + 1) * $every;
    $tick += $every if $tick - time < 1.5;
    sleep($tick - 0.6 - time);

    FaasTest::write_file("$dir/function.conf",
                         "exec = ./run.sh\nmode = cgi\n$sched");
    $t->signal_runner('HUP');

    my $ran = FaasTest::wait_for(
        sub { grep { $_ >= $tick && $_ <= $tick + 2 } runs() }, 4);
    ok($ran, "reload $i, 0.6 s before the tick at $tick: the tick ran")
        or diag(join ' ', runs());
}

# and nothing ran twice for one tick
my %seen;
$seen{$_}++ for runs();
ok(!grep({ $_ > 1 } values %seen), 'no second run of a tick')
    or diag(join ' ', runs());

$t->done;
done_testing;

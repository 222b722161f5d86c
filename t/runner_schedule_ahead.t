#!/usr/bin/perl

# A schedule's last tick in the store ahead of the clock (kept by a
# clock that was ahead: this host's before NTP set it right, or another
# host's of a shared store): the ticks go on from now, said. It was
# waited for: a last tick an hour ahead silenced the schedule for that
# hour after a restart (a hostile review; with PostgreSQL fleet-wide,
# its GREATEST keeping the value ahead).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need(-x '/usr/bin/sqlite3', 'the sqlite3 command (make test-deps)');

my $t = FaasTest->new;
my $p = $t->prefix;
my $db = "$p/state/async.db";

sub sql { return FaasTest::sqlite($db, $_[0]) }

my $dir = $t->function('tick', "exec = ./run.sh\nmode = cgi\n"
                       . "schedule = \@every 1s\n", 'run.sh' => <<'EOF');
#!/bin/sh
echo tick >> out/log
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF
mkdir "$dir/out";
chmod 0777, "$dir/out";

sub ticks { return () = FaasTest::read_file("$dir/out/log") =~ /tick/g }

$t->start_runner;
ok(FaasTest::wait_for(sub { ticks() >= 1 }, 10), 'the schedule ticks');
is($t->stop_runner, 0, 'the runner stopped');
my $ahead = time + 3600;
sql("UPDATE schedules SET last_tick = $ahead WHERE function = 'tick'");
is(sql("SELECT last_tick FROM schedules WHERE function = 'tick'"), $ahead,
   'its last tick an hour ahead in the store');

my $before = ticks();
$t->start_runner;
ok(FaasTest::wait_for(sub { ticks() >= $before + 2 }, 10),
   'the next runner: its ticks go on from now') or diag($t->runner_log);
like($t->runner_log, qr/schedule of "tick": its last tick is 3[56]\d\d s ahead of the clock \(kept by a clock that was ahead\): its ticks go on from now/,
     '... said');
ok(sql("SELECT last_tick FROM schedules WHERE function = 'tick'") <= time,
   '... and the last tick in the store is one of now');

$t->done;

done_testing;

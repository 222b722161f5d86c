#!/usr/bin/perl

# schedule_catchup = on with runners sharing a PostgreSQL store: the
# ticks missed while every runner was down (the store's last tick an
# hour back) run once in the fleet, however many runners start. Each
# runner that starts fires the latest tick missed, the same tick for
# all, which the store takes once; firing the first one missed left
# the later ones missed for the next runner to start, one more run of
# an hour-old tick per runner.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my ($db, $uri) = FaasTest::postgres();
my (%t, %dir);

for my $name (qw(a b)) {
    my $t = $t{$name} = FaasTest->new;
    $dir{$name} = $t->function('cron', "exec = ./run.sh\nmode = cgi\n"
        . "schedule = * * * * *\nschedule_catchup = on\n",
        'run.sh' => <<"EOF");
#!/bin/sh
echo "\$FAAS_INVOCATION_ID $name" >> out/log
printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'
EOF
    mkdir "$dir{$name}/out";
    chmod 0777, "$dir{$name}/out";
}

# the store made, its last tick an hour back, as after a long outage
my $conf = $t{a}->prefix . '/migrate.conf';
FaasTest::write_file($conf, $t{a}->runner_conf_text("store = $uri\n"));
my $out = `timeout 30 @{[ $t{a}->runner_bin_name ]} store migrate --config $conf 2>&1`;
is($? >> 8, 0, 'the store is made') or diag($out);
my $start = time;
my $hour_ago = int($start) - 3600;
$db->psql("INSERT INTO faas.schedules (function, last_tick) VALUES "
          . "('cron', $hour_ago)");

sub runs {
    return map { grep { length } split /\n/,
                 FaasTest::read_file("$dir{$_}/out/log") } qw(a b);
}

$t{a}->start_runner(conf => "store = $uri\n");
ok($t{a}->wait_log(qr/schedule of "cron": tick \d+, invocation [0-9a-f]{32}/, 20),
   'runner a: the missed ticks are run');
ok(FaasTest::wait_for(sub { runs() >= 1 }, 20), '... and it ran');

# a second runner of the fleet starts after it
$t{b}->start_runner(conf => "store = $uri\n");
ok(FaasTest::wait_for(sub {
    $t{b}->runner_log =~ /listening on/ }, 20), 'runner b starts');
sleep 3;

my $old = $start - 120;
is($db->psql("SELECT count(*) FROM faas.ticks WHERE function = 'cron' "
             . "AND tick < $old"), "0\n",
   'no tick of an hour ago was run: the one run is the latest missed');
my $ticks = $db->psql("SELECT count(*) FROM faas.ticks WHERE "
                      . "function = 'cron'") + 0;
cmp_ok($ticks, '>=', 1, "the store holds the catch-up tick ($ticks)");
is(scalar(runs()), $ticks, 'one run a tick in the fleet');

$t{$_}->done for qw(a b);
$db->done;

done_testing;

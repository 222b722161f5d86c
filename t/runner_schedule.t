#!/usr/bin/perl

# Schedules: a function's "schedule" (cron, @hourly, "@every 1s") makes
# each tick an asynchronous invocation with FAAS_TRIGGER=schedule; a slow
# run is never overlapped; ticks missed while the runner was down run
# once with schedule_catchup on, not at all without; every run is metered
# into meter_log, which fcgi-runner meter reads. The cron arithmetic is
# checked through "fcgi-runner schedule", bad expressions through
# --test.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep);
use Time::Local ();

my $t = FaasTest->new;
my $bin = "$FaasTest::ROOT/build/fcgi-runner";

# --- the arithmetic ---------------------------------------------------------

sub ticks {
    my ($expr, $from, $n) = @_;
    my @l = `$bin schedule '$expr' --from $from --count $n 2>&1`;
    chomp @l;
    return join ' | ', map { s/:00Z \w+$//r } @l;
}

is(ticks('*/15 * * * *', '2026-11-27T15:07', 3),
   '2026-11-27T15:15 | 2026-11-27T15:30 | 2026-11-27T15:45', 'every 15 min');
is(ticks('0 9 * * mon-fri', '2026-11-27T15:07', 3),
   '2026-11-30T09:00 | 2026-12-01T09:00 | 2026-12-02T09:00',
   'weekdays at 9, over a weekend');
is(ticks('0 0 29 2 *', '2026-11-27T15:07', 2),
   '2028-02-29T00:00 | 2032-02-29T00:00', 'the 29th of February');
is(ticks('0 0 1,15 * sun', '2026-11-27T15:07', 3),
   '2026-11-29T00:00 | 2026-12-01T00:00 | 2026-12-06T00:00',
   'day of month or day of week, as cron');
is(ticks('@hourly', '2026-12-31T23:30', 2),
   '2027-01-01T00:00 | 2027-01-01T01:00', '@hourly, over a new year');
is(ticks('30 4 1 jan *', '2026-11-27T15:07', 1), '2027-01-01T04:30',
   'month by name');
is(ticks('0 0 31 2 *', '2026-11-27T15:07', 1), 'no tick within nine years',
   'the 31st of February never comes');
`$bin schedule '0 0 31 2 *' 2>&1`;
is($? >> 8, 1, '... an exit status that says so');
`$bin schedule '0 0 29 2 *' --count 3 2>&1`;
is($? >> 8, 0, 'a schedule with ticks, fewer than asked within nine years: 0');
# 2100 is no leap year: the 29th of February is eight years apart there
# (a schedule that gave up at five years never ran again after 2096)
is(ticks('0 0 29 2 *', '2096-03-01T00:00', 2),
   '2104-02-29T00:00 | 2108-02-29T00:00', 'the 29th of February after 2096');
`$bin schedule '61 * * * *' 2>&1`;
isnt($?, 0, 'minute 61: refused');
# a step is bounded as a value is: no sum of value and step overflows
for my $e ('30/2147483647 * * * *', '*/4294967297 * * * *',
           '0 */25 * * *', '*/61 * * * *', '*/+5 * * * *', '*/ 5 * * * *',
           '0 0 1-31/99999999999999999999 * *')
{
    my $o = `$bin schedule '$e' --from 2026-11-27T15:07 --count 40 2>&1`;
    isnt($?, 0, "step of \"$e\": refused") or diag($o);
}
is(ticks('*/60 * * * *', '2026-11-27T15:07', 2),
   '2026-11-27T16:00 | 2026-11-27T17:00', 'a step of the whole width');
is(ticks('5/7 * * * *', '2026-11-27T15:07', 2),
   '2026-11-27T16:05 | 2026-11-27T17:05', 'N/STEP is N, as before');
like(`TZ=Asia/Tokyo $bin schedule '0 9 * * *' --local --from 2026-11-27T10:00 --count 1`,
     qr/^2026-11-28T09:00:00\+0900 Sat$/, 'in a time zone (--local, TZ)');

# a function's schedule_timezone, as it takes it (a stranger had to
# know that TZ and --local do it)
like(`$bin schedule '0 9 * * *' --timezone Asia/Tokyo --from 2026-11-27T10:00 --count 1`,
     qr/^2026-11-28T09:00:00\+0900 Sat$/, '--timezone Asia/Tokyo');
like(`TZ=UTC $bin schedule '30 2 * * *' --timezone Europe/Paris --from 2026-03-28T12:00 --count 2`,
     qr/^2026-03-29T03:00:00\+0200 Sun\n2026-03-30T02:30:00\+0200 Mon$/,
     "... the zone's daylight saving (no 02:30 in Paris on 29 March: the gap's end)");
my $bad = `$bin schedule '0 9 * * *' --timezone Mars/Olympus 2>&1`;
is($? >> 8, 2, '--timezone unknown: exit 2');
like($bad, qr/unknown time zone "Mars\/Olympus"/, '... said');

# --from is read after every option: in local time with --local after it
like(`TZ=Asia/Tokyo $bin schedule '0 9 * * *' --from 2026-11-27T08:00 --local --count 1`,
     qr/^2026-11-27T09:00:00\+0900 Fri$/, '--from before --local: local too');
`$bin schedule '* * * * *' --from 2026-11-27T08:00x 2>&1`;
is($? >> 8, 2, '--from with more after it: refused');

# changes of the clocks (Europe/Berlin: forward at 02:00 on 2026-03-29,
# back at 03:00 on 2026-10-25; Lord Howe: half an hour)
sub local_ticks {
    my ($tz, $expr, $from, $n) = @_;
    my @l = `TZ=$tz $bin schedule '$expr' --local --from $from --count $n 2>&1`;
    chomp @l;
    return join ' | ', map { s/:00([+-]\d{4}) \w+$/$1/r } @l;
}
# [zone, expression, from, ticks expected, what it shows]
my $B = 'Europe/Berlin';
for my $c (
    [$B, '30 2 * * *', '2026-03-28T12:00',
     '2026-03-29T03:00+0200 | 2026-03-30T02:30+0200 | 2026-03-31T02:30+0200',
     'a tick the clocks skip runs when they jump, not a day later'],
    [$B, '*/30 * * * *', '2026-03-29T01:20',
     '2026-03-29T01:30+0100 | 2026-03-29T03:00+0200 | 2026-03-29T03:30+0200'
     . ' | 2026-03-29T04:00+0200', '... 02:00, 02:30 and 03:00 are one run'],
    [$B, '* * * * *', '2026-03-29T01:58',
     '2026-03-29T01:59+0100 | 2026-03-29T03:00+0200 | 2026-03-29T03:01+0200',
     '... every minute: on at the jump'],
    [$B, '0 * * * *', '2026-10-25T01:10',
     '2026-10-25T02:00+0200 | 2026-10-25T02:00+0100 | 2026-10-25T03:00+0100'
     . ' | 2026-10-25T04:00+0100',
     'an hour the clocks repeat: a schedule of every hour runs in both'],
    [$B, '*/30 * * * *', '2026-10-25T01:40',
     '2026-10-25T02:00+0200 | 2026-10-25T02:30+0200 | 2026-10-25T02:00+0100'
     . ' | 2026-10-25T02:30+0100 | 2026-10-25T03:00+0100',
     '... from the end of the first pass to the second'],
    [$B, '30 2 * * *', '2026-10-24T05:00',
     '2026-10-25T02:30+0200 | 2026-10-26T02:30+0100 | 2026-10-27T02:30+0100',
     '... one that names its hour: once, in the first pass'],
    # Troll repeats two hours (+02 to +00 at 03:00): from inside the
    # second pass, a schedule that names its hours waits for its end (it
    # gave up after 64 minutes passed over: no tick within five years)
    ['Antarctica/Troll', '* 0-22 * * *', '2025-10-26T01:30',
     '2025-10-26T03:00+0000 | 2025-10-26T03:01+0000',
     'a repeated period of two hours, from inside its second pass'],
    ['Australia/Lord_Howe', '*/15 * * * *', '2026-10-04T01:40',
     '2026-10-04T01:45+1030 | 2026-10-04T02:30+1100 | 2026-10-04T02:45+1100',
     'a change of half an hour'])
{
    my ($tz, $expr, $from, $want, $what) = @$c;
    my $n = () = $want =~ /\|/g;
    is(local_ticks($tz, $expr, $from, $n + 1), $want, $what);
}
is(local_ticks($B, '0 0 31 2 *', '2026-11-27T15:07', 1),
   'no tick within nine years', '... the 31st of February, in a zone');

# @every: a sum of numbers with units
is(ticks('@every 1m30s', '2026-11-27T15:07', 2),
   '2026-11-27T15:07:30Z Fri | 2026-11-27T15:09', '@every 1m30s');
is(ticks('@every 1h30m', '2026-11-27T15:07', 1), '2026-11-27T16:30',
   '@every 1h30m');
is(ticks('@every 90', '2026-11-27T15:07', 1), '2026-11-27T15:07:30Z Fri',
   '@every 90: seconds');
is(ticks('@every 3000ms', '2026-11-27T15:07', 2),
   '2026-11-27T15:07:03Z Fri | 2026-11-27T15:07:06Z Fri',
   '@every 3000ms: milliseconds making whole seconds');
is(ticks('@every 0.7m', '2026-11-27T15:07', 2),
   '2026-11-27T15:07:06Z Fri | 2026-11-27T15:07:48Z Fri',
   '@every 0.7m: 42 s apart (its binary rounding forgiven)');
# not whole seconds: the tick would be each whole second (1.5s ticked
# every 1 s, 1.9s too)
for my $e ('@every 1m30', '@every 0x10s', '@every 1e3s', '@every -5m 10m',
           '@every inf', '@every 0.5s', '@every 367d', '@every 8785h',
           '@every 30 s', '@every 1.5s', '@every 1.9s', '@every 1500ms',
           '@every 500ms', '@every 1h 0.5s', '@every 10mss',
           # each unit once, the larger first: 1s1s was taken for 2 s
           '@every 1s1s', '@every 1s1m', '@every 1m 1h', '@every 30s 30s',
           '@every 1m 30')
{
    `$bin schedule '$e' 2>&1`;
    isnt($?, 0, "\"$e\": refused");
}

# --- a bad default of them all, in the runner config -------------------------

{
    my $rc = $t->prefix . '/bad-defaults.conf';
    FaasTest::write_file($rc, "functions = @{[ $t->functions_dir ]}\n"
                         . "state_dir = @{[ $t->prefix ]}/state\n"
                         . "schedule = 61 * * * *\n"
                         . "schedule_timezone = Mars/Olympus\n"
                         . "schedule_catchup = maybe\non_failure = ../x\n");
    my $o = `$bin --test --config $rc 2>&1`;
    isnt($? >> 8, 0, 'bad event defaults in the runner config: refused');
    like($o, qr{\Q$rc\E:3: invalid schedule "61 \* \* \* \*"},
         '... the schedule, by the runner config\'s file and line')
        or diag($o);
    like($o, qr{\Q$rc\E:4: unknown schedule_timezone}, '... the zone');
    like($o, qr{\Q$rc\E:5: schedule_catchup is on or off}, '... catchup');
    like($o, qr{\Q$rc\E:6: on_failure "\.\./x" is no function name},
         '... a destination');
    unlike($o, qr{function\.conf:0:}, '... never as a function.conf\'s');
}

# --- a bad one in a function.conf ----------------------------------------------

$t->function('bad', "exec = ./run.sh\nmode = cgi\nschedule = 0 25 * * *\n"
             . "schedule_timezone = Mars/Olympus\nschedule_catchup = maybe\n",
             'run.sh' => "#!/bin/sh\n");
# a date that never comes: the function refused, not a schedule that
# waits forever without a word
$t->function('never', "exec = ./run.sh\nmode = cgi\nschedule = 0 0 30 2 *\n",
             'run.sh' => "#!/bin/sh\n");
$t->function('bigstep', "exec = ./run.sh\nmode = cgi\n"
             . "schedule = 30/2147483647 * * * *\n",
             'run.sh' => "#!/bin/sh\n");
# a folder and a table of the zone database are no zones (the C library
# would take them for UTC without a word); a zone and a link to one are
for my $c (['zdir', 'Europe'], ['ztab', 'zone.tab'], ['zok', 'Asia/Kathmandu'],
           ['zlink', 'US/Eastern']) {
    $t->function($c->[0], "exec = ./run.sh\nmode = cgi\nschedule = \@daily\n"
                 . "schedule_timezone = $c->[1]\n", 'run.sh' => "#!/bin/sh\n");
}
my $out = `$bin --test --functions @{[ $t->functions_dir ]} 2>&1`;
like($out, qr{zdir/function.conf:4: unknown schedule_timezone "Europe"},
     '--test: a folder of the zone database is no zone');
like($out, qr{ztab/function.conf:4: unknown schedule_timezone "zone.tab"},
     '--test: nor is a table of it');
unlike($out, qr{(zok|zlink)/function.conf:\d+: unknown},
       '--test: a zone, and a link to one, are') or diag($out);
$t->remove_function($_) for qw(zdir ztab zok zlink);
like($out, qr{bad/function.conf:3: invalid schedule "0 25 \* \* \*"},
     '--test: an hour of 25, with file and line');
like($out, qr{bad/function.conf:4: unknown schedule_timezone "Mars/Olympus"},
     '--test: an unknown time zone');
like($out, qr{bad/function.conf:5: schedule_catchup is on or off, not "maybe"},
     '--test: catchup neither on nor off');
like($out, qr{bigstep/function.conf:3: invalid schedule "30/2147483647 },
     '--test: a step that overflowed, with file and line');
like($out, qr{never/function.conf:3: schedule "0 0 30 2 \*" names no date that comes},
     '--test: the 30th of February, with file and line');
unlike($out, qr{(bad|bigstep)/function.conf:\d+: schedule .* names no date},
       '... said only of a schedule that parses');
$t->remove_function('never');
$t->remove_function('bad');
$t->remove_function('bigstep');

# --- ticks, runs ---------------------------------------------------------------

my $rec = <<'EOF';
#!/bin/sh
echo "$FAAS_TRIGGER $REQUEST_METHOD $FAAS_INVOCATION_ID" >> out/log
printf 'Content-Type: text/plain\r\n\r\nticked\n'
EOF

my $slow = <<'EOF';
#!/bin/sh
echo "start $FAAS_INVOCATION_ID" >> out/log
sleep 3
printf 'Content-Type: text/plain\r\n\r\nslow\n'
EOF

my %dir;
$dir{tick} = $t->function('tick', "exec = ./run.sh\nmode = cgi\n"
                          . "schedule = \@every 1s\ntenant = cron\n",
                          'run.sh' => $rec);
$dir{slow} = $t->function('slow', "exec = ./run.sh\nmode = cgi\n"
                          . "schedule = \@every 1s\n", 'run.sh' => $slow);
for my $d (values %dir) {
    mkdir "$d/out";
    chmod 0777, "$d/out";
}

sub lines {
    my ($name) = @_;
    return grep { length } split /\n/,
        FaasTest::read_file("$dir{$name}/out/log");
}

my $meter = $t->prefix . '/meter.log';
$t->start_runner(conf => "meter_log = $meter\n");

ok(FaasTest::wait_for(sub { lines('tick') >= 3 }, 15),
   '@every 1s: it ticks');
like((lines('tick'))[0], qr/^schedule POST [0-9a-f]{32}$/,
     'FAAS_TRIGGER=schedule, a POST, an invocation id');

sleep 6.5;
my @starts = lines('slow');
cmp_ok(scalar @starts, '<=', 3, 'a run of 3 s every 1 s: never two at '
       . 'once (' . scalar(@starts) . ' in about 8 s)');
cmp_ok(scalar @starts, '>=', 2, '... but it goes on');
like($t->runner_log, qr/schedule of "slow": tick skipped, the last one is not done/,
     'the skipped ticks are logged');

# metered, with its trigger, and billed by fcgi-runner meter
my @m = grep { /function=tick / } split /\n/, FaasTest::read_file($meter);
cmp_ok(scalar @m, '>=', 3, 'meter_log: a line per run');
like($m[0], qr/^time=\S+ function=tick tenant=cron status=200 outcome=ok duration=\d+\.\d{3} billed=\d+\.000 .* worker=\d+ trigger=schedule id=[0-9a-f]{32}$/,
     '... in the faas_meter format, with trigger and id');
my $report = eval { decode_json(scalar `$bin meter --by tenant --format json $meter`) };
my ($cron) = grep { $_->{name} eq 'cron' } @{ $report->{groups} // [] };
cmp_ok($cron ? $cron->{invocations} : 0, '>=', 3,
       'fcgi-runner meter bills them to the tenant')
    or diag(explain($report));
cmp_ok($cron ? $cron->{billed_s} : 0, '>', 0, '... with billed time');

# each tick's log line is of its second or later, never the second
# before: the invocation is created at the tick (its "created"), then
# logged (a log of time(), the kernel's coarse clock, said the second
# before for most ticks, which fire at a second's start)
my $state = $t->prefix . '/state';
my $listed = eval { decode_json(scalar `$bin invocations --state-dir $state --function tick --format json`) } // [];
my %created = map { $_->{id} => $_->{created} } @$listed;
my ($early, $seen) = (0, 0);
my $rlog = $t->runner_log;
for my $l (split /\n/, $rlog) {
    my ($y, $mo, $d, $h, $mi, $s, $id) = $l =~ m{^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) \[info\] \d+#0: schedule of "tick": tick, invocation ([0-9a-f]{32})$}
        or next;
    my ($cy, $cmo, $cd, $ch, $cmi, $cs) = ($created{$id} // '')
        =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/ or next;
    $seen++;
    my $logged = POSIX::mktime($s, $mi, $h, $d, $mo - 1, $y - 1900, 0, 0, -1);
    my $made = Time::Local::timegm($cs, $cmi, $ch, $cd, $cmo - 1, $cy);
    $early++ if $logged < $made;
}
cmp_ok($seen, '>=', 3, 'ticks logged, their invocations listed');
is($early, 0, '... none logged in the second before it was made');

# --- missed ticks ----------------------------------------------------------------

$t->stop_runner;
sleep 2.5;
$t->start_runner(conf => "meter_log = $meter\n");
ok($t->wait_log(qr/schedule of "tick": ticks missed while the runner was down or the function not loaded are not run \(schedule_catchup is off\)/),
   'catchup off: the missed ticks are not run, and it says so');
$t->stop_runner;
sleep 2.5;
$t->start_runner(conf => "meter_log = $meter\nschedule_catchup = on\n");
ok($t->wait_log(qr/schedule of "tick": ticks missed while the runner was down or the function not loaded, invocation [0-9a-f]{32}/),
   'catchup on: they run once');

# a tick already run is not run again: a runner started in the second of
# the last tick (a restart, an upgrade) ran it twice. Here the store's
# last tick is 4 s ahead (a clock set back has the same effect, and
# gives the test seconds, not the same second, to look in)
SKIP: {
    skip 'the sqlite3 command (make test-deps)', 2 unless -x '/usr/bin/sqlite3';
    $t->stop_runner;
    my $db = $t->prefix . '/state/async.db';
    my $ahead = time + 4;
    my $sql = "UPDATE schedules SET last_tick = $ahead WHERE function = 'tick'";
    is(`sqlite3 $db "$sql; SELECT changes()" 2>&1`, "1\n",
       'the last tick of "tick" set 4 s ahead');
    my $before = lines('tick');
    $t->start_runner(conf => "meter_log = $meter\n");
    FaasTest::wait_for(sub { lines('tick') > $before }, 15);
    cmp_ok(time, '>', $ahead, 'the first run after a start comes after the '
           . 'last tick run, not in its second or before');
}

$t->done;

done_testing;

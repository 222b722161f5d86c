#!/usr/bin/perl

# The wall clock set back an hour under the runner (for the runner
# alone: build/t/fakeclock.so shifts its CLOCK_REALTIME; the machine's
# clock is never touched). Intervals are the monotonic clock's: a retry
# due in 5 s still runs in about 5 s, a schedule's next ticks are
# computed again from the new time rather than waited for, a retry
# stored before a restart with the clock set back runs, and the
# purge of finished invocations stays once a minute, whatever the wall
# clock does (a jump forward made it run at once).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::Local qw(timelocal);

my $shim = "$FaasTest::BUILD/t/fakeclock.so";
FaasTest::need(-f $shim, "$shim (make builds it)");

my $t = FaasTest->new;
my $p = $t->prefix;
my $offset = "$p/clock-offset";
FaasTest::write_file($offset, "0\n");

my %dir;
# fails its first attempt
$dir{flaky} = $t->function('flaky', "exec = ./run.sh\nmode = cgi\n",
                           'run.sh' => <<'EOF');
#!/bin/sh
echo "$FAAS_ATTEMPT" >> out/log
[ "$FAAS_ATTEMPT" -ge 2 ] || { printf 'Status: 500 No\r\n\r\n'; exit 0; }
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF
# fails its first attempt; its invocation id and attempt in out/log
$dir{later} = $t->function('later', "exec = ./run.sh\nmode = cgi\n",
                           'run.sh' => <<'EOF');
#!/bin/sh
echo "$FAAS_INVOCATION_ID $FAAS_ATTEMPT" >> out/log
[ "$FAAS_ATTEMPT" -ge 2 ] || { printf 'Status: 500 No\r\n\r\n'; exit 0; }
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF
$dir{tick} = $t->function('tick', "exec = ./run.sh\nmode = cgi\n"
                          . "schedule = \@every 2s\n", 'run.sh' => <<'EOF');
#!/bin/sh
echo tick >> out/log
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF
for my $d (values %dir) {
    mkdir "$d/out";
    chmod 0777, "$d/out";
}

sub lines {
    my ($name) = @_;
    return grep { length } split /\n/,
           FaasTest::read_file("$dir{$name}/out/log");
}

my %runner = (
    conf => "async_backoff = 5s\nasync_retries = 2\nasync_retention = 1s\n",
    env => {
        LD_PRELOAD => $shim,
        FAKECLOCK_FILE => $offset,
        ASAN_OPTIONS => $FaasTest::SANITIZER_ENV{ASAN_OPTIONS}
                        . ':verify_asan_link_order=0',
    });
$t->start_runner(%runner);
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

my $bin = $t->runner_bin_name;
my $rc = "$p/runner.conf";

sub inv {
    my ($id) = @_;
    my $j = eval { decode_json(scalar `$bin invocation $id --config $rc --format json 2>/dev/null`) };
    return ref $j eq 'ARRAY' ? $j->[0] : $j;
}

ok(FaasTest::wait_for(sub { lines('tick') >= 1 }, 10),
   'the schedule ticks (every 2 s)');

my $r = $t->http_post('/async/flaky', 'x');
is($r->{status}, 202, 'an async invocation accepted');
my $id = FaasTest::header($r, 'faas-invocation-id') // '';
ok($t->wait_log(qr/invocation \Q$id\E of "flaky": 500 on attempt 1, again in 5000 ms/, 10),
   'its first attempt failed: again in 5 s');

# now the runner's wall clock goes back an hour
FaasTest::write_file($offset, "-3600\n");
my $ticks = () = lines('tick');

ok(FaasTest::wait_for(sub { lines('flaky') >= 2 }, 15),
   'the retry ran within seconds of its backoff, not an hour later');
my $st;
ok(FaasTest::wait_for(sub { $st = inv($id); $st && $st->{state} eq 'succeeded' }, 10),
   '... and succeeded');

ok(FaasTest::wait_for(sub { lines('tick') >= $ticks + 2 }, 15),
   'the schedule goes on ticking, not an hour later');

# the status' uptime is of the monotonic clock: the wall clock an hour
# back made it wrap to 1.8e13 s
my $sj = eval { decode_json(scalar `$bin status --listen unix:@{[ $t->socket_path ]} --format json 2>/dev/null`) }
         // {};
my $up = $sj->{runner}{uptime_seconds} // -1;
ok($up >= 0 && $up < 600, "uptime with the clock an hour back: $up s");
like($t->runner_log, qr/the wall clock went back 3\d\d\d s: the next ticks of the schedules are computed again/,
     '... the runner noticed the clock going back');

# the purge runs once a minute by the monotonic clock: a result kept
# for async_retention (1 s) is still there seconds after its end (it
# ran every tick, deleting it, when the clock had gone back)
$r = $t->http_post('/async/tick', 'y');
is($r->{status}, 202, 'another async invocation accepted');
my $qid = FaasTest::header($r, 'faas-invocation-id') // '';
ok($t->wait_log(qr/invocation \Q$qid\E of "tick": 200/, 10), '... and run');

# the runner's clock is really shifted: its log lines are an hour behind
my ($y, $mo, $d, $h, $mi, $s) = ($t->runner_log
    =~ m{^(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) .*invocation \Q$qid\E of "tick": 200}m);
my $logged = defined $s ? timelocal($s, $mi, $h, $d, $mo - 1, $y) : 0;
cmp_ok(abs($logged + 3600 - time), '<', 120,
       'the shim did shift the runner\'s wall clock by an hour');

sleep 4;
$st = inv($qid);
is($st && $st->{state}, 'succeeded',
   'a finished invocation is not purged at every tick after the clock '
   . 'went back');

# and the clock back to the true time: a jump forward of an hour, which
# is no minute of the monotonic clock: no purge before the next one
FaasTest::write_file($offset, "0\n");
sleep 3;
$st = inv($qid);
is($st && $st->{state}, 'succeeded',
   'nor at once when the clock jumps forward an hour');

# a retry due in 5 s when the runner stops; it starts again with the
# clock an hour back: the retry is not an hour and 5 s away
$r = $t->http_post('/async/later', 'z');
my $lid = FaasTest::header($r, 'faas-invocation-id') // '';
ok($t->wait_log(qr/invocation \Q$lid\E of "later": 500 on attempt 1, again in 5000 ms/, 10),
   'a retry due in 5 s ...');
$t->stop_runner;
FaasTest::write_file($offset, "-3600\n");
$t->start_runner(%runner);
like($t->runner_log, qr/1 asynchronous invocation was due later than any wait allows \(the clock went back\): due now/,
     '... the runner restarted an hour back says it is due now');
ok(FaasTest::wait_for(sub { grep { $_ eq "$lid 2" } lines('later') }, 15),
   '... and it runs');

$t->done;

done_testing;

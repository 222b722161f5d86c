#!/usr/bin/perl

# A throttled asynchronous invocation is not an attempt: when the runner
# turns it away (queue_timeout, queue full, the tenant's limit) it
# waits with backoff and runs once there is room, as attempt 1, never
# failed for throttling, metered once. A function's own 503 is an
# answer, and an attempt.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $p = $t->prefix;

# the synchronous call holds the only worker 4 s; async ones are quick
my $run = <<'EOF';
#!/bin/sh
cat >/dev/null
[ -n "$FAAS_TRIGGER" ] || sleep 4
echo "${FAAS_TRIGGER:-sync} ${FAAS_ATTEMPT:-0} $FAAS_INVOCATION_ID" >> out/log
printf 'Content-Type: text/plain\r\n\r\nok\n'
EOF

my %dir;
# its own queue_timeout: 500 ms
$dir{busy} = $t->function('busy', "exec = ./run.sh\nmode = cgi\n"
                          . "max_instances = 1\nqueue_timeout = 500ms\n",
                          'run.sh' => $run);
# two functions of a tenant that may have one worker at a time
$dir{holder} = $t->function('holder', "exec = ./run.sh\nmode = cgi\n"
                            . "tenant = narrow\n", 'run.sh' => $run);
$dir{other} = $t->function('other', "exec = ./run.sh\nmode = cgi\n"
                           . "tenant = narrow\nqueue_timeout = 500ms\n",
                           'run.sh' => $run);
# answers 503 itself: an attempt like any 5xx
$dir{says503} = $t->function('says503', "exec = ./run.sh\nmode = cgi\n",
                             'run.sh' => <<'EOF');
#!/bin/sh
echo "${FAAS_TRIGGER:-sync} $FAAS_ATTEMPT" >> out/log
printf 'Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nbusy\n'
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

my $meter_log = "$p/logs/runner-meter.log";
$t->start_runner(conf => "async_backoff = 200ms\nasync_retries = 2\n"
                         . "tenant.narrow.max_instances = 1\n"
                         . "meter_log = $meter_log\n");
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

my $bin = $t->runner_bin_name;
my $rc = "$p/runner.conf";

sub inv {
    my ($id) = @_;
    my $j = eval { decode_json(scalar `$bin invocation $id --config $rc --format json`) };
    return ref $j eq 'ARRAY' ? $j->[0] : $j;
}

# a synchronous call holds the worker 4 s; the async one behind it is
# turned away by queue_timeout (500 ms) again and again meanwhile
for my $case (['busy', 'busy', 'its queue_timeout'],
              ['holder', 'other', "its tenant's max_instances"])
{
    my ($hold, $fn, $why) = @$case;

    my $sync = $t->http_start("/fn/$hold");
    sleep 0.5;

    my $r = $t->http_post("/async/$fn", 'x');
    is($r->{status}, 202, "$fn: async call accepted behind it ($why)");
    my $id = FaasTest::header($r, 'faas-invocation-id') // '';

    ok($t->wait_log(qr/invocation \Q$id\E of "\Q$fn\E": throttled, not an attempt/, 10),
       "$fn: throttled, logged as not an attempt");

    my $s = FaasTest::http_finish($sync, timeout => 15);
    is($s->{status}, 200, "$hold: the synchronous call ends (200)");

    ok(FaasTest::wait_for(sub { grep { /^async \d+ \Q$id\E$/ } lines($fn) }, 40),
       "$fn: the async invocation ran once there was room");
    my @ran = grep { /\Q$id\E$/ } lines($fn);
    is(scalar @ran, 1, "$fn: once");
    is($ran[0], "async 1 $id", "$fn: as FAAS_ATTEMPT 1");

    my $st;
    ok(FaasTest::wait_for(sub { $st = inv($id); $st && $st->{state} eq 'succeeded' }, 10),
       "$fn: the store says succeeded");
    is($st->{attempts}, 1, "$fn: 1 attempt");
    unlike($t->runner_log, qr/invocation \Q$id\E of "\Q$fn\E": \d+ on attempt/,
           "$fn: never a failed attempt");

    my @m = grep { /id=\Q$id\E/ } split /\n/, FaasTest::read_file($meter_log);
    is(scalar @m, 1, "$fn: one meter_log line");
    like($m[0] // '', qr/status=200 outcome=ok /, "$fn: ... of its run");
}

# a function's own 503: attempts, then failed
my $r = $t->http_post('/async/says503', 'x');
my $id = FaasTest::header($r, 'faas-invocation-id') // '';
ok($t->wait_log(qr/invocation \Q$id\E of "says503": 503 on attempt 3, failed/, 15),
   "a function's own 503: three attempts, then failed");
is(join(',', lines('says503')), 'async 1,async 2,async 3',
   '... FAAS_ATTEMPT 1, 2, 3');
is(inv($id)->{attempts}, 3, '... 3 attempts in the store');

$t->done;

done_testing;

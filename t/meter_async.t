#!/usr/bin/perl

# An asynchronous invocation is counted and billed once: its 202 is the
# outcome "accepted" (status counters, $faas_status in nginx's access
# line), never a run; its run is the "ok" of the status and the one
# meter_log line; "fcgi-runner meter" over both logs gives one
# invocation per run, the acceptances apart, GB-seconds of the runs
# only.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;

my $t = FaasTest->new;
my $p = $t->prefix;

# a tenant's name as long as one may be: meter_log writes it whole
my $tenant = 'a-tenant-whose-name-is-' . ('x' x 41);
my $dir = $t->function('job', "exec = ./run.sh\nmode = cgi\nmemory = 128M\n"
                              . "tenant = $tenant\n",
                       'run.sh' => <<'EOF');
#!/bin/sh
cat >/dev/null
echo "$FAAS_INVOCATION_ID" >> out/log
printf 'Content-Type: text/plain\r\n\r\ndone\n'
EOF
mkdir "$dir/out";
chmod 0777, "$dir/out";

my $meter_log = "$p/logs/runner-meter.log";
my $access = "$p/logs/faas-meter.log";

$t->start_runner(conf => "meter_log = $meter_log\n");
$t->start_nginx(FaasTest::meter_log_format() . $t->faas_location(
    location => "access_log $access faas_meter;",
    extra => <<"EOF"));
        location /async/ {
            faas_route ^/async/(?<afn>[^/]+) \$afn;
            faas_invocation async;
            faas_pass runner;
            access_log $access faas_meter;
        }
        location = /faas/status { faas_status; faas_pass runner; }
EOF

sub ran { grep { length } split /\n/, FaasTest::read_file("$dir/out/log") }

my @ids;
for my $i (1 .. 2) {
    my $r = $t->http_post('/async/job', "a$i");
    is($r->{status}, 202, "async call $i: 202");
    push @ids, FaasTest::header($r, 'faas-invocation-id') // '';
}
ok(FaasTest::wait_for(sub { ran() >= 2 }, 20), 'both ran');
ok(FaasTest::wait_for(sub {
       my @l = grep { /trigger=async/ } split /\n/,
               FaasTest::read_file($meter_log);
       @l >= 2;
   }, 10), 'both runs in meter_log');
is(scalar(grep { /trigger=async/ && / tenant=\Q$tenant\E / }
          split /\n/, FaasTest::read_file($meter_log)), 2,
   '... each with its tenant\'s name whole (64 characters)')
    or diag(FaasTest::read_file($meter_log));

my $r = $t->http_post('/fn/job', 'sync');
is($r->{status}, 200, 'a synchronous call: 200');

# --- the status: two acceptances, three runs -------------------------------

my $s = eval { decode_json($t->http_get('/faas/status')->{body}) } // {};
my ($job) = grep { $_->{name} eq 'job' } @{ $s->{functions} // [] };
is($job->{invocations}{accepted}, 2, 'status: 2 accepted');
is($job->{invocations}{ok}, 3, 'status: 3 ok, the runs (2 async, 1 sync)');
is($job->{duration}{count}, 3, 'status: 3 durations');

my $prom = $t->http_get('/faas/status?format=prometheus')->{body};
ok($prom =~ qr/^faas_function_invocations_total\{function="job",tenant="[^"]*",outcome="accepted"\} 2$/m,
     'prometheus: outcome="accepted" 2');
ok($prom =~ qr/^faas_function_invocations_total\{function="job",tenant="[^"]*",outcome="ok"\} 3$/m,
     'prometheus: outcome="ok" 3');
ok($prom =~ qr/^faas_function_duration_seconds_count\{function="job",tenant="[^"]*"\} 3$/m,
     'prometheus: 3 durations');

# --- nginx's access line of the 202 -------------------------------------

ok(FaasTest::wait_for(sub {
       (() = FaasTest::read_file($access) =~ /status=/g) >= 3 }, 5),
   'three access lines');
my @acc = grep { /function=job/ } split /\n/, FaasTest::read_file($access);
my @a202 = grep { /status=202/ } @acc;
is(scalar @a202, 2, 'two lines of 202');
is(scalar(grep { /outcome=accepted / } @a202), 2,
   '... both $faas_status accepted');
is(scalar(grep { /billed=- / } @a202), 2, '... neither billed');
is(scalar(grep { /status=200 .*outcome=ok / } @acc), 1,
   'the synchronous one: ok');

my @runs = grep { /function=job/ } split /\n/, FaasTest::read_file($meter_log);
is(scalar @runs, 2, 'meter_log: a line per run');
is(scalar(grep { /outcome=ok / } @runs), 2, '... both ok');
is(join(' ', sort map { /id=(\w+)/ ? $1 : '' } @runs), join(' ', sort @ids),
   '... with their ids');

# --- fcgi-runner meter over both logs -----------------------------------

my $bin = $t->runner_bin_name;
my $rep = eval { decode_json(scalar `$bin meter --format json $access $meter_log`) };
ok($rep, 'fcgi-runner meter --format json parses');
my ($g) = grep { $_->{name} eq 'job' } @{ $rep->{groups} // [] };
is($g->{invocations}, 3, 'meter: 3 invocations, one per run');
is($g->{outcomes}{accepted}, 2, 'meter: the 2 acceptances apart');
is($g->{outcomes}{ok}, 3, 'meter: 3 ok');

my $gbs = 0;
for my $l (grep { /status=200/ } @acc, @runs) {
    my ($ms) = $l =~ /billed=([\d.]+)/;
    my ($kb) = $l =~ /memory_size=(\d+)/;
    $gbs += $kb / (1024 * 1024) * $ms / 1000;
}
ok($gbs > 0 && abs($g->{gb_seconds} - $gbs) < 1e-5,
   "meter: GB-seconds of the runs only ($g->{gb_seconds} vs $gbs)");

my $csv = `$bin meter --format csv $access $meter_log`;
like($csv, qr/^function,invocations,cold,ok,not_found,throttled,timeout,crashed,error,accepted,/,
     'csv: an accepted column');
like($csv, qr/^job,3,\d+,3,0,0,0,0,0,2,/m, 'csv: 3 invocations, 2 accepted');

$t->done;

done_testing;

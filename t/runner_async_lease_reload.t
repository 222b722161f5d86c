#!/usr/bin/perl

# A stored invocation's run never outlasts its claim's lease, whatever a
# reload does to timeout meanwhile: the lease (twice timeout +
# queue_timeout) is fixed at the claim, and the run's timer was set
# when a worker took it, from the settings then; raised in between, the
# run went on past the lease, and with a shared store another runner
# could claim it and run it at the same time (a hostile review). The
# run now ends within half the lease (FAAS_LEASE_MS), as a timeout.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;

# "hold": waits for the gate (a synchronous request holding the one
# instance); anything else sleeps 20 s, and says when it started
my $run = <<'EOF';
#!/bin/sh
body=$(cat)
if [ "$body" = hold ]; then
    i=0
    while [ ! -e out/gate ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
else
    echo "$FAAS_INVOCATION_ID $FAAS_LEASE_MS" >> out/log
    sleep 20
fi
printf 'Content-Type: text/plain\r\n\r\ndone\n'
EOF
my $conf = "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
         . "queue_timeout = 5s\n";
my $dir = $t->function('slow', $conf . "timeout = 1s\n", 'run.sh' => $run);
mkdir "$dir/out";
chmod 0777, "$dir/out";

$t->start_runner(conf => "async_retries = 0\n");
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

# the one instance held by a synchronous request
my $hold = fork // die;
if ($hold == 0) {
    $t->http_post('/fn/slow', 'hold', timeout => 30);
    POSIX::_exit(0);
}
ok(FaasTest::wait_for(sub { $t->workers('slow') >= 1 }, 10),
   'the one instance held');

my $t0 = time;
my $r = $t->http_post('/async/slow', 'x');
is($r->{status}, 202, 'an invocation accepted');
my $id = FaasTest::header($r, 'faas-invocation-id') // 'none';
ok($t->wait_log(qr/invocation \Q$id\E of "slow": attempt 1/),
   '... claimed, waiting for the instance (lease: twice 1 s + 5 s)');

# timeout raised while it waits; then the instance is free
FaasTest::write_file("$dir/function.conf", $conf . "timeout = 60s\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "slow" (re)?loaded|reloading/), 'timeout raised '
   . 'to 60 s by a reload');
sleep 0.5;
FaasTest::write_file("$dir/out/gate", '');
waitpid $hold, 0;

ok(FaasTest::wait_for(sub { -s "$dir/out/log" }, 10), 'it runs')
    or diag($t->runner_log);
like(FaasTest::read_file("$dir/out/log"), qr/^\Q$id\E 6000$/m,
     '... told its lease (FAAS_LEASE_MS, half its claim\'s)');
ok($t->wait_log(qr/invocation \Q$id\E of "slow": .*504/, 15),
   '... and ends as a timeout (504), within its lease, not 60 s')
    or diag($t->runner_log);
my $took = time - $t0;
ok($took < 12, sprintf('... %.1f s after it was accepted (its lease: 12 s)',
                       $took));

$t->done;

done_testing;

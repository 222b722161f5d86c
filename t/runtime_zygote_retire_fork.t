#!/usr/bin/perl

# A zygote retired (its function changed on SIGHUP) is killed with its
# process group: its waiting spare is in it. A worker it has just forked
# was in it too, from the zygote's answer to the runner (the worker's
# pid) until the worker's own setsid(): a change in that moment killed
# the worker the runner had just given a request ("worker W exited on
# signal 9 before it was ready"), a start failure that held the
# function back ("cannot start: next try in 250 ms") and the request
# waited for a zygote made anew. The promise: the worker a zygote
# forked starts and answers the request it was forked for, whatever
# happens to its zygote meanwhile; the spare still goes with it. The app here stretches that moment to a second
# (driver patched at import: its worker() sleeps first).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

FaasTest::need(-x '/usr/bin/python3', 'python3 (make test-deps)');
FaasTest::need_root();

my $t = FaasTest->new;

my $app = "import __main__, time\n"
          . "_worker = __main__.worker\n"
          . "def worker(fds, env, app, here):\n"
          . "    time.sleep(1.5)\n"
          . "    _worker(fds, env, app, here)\n"
          . "__main__.worker = worker\n"
          . "def app(env, start):\n"
          . "    start('200 OK', [('Content-Type', 'text/plain')])\n"
          . "    return [b'slow ok\\n']\n";

sub conf { "runtime = python\napp = s:app\nmax_requests = 1\n$_[0]" }

$t->function('slow', conf(''), 's.py' => $app);
$t->start_runner;

like($t->fcgi_call('slow', timeout => 20)->{stdout} // '',
     qr/\r\n\r\nslow ok\n\z/, 'slow: answered (its zygote made)');
my ($zygote) = $t->runner_log =~ /zygote (\d+) of "slow" ready/;
ok($zygote, "... its zygote $zygote ready");

for my $round (1 .. 2) {
    # a request: its worker forked and sleeping, not yet setsid()
    my $s = $t->fcgi_connect;
    syswrite($s, FaasTest::fcgi_request_bytes(
                 params => FaasTest::fcgi_default_params('slow'),
                 keep => 0));
    sleep(0.5);     # the zygote has forked it (a fork: microseconds)

    # its function changed: the zygote retired, killed with its group
    $t->function('slow', conf("idle_timeout = 1${round}s\n"),
                 's.py' => $app);
    my $changed = () = $t->runner_log =~ /function "slow" changed/g;
    $t->signal_runner('HUP');
    ok(FaasTest::wait_for(sub {
           (() = $t->runner_log =~ /function "slow" changed/g) > $changed },
           10), "($round) slow changed, its zygote retired");
    ok(FaasTest::wait_for(sub { !FaasTest::proc_alive($zygote) }, 10),
       "($round) ... zygote $zygote gone");

    my $r = FaasTest::fcgi_read($s, timeout => 20);
    like($r->{stdout}, qr/\r\n\r\nslow ok\n\z/,
         "($round) the request its worker was forked for is answered")
        or diag explain $r;

    ($zygote) = $t->runner_log =~ /.*zygote (\d+) of "slow" ready/s;
    like($t->fcgi_call('slow', timeout => 20)->{stdout} // '',
         qr/\r\n\r\nslow ok\n\z/, "($round) slow: answered after");
    ($zygote) = $t->runner_log =~ /.*zygote (\d+) of "slow" ready/s;
}

# the last worker retires as it has answered: its line may come after
my $retired = qr/worker \d+ of "slow" retires after 1 requests/;
FaasTest::wait_for(sub { (() = $t->runner_log =~ /$retired/g) >= 5 }, 10);

my $log = $t->runner_log;
my @killed = $log =~ /(worker \d+ of "slow" exited on signal 9[^\n]*)/g;
is("@killed", '', 'no worker killed with its zygote');
my @held = $log =~ /(function "slow" cannot start[^\n]*)/g;
is("@held", '', '... nor the function held back');
my $served = () = $log =~ /$retired/g;
is($served, 5, 'each of the 5 requests served by the worker forked for it');

is($t->stop_runner, 0, 'the runner stops');
$t->done;

done_testing;

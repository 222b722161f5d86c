#!/usr/bin/perl

# A worker killed by a signal as it starts (SIGKILL, the OOM killer)
# when its function has no other worker. It failed every request
# waiting for the function, and every one coming in the next 250 ms,
# with the runner's 502 of a function that cannot start (outcome
# "error"): a healthy function lost its whole queue to one kill (t/soak.t
# caught it under CI's load, where starts are slow). Promise: one such
# death costs what waits a new start, never an answer; starts that die
# again and again are answered 502 as a crash ("crashed"); a function
# that cannot start (it exits) is still answered 502 at once, "error".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;

# starts slowed so that the test can kill them as they start; one
# worker at a time: none other to take what waits
for my $name ('once', 'always') {
    $t->function($name, "exec = $fn\nmax_instances = 1\nqueue = 64\n"
                 . "env.TESTFN_START_DELAY_MS = 400\n");
}
$t->function('exits', "exec = $fn\nenv.TESTFN_EXIT = 3\n");

my $log = "$p/logs/access.log";
$t->start_runner;
$t->start_nginx("    log_format o '\$arg_c \$status \$faas_status';\n"
                . $t->faas_location(location => "access_log $log o;"));

# n clients at once; the starting workers of the function SIGKILLed,
# at most $max of them, for $secs; their statuses
sub storm {
    my ($name, $n, $max, $secs) = @_;
    my @pids;
    for my $c (1 .. $n) {
        my $pid = fork // die;
        if ($pid == 0) {
            my $r = $t->http("GET /fn/$name?op=pid&c=$name$c HTTP/1.0\r\n"
                             . "Host: s\r\n\r\n", timeout => 20);
            FaasTest::write_file("$p/answer.$name$c",
                                 $r ? $r->{status} : 'none');
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    my ($killed, $until) = (0, time + $secs);
    while (time < $until && $killed < $max) {
        # not its prototype, in the function's folder too as it starts
        # (CI's load once had it killed in a worker's place)
        my %proto = map { $_ => 1 }
                    $t->runner_log =~ /prototype (\d+) of "\Q$name\E" started/g;
        $killed += kill 'KILL', grep { !$proto{$_} } $t->workers($name);
        sleep 0.01;
    }
    waitpid($_, 0) for @pids;
    return ($killed, map { FaasTest::read_file("$p/answer.$name$_") }
                     1 .. $n);
}

my ($killed, @st) = storm('once', 4, 1, 3);
is($killed, 1, 'one starting worker SIGKILLed');
is("@st", '200 200 200 200', '... what waited for it is answered by the '
   . 'next start');
like($t->runner_log, qr/worker \d+ of "once" exited on signal 9 before it was ready/,
     '... the runner says what happened');

($killed, @st) = storm('always', 4, 99, 3);
ok($killed >= 2, "every start killed ($killed)");
is("@st", '502 502 502 502', '... then 502');

is($t->http_get('/fn/exits?c=exits')->{status}, 502,
   'a function that cannot start (it exits 3): 502');

ok(FaasTest::wait_for(sub { FaasTest::read_file($log) =~ /^exits /m }, 5),
   'access log written');
my $a = FaasTest::read_file($log);
is(scalar(() = $a =~ /^always\d 502 crashed$/mg), 4,
   '... the starts killed: outcome crashed') or diag($a);
like($a, qr/^exits 502 error$/m, '... one that cannot start: error');
unlike($a, qr/^once\d (?!200 ok)/m, '... the one killed once: all ok');

$t->done;

done_testing;

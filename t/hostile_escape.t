#!/usr/bin/perl

# Functions that try to outlive their invocation: children in a session
# of their own holding the pipes (setsid), double forks, closing stdout
# and running on, ignoring SIGTERM. Promise: the invocation ends (its
# answer, or 504 at its timeout), the slot is freed (max_instances = 1,
# so a leaked slot shows as the next request's 503), what it left
# behind is killed, other functions keep answering, nothing is left
# when the runner stops. Each runs twice: with the default isolation,
# where what it leaves is found in its function's pid namespace (or by
# its pipes) and killed, and with "isolation = none", where the runner
# finds it by the pipes it holds and kills it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;

my $head = "printf 'Content-Type: text/plain\\r\\n\\r\\n'";
# the sleeps left behind are found by their command line, host-wide: a
# length of this file's own (60 s and its pid), no other test's sleep
my $nap = "60.$$";
my %cgi = (
    # answers, exits, leaves a child in its own session on the pipes
    setsid => "$head\necho answered\nsetsid sleep $nap &\nsleep 0.3\n",
    # the same, and the main process hangs: the timeout decides
    setsidhang => "$head\necho partial\nsetsid sleep $nap &\nsleep $nap\n",
    # a double fork: the grandchild is reparented away from us
    doublefork => "$head\necho forked\n( ( exec setsid sleep $nap ) & ) &\n"
                  . "sleep 0.3\n",
    # closes its output and keeps running
    closes => "$head\necho bye\nexec >&- 2>&-\nsleep $nap\n",
    # closes stdout only, stderr stays open
    closesout => "$head\necho bye\nexec >&-\nsleep $nap\n",
    # ignores SIGTERM, hangs
    noterm => "trap '' TERM\n$head\nsleep $nap\n",
);

for my $name (sort keys %cgi) {
    for my $open ('', '_open') {
        $t->function("$name$open", "exec = ./run.sh\nmode = cgi\n"
                     . "max_instances = 1\ntimeout = 2s\nqueue_timeout = 8s\n"
                     . ($open ? "isolation = none\n" : ''),
                     'run.sh' => "#!/bin/sh\n$cgi{$name}");
    }
}
$t->function('fsetsid', "exec = $fn\nmax_instances = 1\ntimeout = 1s\n");
$t->function('fsetsid_open', "exec = $fn\nmax_instances = 1\n"
             . "timeout = 1s\nisolation = none\n");
$t->function('other', "exec = $fn\n");

# functions that turn isolation off: the floor lowered
$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx($t->faas_location);

sub sleepers {
    my @p;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = FaasTest::read_file($stat) or next;
        next unless $s =~ /^(\d+) \(sleep\) [^ZX]/;
        my ($pid) = $1;
        my $cmd = FaasTest::read_file("/proc/$pid/cmdline");
        push @p, $pid if $cmd eq "sleep\0$nap\0";
    }
    return @p;
}

my %want = (
    setsid => [200, "answered\n"], doublefork => [200, "forked\n"],
    closes => [200, "bye\n"], closesout => [200, "bye\n"],
);

for my $fname (map { ($_, "${_}_open") } sort keys %cgi) {
    my $name = $fname =~ s/_open$//r;
    my $t0 = time;
    my $r = $t->http_get("/fn/$fname", timeout => 20);
    my $took = time - $t0;

    if ($want{$name}) {
        is($r->{status}, $want{$name}[0], "$fname: answered");
        is($r->{body}, $want{$name}[1], "$fname: whole body");
    } else {
        # 504, or, the header having gone out, a response cut short
        ok($took > 1.5, sprintf("$fname: ends at its timeout (%.1f s)",
                                $took));
    }
    ok($took < 6, sprintf("$fname: within its timeout and grace (%.1f s)",
                          $took));

    # the only slot is free again: the next request is served
    my $next = $t->http_get("/fn/$fname", timeout => 20);
    ok($next && ($next->{status} == 200 || $next->{status} == 504),
       "$fname: the slot is freed, the next request is served");
    isnt($next && $next->{status}, 503, "$fname: no 503");

    is($t->http_get('/fn/other')->{status}, 200,
       "$fname: other functions answer");
}

ok(FaasTest::wait_for(sub { !sleepers() }, 10),
   'every process left behind is gone') or diag("left: @{[ sleepers() ]}");
like($t->runner_log,
     qr/killing process \d+ left behind by worker \d+ of "setsid_open"/,
     'without isolation: what was killed is logged');
like($t->runner_log,
     qr/killing\ process\ \d+\ left\ behind\ (?:by\ worker\ \d+\ of
        |in\ the\ pid\ namespace\ of)\ "setsid"/x,
     'with it: what was left in its function\'s namespace is killed too');

# a FastCGI worker's child in its own session, at the worker's timeout
for my $name ('fsetsid', 'fsetsid_open') {
    my $r = $t->http_get("/fn/$name?op=spawnchild&ms=60000");
    is($r->{status}, 504, "$name: FastCGI worker with a helper: 504 at "
       . 'the timeout');
    is($t->http_get("/fn/$name?op=sleep&ms=1")->{status}, 200,
       "$name: its slot is freed");
}

ok(kill(0, $t->runner_pid), 'the runner is up');

$t->done;

done_testing;

#!/usr/bin/perl

# The runner signals only processes it knows to be alive: after it has
# reaped a worker it never sends a signal to that pid or its process
# group, which by then may belong to someone else. Checked on the
# runner's own system calls (strace attached to it) while workers crash,
# time out, leave processes behind, retire and are stopped.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

my ($strace) = grep { -x } map { "$_/strace" } split /:/, $ENV{PATH};
ok($strace, 'strace is installed (make deps installs it)')
    or BAIL_OUT('no strace');

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;

$t->function('fc', "exec = $fn\nmax_instances = 2\ntimeout = 1s\n"
             . "max_requests = 3\nidle_timeout = 1s\n");
$t->function('cgi', "exec = ./run.sh\nmode = cgi\ntimeout = 1s\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n"
                       . "\\r\\nx\\n'\ncase \"\$QUERY_STRING\" in\n"
                       . "hang) sleep 10;;\nstray) setsid sleep 10 & sleep 0.3;;\n"
                       . "esac\n");
$t->start_runner;
$t->start_nginx($t->faas_location);

my $trace = "$p/logs/strace";
my $spid = fork // die;
if ($spid == 0) {
    alarm 0;
    open STDERR, '>', '/dev/null';
    exec $strace, '-qq', '-e', 'trace=kill,wait4,waitid', '-o', $trace,
         '-p', $t->runner_pid or POSIX::_exit(127);
}
FaasTest::wait_for(sub { -s $trace || 0 }, 2);
sleep 0.5;

for (1 .. 3) {
    $t->http_get('/fn/fc?op=crash');
    $t->http_get('/fn/fc?op=sleep&ms=3000');
    $t->http_get('/fn/fc?op=spawnchild&ms=3000');
    $t->http_get('/fn/fc') for 1 .. 4;
    $t->http_get('/fn/cgi?hang');
    $t->http_get('/fn/cgi?stray');
    $t->http_get('/fn/cgi');
}
sleep 2;    # idle workers stopped
kill 'TERM', $spid;
waitpid($spid, 0);

my (%reaped, @late, $kills, $reaps);
for (split /\n/, FaasTest::read_file($trace)) {
    if (/^wait4\(-?\d+,.*\) = (\d+)/ && $1 > 0) {
        $reaped{$1} = 1;
        $reaps++;
    } elsif (/^kill\((-?\d+), (\w+)\)/) {
        $kills++;
        push @late, $_ if $reaped{abs $1};
    }
}

ok($reaps && $kills, "the runner reaped ($reaps) and signalled ($kills)");
is(scalar @late, 0, 'never a signal to a pid or group it had reaped')
    or diag(join "\n", @late);

$t->done;

done_testing;

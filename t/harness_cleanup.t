#!/usr/bin/perl

# The suite's own promise: a test file stops exactly what it started.
# Past its time limit (ALRM) its nginx, runner and workers are stopped;
# a process it forks (a peer, a client) that exits or is sent TERM stops
# nothing of its parent's.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use POSIX ();

my $t = FaasTest->new;
my $fn = $t->testfn;
my $p = $t->prefix;
$t->function('hello', "exec = $fn\n");
$t->start_runner;
$t->start_nginx;
is($t->http_get('/fn/hello')->{status}, 200, 'the function answers');
my ($runner, $nginx) = ($t->runner_pid, $t->{nginx_pid});
my ($worker) = $t->workers('hello');
ok($worker, 'its worker runs');

# a child that ends with exit (its copy of $t destroyed), one sent TERM
# (the handler the suite installs), one sent INT
for my $how ('exit', 'TERM', 'INT') {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        exit 0 if $how eq 'exit';
        sleep 30;
        POSIX::_exit(0);
    }
    if ($how ne 'exit') {
        select(undef, undef, undef, 0.2);
        kill $how, $pid;
    }
    waitpid($pid, 0);
    ok(kill(0, $runner) && kill(0, $nginx) && kill(0, $worker),
       "a forked child ended by $how left the runner, nginx, the worker");
}
is($t->http_get('/fn/hello')->{status}, 200, 'and the function answers');
$t->done;

# a test file past its limit: what it started is stopped with it
my $script = "$p/overtime.t";
open my $fh, '>', $script or die;
print $fh <<"PEOF";
use strict; use warnings;
use lib '$FindBin::Bin/lib';
use FaasTest; use Test::More;
my \$t = FaasTest->new;
\$t->function('hello', "exec = $fn\\n");
\$t->start_runner;
\$t->start_nginx;
\$t->http_get('/fn/hello');
my (\$w) = \$t->workers('hello');
open my \$o, '>', '$p/pids' or die;
print \$o join(' ', \$t->runner_pid, \$t->{nginx_pid}, \$w // 0), "\\n";
close \$o;

sleep 1 while 1;
PEOF
close $fh;

my $pid = fork // die;
if ($pid == 0) {
    open STDOUT, '>', "$p/overtime.out";
    open STDERR, '>&', \*STDOUT;
    $ENV{TEST_FAAS_TIMEOUT} = 15;
    exec $^X, $script or POSIX::_exit(127);
}
my $done = FaasTest::wait_for(sub { waitpid($pid, POSIX::WNOHANG()) > 0 },
                              60);
ok($done, 'the file past its limit ended') or kill 'KILL', $pid;
is($? >> 8, 254, 'with the status of a timeout');
like(FaasTest::read_file("$p/overtime.out"),
     qr/test file ran longer than its limit/, 'saying so');
my @pids = split ' ', FaasTest::read_file("$p/pids");
is(scalar(grep { $_ } @pids), 3, 'it had a runner, nginx and a worker');
ok(FaasTest::wait_for(sub { !grep { $_ && kill 0, $_ } @pids }, 10),
   'none of them runs after it') or kill 'KILL', grep { $_ } @pids;

done_testing;

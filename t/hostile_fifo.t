#!/usr/bin/perl

# A customer's function.conf that is a FIFO (or any file that is not a
# regular one): the runner, which reads it at every load as root and
# has one event loop for every tenant, never waits on it. The function
# is not loaded, the log says why, and every other function is served
# through the start and the reload that finds it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use POSIX qw(mkfifo);
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;

$t->function('good', "exec = $fn\n");
my $dir = $t->function('fifo', "exec = $fn\n");
unlink "$dir/function.conf";
mkfifo("$dir/function.conf", 0644) or die "mkfifo: $!";

$t->start_runner;
$t->start_nginx;

is($t->http_get('/fn/good', timeout => 5)->{status}, 200,
   'a FIFO function.conf beside it: the runner started, good is served');
is($t->http_get('/fn/fifo', timeout => 5)->{status}, 404,
   'the FIFO\'s function is not loaded');
like($t->runner_log,
     qr{open\(\) "\S+/fifo/function.conf" failed: not a regular file},
     'and the log says why');

# one more, found by a reload (a deploy)
my $late = $t->function('late', "exec = $fn\n");
unlink "$late/function.conf";
mkfifo("$late/function.conf", 0644) or die "mkfifo: $!";
$t->signal_runner('HUP');
ok($t->wait_log(qr{"\S+/late/function.conf" failed: not a regular file}, 10),
   'a reload finds another FIFO and says so');
is($t->http_get('/fn/good', timeout => 5)->{status}, 200,
   'and good is still served');

# a FIFO with a writer waiting: nothing changes
my $pid = fork // die;
if ($pid == 0) {
    open my $w, '>', "$late/function.conf";
    sleep 30;
    POSIX::_exit(0);
}
sleep 0.3;
$t->signal_runner('HUP');
sleep 0.5;
is($t->http_get('/fn/good', timeout => 5)->{status}, 200,
   'a FIFO with a writer: good is still served after a reload');
kill 'KILL', $pid;
waitpid($pid, 0);

$t->done;
done_testing;

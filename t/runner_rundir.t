#!/usr/bin/perl

# The runner's folder of worker sockets: under $RUNTIME_DIRECTORY (the
# systemd unit's RuntimeDirectory=faas), named with the runner's pid; a
# runner killed with SIGKILL leaves it behind, and the next start
# removes it (and only folders of runners that are gone). meter_log in
# a folder that does not exist yet (/var/log/faas) does not stop the
# runner: the folder is made. The systemd unit passes systemd-analyze
# verify.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use File::Path qw(make_path);

my $t = FaasTest->new;
my $fn = $t->testfn;
my $run = $t->prefix . '/run';
make_path($run);

$t->function('hello', "exec = $fn\n");

my $pid = $t->start_runner(env => { RUNTIME_DIRECTORY => $run });
$t->start_nginx;
is($t->http_get('/fn/hello')->{status}, 200, 'a FastCGI worker answers');

my ($dir) = glob("$run/fcgi-runner.*");
like($dir // '', qr{/fcgi-runner\.$pid\.\w+$},
     'the worker sockets are under RUNTIME_DIRECTORY, with the pid');
ok(scalar(glob("$dir/*.sock")), '... a worker socket in it');

# the second start below: meter_log in a folder nothing made yet
my $logdir = $t->prefix . '/log-faas';

# a live runner's folder, and a folder of another name: never touched
my $alive = "$run/fcgi-runner.$$.keep";
make_path($alive, "$run/other");

kill 'KILL', $pid;
waitpid($pid, 0);
delete $t->{runner_pid};
ok(FaasTest::wait_for(sub { !$t->workers('hello') }, 10),
   'its workers die with it');
ok(-d $dir, 'SIGKILL leaves the folder behind');

$t->start_runner(env => { RUNTIME_DIRECTORY => $run },
                 conf => "meter_log = $logdir/meter.log\n");
ok(!-e $dir, 'the next start removes it');
ok(-d $logdir, "meter_log's missing folder is made (no stop)");
like($t->runner_log, qr{created "\Q$logdir\E" for meter_log}, '... and said');
like($t->runner_log, qr{removed "\Q$dir\E", left by a runner that is gone},
     '... and says so');
ok(-d $alive, "a live process's folder stays");
ok(-d "$run/other", 'another folder stays');
is($t->http_get('/fn/hello')->{status}, 200, 'served again');

# under the unit's UMask=0077: a function under /tmp (the prefix) with
# the default isolation still reaches its folder in its own /tmp
$t->stop_runner;
{
    my $old = umask 077;
    $t->start_runner(env => { RUNTIME_DIRECTORY => $run });
    umask $old;
}
$t->function('isolated', "exec = ./x.sh\nmode = cgi\n",
             'x.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n"
                       . "\\r\\nin its tmp\\n'\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "isolated" loaded/), 'loaded');
my $r = $t->http_get('/fn/isolated');
is($r->{status}, 200, 'umask 077: a function under /tmp starts (tmp pid ipc)');
is($r->{body}, "in its tmp\n", '... and answers');

# the unit, as systemd would read it (the binary where the unit says)
{
    my $analyze = 'systemd-analyze';
    my $unit = FaasTest::read_file("$FindBin::Bin/../conf/fcgi-runner.service");
    $unit =~ s{/usr/sbin/fcgi-runner}{$FaasTest::BUILD/fcgi-runner}g;
    FaasTest::write_file($t->prefix . '/fcgi-runner.service', $unit);
    # its Documentation= pages, where make install puts them
    my $man = $t->prefix . '/man';
    make_path("$man/man8", "$man/man5");
    system('cp', "$FindBin::Bin/../docs/fcgi-runner.8", "$man/man8/") == 0
        and system('cp', "$FindBin::Bin/../docs/function.conf.5",
                   "$man/man5/") == 0 or die "cp: $?";
    local $ENV{MANPATH} = $man;
    my $out = `$analyze verify @{[ $t->prefix ]}/fcgi-runner.service 2>&1`;
    is($out, '', 'systemd-analyze verify: no complaint');
}

$t->done;

done_testing;

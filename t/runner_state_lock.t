#!/usr/bin/perl

# state_dir is one runner's. A second runner on it (started by hand
# beside the service, on another socket, or on the same one) took the
# first one's running asynchronous invocations for a crash's leftovers
# and queued them again (run twice), and wrote its own functions' names
# over the first one's, before it found its address taken. Promise: it
# stops at start, says why, and changes nothing of the first one's; a
# binary upgrade's new runner has the lock after the old one is gone;
# the lock is no worker's to hold.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(sleep);

FaasTest::need(-x '/usr/bin/sqlite3', 'the sqlite3 command (make test-deps)');

# an upgrade's new runner outlives the old one: it comes back to us
syscall(157, 36, 1, 0, 0, 0) == 0 or die "prctl: $!";

my $t = FaasTest->new;
my $p = $t->prefix;
my $fn = $t->testfn;

# runs until the test puts "release" in its folder
my $cdir = $t->function('count', "exec = ./run.sh\nmode = cgi\n"
                        . "timeout = 60s\n",
             'run.sh' => "#!/bin/sh\ncat > /dev/null\n"
                       . "while [ ! -e release ]; do sleep 0.1; done\n"
                       . "printf 'Content-Type: text/plain\\r\\n\\r\\n"
                       . "ok\\n'\n");
$t->function('hello', "exec = $fn\n");

$t->start_runner;
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

my $state = "$p/state";
my $db = "$state/async.db";
ok(-d $state, 'state_dir made at start');
is((stat $state)[2] & 07777, 0700, '... 0700');

# no asynchronous invocation yet: no store, an empty list (it was an
# error: "the store is missing")
my $bin = $t->runner_bin_name;
my $rc1 = "$p/runner.conf";
my $list = `$bin invocations --config $rc1 2>&1`;
is($?, 0, 'fcgi-runner invocations before any: exit 0');
like($list, qr/\AID\s+FUNCTION\s+TRIGGER\s+STATE[^\n]*\n\z/,
     '... the table\'s head alone');
is(`$bin invocations --config $rc1 --format json 2>&1`, "[]\n",
   '... JSON: []');
like(`$bin invocation 0123 --config $rc1 2>&1`, qr/no invocation "0123"/,
     'fcgi-runner invocation ID: none such');
isnt($?, 0, '... exit 1');
like(`$bin invocations --state-dir $p/nowhere 2>&1`,
     qr/state_dir "\Q$p\E\/nowhere": No such file or directory/,
     'a state_dir that is not there: an error, saying so');
isnt($?, 0, '... exit 1');

is($t->http_post('/async/count', 'x')->{status}, 202, 'an invocation');
sub row { `sqlite3 -readonly $db "SELECT state, attempts FROM invocations"` }
ok(FaasTest::wait_for(sub { row() eq "1|1\n" }, 15),
   '... runs: running in the store, its first attempt');
my $names = FaasTest::read_file("$state/function-names");

# the second runner: same state_dir, its own socket and functions
my $t2 = FaasTest->new;
$t2->function('other', "exec = $fn\n");
my $conf2 = "$p/runner2.conf";
FaasTest::write_file($conf2, $t2->runner_conf_text
                            =~ s/^state_dir = .*$/state_dir = $state/mr);

sub second {
    my ($conf) = @_;
    my $out = `timeout -s KILL 20 $t->{runner_bin} --config $conf 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = second($conf2);
is($rc, 1, 'a second runner on the state_dir: exits 1');
like($out, qr/state_dir "\Q$state\E" is locked by another runner:(?x)
              \ each\ runner\ needs\ a\ state_dir\ of\ its\ own/,
     '... and says why') or diag($out);
ok(!-e $t2->socket_path, '... it never listened');
is(row(), "1|1\n",
   '... the first runner\'s running invocation is still running');
is(FaasTest::read_file("$state/function-names"), $names,
   '... its function names as they were');
FaasTest::write_file("$cdir/release", '');
ok(FaasTest::wait_for(sub { row() =~ /^2\|/ }, 15),
   'the invocation succeeds');
is(row(), "2|1\n", '... at its first attempt');

# no process but the runner holds a descriptor of state_dir (its
# workers, their prototypes)
sub holders {
    my ($what) = @_;
    is($t->http_get('/fn/hello')->{status}, 200, "$what: a worker");
    ok(scalar $t->workers('hello'), '... that stays');
    my @held;
    for my $pid (grep { $_ != $t->runner_pid } FaasTest::all_pids()) {
        push @held, grep { (readlink($_) // '') =~ m{^\Q$state\E} }
                    glob "/proc/$pid/fd/*";
    }
    is("@held", '', '... no other process holds anything of state_dir');
    my $r = $t->runner_pid;
    ok(grep({ (readlink($_) // '') eq $state } glob "/proc/$r/fd/*"),
       '... the runner holds it');
}
holders('the first runner');

# a binary upgrade: the new runner has the lock once the old one is gone
my $old = $t->runner_pid;
kill 'USR2', $old;
ok($t->wait_log(qr/binary upgrade: new runner \d+ listening/, 20),
   'SIGUSR2: the new runner listens');
my ($new) = $t->runner_log =~ /binary upgrade: starting "[^"]*" as (\d+)/;
is($t->wait_runner(20), 0, '... the old one exits 0');
$t->{runner_pid} = $new;
holders('the new runner');
($rc, $out) = second($conf2);
is($rc, 1, 'a second runner after the upgrade: exits 1');
like($out, qr/is locked by another runner/, '... the new one holds the lock');

# a runner stopped: the next one starts on its state_dir; a status
# --watch goes on through it
my $sock = $t->socket_path;
my $wout = "$p/watch.out";
my $watcher = fork // die "fork: $!";
if ($watcher == 0) {
    open STDOUT, '>', $wout or POSIX::_exit(127);
    open STDERR, '>&', \*STDOUT or POSIX::_exit(127);
    exec $bin, 'status', '--listen', "unix:$sock", '--format', 'json',
         '--watch', '1' or POSIX::_exit(127);
}
sub snapshots { () = (FaasTest::read_file($wout) // '') =~ /^\{"runner"/mg }
ok(FaasTest::wait_for(sub { snapshots() >= 1 }, 10), 'status --watch: a '
   . 'snapshot');
$t->stop_runner;
sleep 2.5;
ok(waitpid($watcher, WNOHANG) == 0, '... the runner stopped: it goes on');
like(FaasTest::read_file($wout), qr/cannot connect to "unix:\Q$sock\E".*\n(?x)
                                    fcgi-runner\ status:\ asking\ again/,
     '... saying why');
my $before = snapshots();
$t->start_runner;
is($t->http_get('/fn/hello')->{status}, 200,
   'after the runner stops, the next one starts on its state_dir');
ok(FaasTest::wait_for(sub { snapshots() > $before }, 10),
   '... and status --watch shows it');
kill 'TERM', $watcher;
waitpid($watcher, 0);
like(`$bin status --listen unix:$p/nowhere.sock --watch 1 2>&1`,
     qr/cannot connect/, 'status --watch on nothing at first: fails');
is($? >> 8, 1, '... exit 1');

# a runner started with FAAS_UPGRADE_FD (as by an upgrading runner of
# an older version, which passes no lock) and descriptors 3 and 4 open:
# descriptor 5 is its own (faas-init's, found at start), not an old
# lock to close (an isolated worker could not start)
$t->stop_runner;
$t->start_runner(env => { FAAS_UPGRADE_FD => 4 }, nulls => [3, 4]);
is($t->http_get('/fn/hello')->{status}, 200,
   'FAAS_UPGRADE_FD without a lock passed: its workers start');
($rc, $out) = second($conf2);
like($out, qr/is locked by another runner/, '... it holds its own lock');
# and a lock said on 5 that is none there
$t->stop_runner;
$t->start_runner(env => { FAAS_UPGRADE_FD => 4,
                          FAAS_UPGRADE_STATE_FD => 5 }, nulls => [3, 4, 5]);
ok(FaasTest::wait_for(sub { $t->runner_log =~ /FAAS_UPGRADE_STATE_FD=5 (?x)
                           is\ not\ an\ upgrade's\ lock:\ ignored/ }, 5),
   'FAAS_UPGRADE_STATE_FD on no folder: ignored, said');
is($t->http_get('/fn/hello')->{status}, 200, '... its workers start');

$t->done;
1 while waitpid(-1, WNOHANG) > 0;
done_testing;

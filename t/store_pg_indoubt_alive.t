#!/usr/bin/perl

# The round's INSERT of accepted invocations has committed locally and
# waits for a synchronous standby; the runner's connection goes (a cut
# network: the runner's side of a proxy closed by the test) while the
# backend lives on, still waiting. Its rows are committed but not yet
# seen by anyone. The runner's look at the batch's ids, on a new
# connection, waits for the batch's lock (held to its commit's end) and
# then looks: the client gets 202 once the standby wait is over, and it
# runs once. It looked at once before: nothing seen, 503, and the
# client's retry ran it a second time when the commit came through (a
# reviewer's finding).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Time::HiRes qw(sleep time);
use POSIX ();

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;
my $p = $t->prefix;

# --- a proxy in front of the server's socket ------------------------------

my $real = "$db->{pg_dir}/.s.PGSQL.5432";
my $pdir = "$p/pgproxy";
mkdir $pdir or die "mkdir $pdir: $!";
my $listen = IO::Socket::UNIX->new(Type => SOCK_STREAM, Listen => 16,
                                   Local => "$pdir/.s.PGSQL.5432")
    or die "listen: $!";
my $handlers = "$pdir/handlers";

# a connection's bytes both ways; on SIGUSR1 its client's side closed,
# the server's kept open (the backend sees nothing)
sub shuttle {
    my ($c) = @_;
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $real)
        or POSIX::_exit(1);
    my $cut = 0;
    local $SIG{USR1} = sub { $cut = 1 };
    my $sel = IO::Select->new($c, $s);
    my $end = time + 120;
    while (!$cut && time < $end) {
        for my $fh ($sel->can_read(0.1)) {
            my $n = sysread($fh, my $buf, 65536);
            POSIX::_exit(0) unless $n;
            syswrite($fh == $c ? $s : $c, $buf);
        }
    }
    close $c;
    sleep 0.1 while time < $end;
    POSIX::_exit(0);
}

my $proxy = fork // die "fork: $!";
if ($proxy == 0) {
    $SIG{$_} = 'DEFAULT' for qw(TERM INT QUIT HUP ALRM);
    while (my $c = $listen->accept) {
        my $h = fork // next;
        shuttle($c) if $h == 0;
        FaasTest::write_file($handlers,
                             (FaasTest::read_file($handlers) // '') . "$h\n");
        close $c;
        1 while waitpid(-1, POSIX::WNOHANG()) > 0;
    }
    POSIX::_exit(0);
}
close $listen;

sub handler_pids {
    return grep { FaasTest::proc_alive($_) }
           split /\n/, FaasTest::read_file($handlers) // '';
}

# --- the runner, through the proxy ----------------------------------------

(my $puri = $uri) =~ s/host=[^&]+/host=$pdir/;
my $dir = $t->id_recorder('rec');
$t->start_runner(conf => "store = $puri\n");

sub submit { return $t->fcgi_async('rec', $_[0], 45) }

sub runs { return FaasTest::recorded($dir, $_[0]) }

my ($st, $id);
ok($t->store_warm($dir, 'rec'), 'the store is up through the proxy: accepted and run');

ok($db->pg_sync_standby(1), 'no standby to wait for');

# the client in a child: its answer in a pipe
pipe(my $rd, my $wr) or die "pipe: $!";
my $client = fork // die "fork: $!";
if ($client == 0) {
    close $rd;
    my ($s, $i) = submit('alive');
    print $wr "$s $i\n";
    close $wr;
    POSIX::_exit(0);
}
close $wr;

my $waiting = "FROM pg_stat_activity WHERE application_name = 'fcgi-runner' "
              . "AND query LIKE '%INSERT INTO faas.invocations%' "
              . "AND wait_event = 'SyncRep'";
ok(FaasTest::wait_for(sub { $db->psql("SELECT count(*) $waiting") =~ /^1$/m },
                      15), 'the INSERT waits at its commit, committed locally');
kill 'USR1', handler_pids();
ok($t->wait_log(qr/the PostgreSQL store: /), 'the runner\'s connection cut, '
   . 'the backend alive') or diag($t->runner_log);
sleep 1.5;
is($db->psql("SELECT count(*) $waiting"), "1\n",
   '... still waiting for its standby');
my $rin = '';
vec($rin, fileno($rd), 1) = 1;
ok(!select(my $rout = $rin, undef, undef, 0), '... and the client not '
   . 'answered yet: the look waits for the batch');

ok($db->pg_sync_standby(0), '... a standby no more waited for');
my $line = '';
$line = <$rd> // '' if select($rout = $rin, undef, undef, 40);
kill 'KILL', $client;
waitpid $client, 0;
chomp $line;
($st, $id) = split / /, $line;
is($st // '', 202, 'the standby wait over: the client gets 202')
    or diag($t->runner_log);
FaasTest::wait_for(sub { (submit('alive'))[0] == 202 }, 20)
    if ($st // 0) == 503;
ok(FaasTest::wait_for(sub { runs(qr/ alive$/m) >= 1 }, 15), '... it runs');
sleep 2;
is(runs(qr/ alive$/m), 1, '... once');

$t->done;
kill 'TERM', $proxy;
waitpid $proxy, 0;
kill 'KILL', handler_pids();
sleep 0.2;

done_testing;

#!/usr/bin/perl

# The round's INSERT of accepted invocations is sent, and the connection
# goes before its answer: the commit may have happened. Cut after the
# commit (it waits for a synchronous standby that is not there, its
# backend ended: "The transaction has already committed locally"), the
# client gets 202 with its id, not a 503 that a retry would run twice,
# and it runs once. The hostile twin: cut before the commit (the INSERT
# waits on a lock the test holds, its backend killed), the client still
# gets 503 and it never runs. Between them, the store away past the
# client's bound: 503, the log saying it may have been stored.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);
use POSIX ();

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;
my $dir = $t->id_recorder('rec');
$t->start_runner(conf => "store = $uri\n");

sub submit { return $t->fcgi_async('rec', $_[0], 45) }

# a client in a child, the test free meanwhile: its answer in a pipe
sub submit_later {
    my ($body) = @_;
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        close $rd;
        my ($st, $id) = submit($body);
        print $wr "$st $id\n";
        close $wr;
        POSIX::_exit(0);
    }
    close $wr;
    return ($pid, $rd);
}

sub answer {
    my ($pid, $rd) = @_;
    my $line = '';
    my $rin = '';
    vec($rin, fileno($rd), 1) = 1;
    # bounded: the runner answers within 30 s, the client gives up at 45
    $line = <$rd> // '' if select(my $rout = $rin, undef, undef, 50);
    kill 'KILL', $pid;
    waitpid($pid, 0);
    chomp $line;
    return split / /, $line;
}

sub runs { return FaasTest::recorded($dir, $_[0]) }

my ($st, $id);
ok($t->store_warm($dir, 'rec'), 'the store is up: accepted and run');

# 1. cut after the commit: it waits for a standby that is not there
ok($db->pg_sync_standby(1), 'no standby to wait for');

my ($pid, $rd) = submit_later('order-42');
my $waiting = "FROM pg_stat_activity WHERE application_name = 'fcgi-runner' "
              . "AND query LIKE '%INSERT INTO faas.invocations%'";
ok(FaasTest::wait_for(sub { $db->psql("SELECT count(*) $waiting AND "
                                      . "wait_event = 'SyncRep'") =~ /^1$/m },
                      15), 'the INSERT waits at its commit, committed locally');
# a failover, a cut network: the connection goes before the answer
$db->psql("SELECT pg_terminate_backend(pid) $waiting "
          . "AND wait_event = 'SyncRep'");
ok($db->pg_sync_standby(0), '... a standby no more waited for');

($st, $id) = answer($pid, $rd);
is($st, 202, 'its answer lost after the commit: the client gets 202');
# a client told 503 (Retry-After) sends it again until it is taken
FaasTest::wait_for(sub { (submit('order-42'))[0] == 202 }, 20) if $st == 503;
like($id, qr/^[0-9a-f]{32}$/, '... with the invocation\'s id');
is($db->psql("SELECT count(*) FROM faas.invocations WHERE id = '$id'"),
   "1\n", '... which the store has');
ok(FaasTest::wait_for(sub { runs(qr/^\Q$id\E order-42$/m) >= 1 }, 15),
   '... it runs');
ok(FaasTest::wait_for(sub { $db->psql("SELECT state FROM faas.invocations "
                                      . "WHERE id = '$id'") eq "2\n" }, 15),
   '... done in the store');
sleep 2;
is(runs(qr/ order-42$/m), 1, '... once: no 503 for a retry to run again');
like($t->runner_log, qr/the PostgreSQL store's answer to a batch of asynchronous invocations was lost; asked again, it has 1 of those still waiting \(202\), not 0 \(503\)/,
     'the log says it asked the store');
unlike($t->runner_log, qr/invocations not stored|may have been stored/,
       '... not that it was not stored, nor that it may have been');

# 2. the same cut, the database then away past the client's bound (30 s
# from the sending): 503 as before, the log saying it may be stored
ok($db->pg_sync_standby(1), 'no standby again');
($pid, $rd) = submit_later('order-43');
ok(FaasTest::wait_for(sub { $db->psql("SELECT count(*) $waiting AND "
                                      . "wait_event = 'SyncRep'") =~ /^1$/m },
                      15), 'the INSERT waits at its commit');
my $t0 = time;
$db->stop_postgres('immediate');
($st, $id) = answer($pid, $rd);
is($st, 503, 'the store not back in time: 503');
cmp_ok(time - $t0, '<', 35, '... within the bound');
ok($t->wait_log(qr/asynchronous invocations may have been stored \(the PostgreSQL store's answer was lost, and it was not back in time to say\): their clients get 503/, 5),
   '... said to be unknown, not "not stored"');
$db->start_postgres;
ok($db->pg_sync_standby(0), '... a standby no more waited for');
ok(FaasTest::wait_for(sub { runs(qr/ order-43$/m) == 1 }, 30),
   '... rightly: committed locally, it runs');

# 3. the hostile twin: the INSERT waits on a lock the test holds (a
# trigger takes it), its backend killed before it could commit
$db->psql(<<'EOF');
CREATE FUNCTION faas_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_advisory_xact_lock(4242); RETURN NEW; END $$;
CREATE TRIGGER hold BEFORE INSERT ON faas.invocations FOR EACH ROW
    EXECUTE FUNCTION faas_hold();
EOF
my $holder = fork // die "fork: $!";
if ($holder == 0) {
    # its session ends with the database's restart below: said on stderr
    open(STDERR, '>', '/dev/null');
    $db->psql("BEGIN; SELECT pg_advisory_xact_lock(4242); "
              . "SELECT pg_sleep(30); COMMIT;");
    POSIX::_exit(0);
}
ok(FaasTest::wait_for(sub { $db->psql("SELECT count(*) FROM pg_locks WHERE "
                                      . "locktype = 'advisory' AND granted")
                            =~ /^1$/m }, 10), 'the test holds the lock');

($pid, $rd) = submit_later('twin-7');
my $backend;
ok(FaasTest::wait_for(sub { ($backend) = $db->psql("SELECT pid $waiting AND "
                                                   . "wait_event_type = "
                                                   . "'Lock'") =~ /^(\d+)$/m;
                            $backend }, 15),
   'the INSERT waits on the lock, not committed');
# no word from the server: the connection simply goes (the database
# restarts its other sessions, the lock's holder too)
kill 'KILL', $backend;

($st, $id) = answer($pid, $rd);
is($st, 503, 'its answer lost before the commit: the client gets 503');
ok($t->wait_log(qr/it has 0 of those still waiting \(202\), not 1 \(503\)/,
                10), '... the store asked, it has not the invocation');
waitpid($holder, 0);
ok(FaasTest::wait_for(sub { $db->psql("DROP TRIGGER hold ON "
                                      . "faas.invocations; SELECT 1")
                            eq "1\n" }, 20), 'the trigger dropped');
ok(FaasTest::wait_for(sub { ($st) = submit('after'); $st == 202 }, 20),
   'the store takes invocations again');
ok(FaasTest::wait_for(sub { runs(qr/ after$/m) == 1 }, 15), '... and runs them');
is(runs(qr/ twin-7$/m), 0, 'the refused one never ran');
is($db->psql("SELECT count(*) FROM faas.invocations WHERE "
             . "body = 'twin-7'::bytea"), "0\n", '... nor is it stored');

$t->done;
$db->done;

done_testing;

#!/usr/bin/perl

# The round's INSERT of accepted invocations takes its batch's advisory
# lock (72689, a key of its first id) before its first row, not after
# its last: a look at the batch's ids (its answer lost) waits for that
# lock, and one between the rows and the lock saw them not yet
# committed, answered 503, the client's retry running it twice. The
# INSERT is held at its first row by a BEFORE INSERT trigger that waits
# for a lock the test holds: the batch's lock is held already (it was
# not, before), a look at it waits; let go, the client gets 202 and the
# lock's key is its id's.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);
use IO::Handle;
use POSIX ();

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;
my $dir = $t->id_recorder('rec');
$t->start_runner(conf => "store = $uri\n");

sub submit { return $t->fcgi_async('rec', $_[0], 45) }

sub runs { return FaasTest::recorded($dir, $_[0]) }

my ($st, $id);
ok($t->store_warm($dir, 'rec'), 'the store is up: accepted and run');

# each row inserted waits for the gate, a lock the test holds
$db->psql(q{CREATE FUNCTION faas.gate() RETURNS trigger LANGUAGE plpgsql }
          . q{AS $$BEGIN PERFORM pg_advisory_xact_lock_shared(4242); }
          . q{RETURN NEW; END$$; }
          . q{CREATE TRIGGER gate BEFORE INSERT ON faas.invocations }
          . q{FOR EACH ROW EXECUTE FUNCTION faas.gate()});

# the gate's holder: a session that ends when its input does
my $gate = $db->pg_gate(4242);
ok($gate, 'the gate closed');

# the client in a child: its answer in a pipe
pipe(my $rd, my $wr) or die "pipe: $!";
my $client = fork // die "fork: $!";
if ($client == 0) {
    close $rd;
    # the gate's input the parent's alone: its close is the gate's end
    POSIX::close(fileno $gate);
    my ($s, $i) = submit('gated');
    print $wr "$s $i\n";
    close $wr;
    POSIX::_exit(0);
}
close $wr;

my $pid = '';
ok(FaasTest::wait_for(sub {
       ($pid) = $db->psql("SELECT pid FROM pg_stat_activity WHERE "
                          . "application_name = 'fcgi-runner' AND query "
                          . "LIKE '%INSERT INTO faas.invocations%' AND "
                          . "wait_event = 'advisory'") =~ /^(\d+)$/m;
       $pid }, 15), 'the INSERT waits at its first row, none inserted');

my $key = $pid ? $db->psql("SELECT objid FROM pg_locks WHERE pid = $pid "
                           . "AND locktype = 'advisory' AND classid = 72689 "
                           . "AND objsubid = 2 AND granted") : '';
chomp $key;
like($key, qr/^\d+$/, '... its batch\'s lock held already')
    or diag($db->psql("SELECT * FROM pg_locks WHERE pid = $pid"));
is($key ne '' ? $db->psql("SELECT pg_try_advisory_xact_lock(72689, $key)")
              : '', "f\n", '... a look at the batch would wait for it');

close $gate;

my $line = '';
my $rin = '';
vec($rin, fileno($rd), 1) = 1;
$line = <$rd> // '' if select(my $rout = $rin, undef, undef, 40);
kill 'KILL', $client;
waitpid $client, 0;
chomp $line;
($st, $id) = split / /, $line;
is($st // '', 202, 'the gate open: the client gets 202')
    or diag($t->runner_log);
is($key, hex(substr($id // '', -7)), '... the lock\'s key its id\'s');
ok(FaasTest::wait_for(sub { runs(qr/ gated$/m) >= 1 }, 15), '... it runs');
sleep 1;
is(runs(qr/ gated$/m), 1, '... once');

$t->done;

done_testing;

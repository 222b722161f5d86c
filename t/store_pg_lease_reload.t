#!/usr/bin/perl

# With the PostgreSQL store a stored invocation is told half the lease
# its claim took (FAAS_LEASE_MS), whatever a reload does between the
# claim's sending and its answer: the lease is the settings' when the
# claim is sent, FAAS_LEASE_MS was the settings' when its answer came,
# and a reload raising timeout between gave a run a bound past its
# lease (another runner free to claim it meanwhile). The claim is held
# at its row by a BEFORE UPDATE trigger waiting for a lock the test
# holds, timeout raised from 1 s to 60 s by a reload, then let go: the
# run is told 6000 (twice 1 s + 5 s, halved), not 65000.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);
use IO::Handle;

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;

my $run = <<'EOF';
#!/bin/sh
body=$(cat)
echo "$FAAS_INVOCATION_ID $FAAS_LEASE_MS $body" >> out/log
printf 'Content-Type: text/plain\r\n\r\ndone\n'
EOF
my $conf = "exec = ./run.sh\nmode = cgi\nqueue_timeout = 5s\n";
my $dir = $t->function('slow', $conf . "timeout = 1s\n", 'run.sh' => $run);
mkdir "$dir/out";
chmod 0777, "$dir/out";

$t->start_runner(conf => "store = $uri\n");

sub submit { return $t->fcgi_async('slow', $_[0], 45) }

sub told {
    my ($body) = @_;
    my ($lease) = (FaasTest::read_file("$dir/out/log") // '')
                  =~ /^\S+ (\d*) \Q$body\E$/m;
    return $lease;
}

my ($st, $id);
ok(FaasTest::wait_for(sub { ($st, $id) = submit('warm'); $st == 202 }, 20),
   'the store is up: accepted');
ok(FaasTest::wait_for(sub { defined told('warm') }, 15), '... and run');
is(told('warm'), 6000, '... told half its lease (twice 1 s + 5 s)');

# each claim of a queued row waits for the gate, a lock the test holds
$db->psql(q{CREATE FUNCTION faas.gate() RETURNS trigger LANGUAGE plpgsql }
          . q{AS $$BEGIN PERFORM pg_advisory_xact_lock_shared(4242); }
          . q{RETURN NEW; END$$; }
          . q{CREATE TRIGGER gate BEFORE UPDATE ON faas.invocations }
          . q{FOR EACH ROW WHEN (OLD.state = 0 AND NEW.state = 1) }
          . q{EXECUTE FUNCTION faas.gate()});

# the gate's holder: a session that ends when its input does
my $gate = $db->pg_gate(4242);
ok($gate, 'the gate closed');

($st, $id) = submit('held');
is($st, 202, 'an invocation accepted');
ok(FaasTest::wait_for(sub { $db->psql("SELECT count(*) FROM "
       . "pg_stat_activity WHERE application_name = 'fcgi-runner' AND "
       . "query LIKE '%UPDATE faas.invocations v SET state = 1%' AND "
       . "wait_event = 'advisory'") eq "1\n" }, 15),
   '... its claim sent (lease: twice 1 s + 5 s), waiting at its row');

FaasTest::write_file("$dir/function.conf", $conf . "timeout = 60s\n");
$t->signal_runner('HUP');
ok($t->wait_log(qr/function "slow" changed/), 'timeout raised to 60 s by '
   . 'a reload meanwhile');

close $gate;

ok(FaasTest::wait_for(sub { defined told('held') }, 15), 'the claim '
   . 'answered: it runs') or diag($t->runner_log);
is(told('held'), 6000, '... told half the lease its claim took, not of '
   . 'the settings since');
ok(FaasTest::wait_for(sub { $db->psql("SELECT state FROM faas.invocations "
       . "WHERE id = '$id'") eq "2\n" }, 15), '... and succeeded');

($st) = submit('after');
is($st, 202, 'another accepted');
ok(FaasTest::wait_for(sub { defined told('after') }, 15), '... run');
is(told('after'), 65000, '... told half its lease of the settings now');

$t->done;

done_testing;

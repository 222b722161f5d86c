#!/usr/bin/perl

# The shared store answers an outcome with an error, not a lost
# connection (a statement timeout, a failover's read-only phase, a full
# disk; here a trigger that refuses it for a few seconds): the runner
# keeps the outcome and sends it again each second, said once, so the
# invocation is done in the store once the error goes, and runs once,
# instead of being dropped and run again when its lease runs out.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep time);

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;
# says its attempt; a lease of 4 s (twice timeout and queue_timeout)
my $adir = $t->function('att', "exec = ./run.sh\nmode = cgi\ntimeout = 1s\n"
                        . "queue_timeout = 1s\n", 'run.sh' => "#!/bin/sh\n"
                        . "echo \"\$FAAS_ATTEMPT\" >> out/log\n"
                        . "printf 'Content-Type: text/plain\\r\\n\\r\\n"
                        . "attempt %s\\n' \"\$FAAS_ATTEMPT\"\n");
mkdir "$adir/out";
chmod 0777, "$adir/out";
my $dir = $t->function('rec', "exec = ./run.sh\nmode = cgi\n",
    'run.sh' => "#!/bin/sh\necho \"\$FAAS_INVOCATION_ID\" >> out/log\n"
                . "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n");
mkdir "$dir/out";
chmod 0777, "$dir/out";
$t->start_runner(conf => "store = $uri\n");

sub submit {
    my $r = $t->fcgi_call('rec', timeout => 20, params => [
        FAAS_INVOCATION => 'async', REQUEST_METHOD => 'POST',
        CONTENT_LENGTH => 2, CONTENT_TYPE => 'text/plain' ], stdin => 'hi');
    my $h = $r->{http} // {};
    return ($h->{status} // 0, FaasTest::header($h, 'faas-invocation-id'));
}

my ($st, $id);
ok(FaasTest::wait_for(sub { ($st, $id) = submit(); $st == 202 }, 20),
   'the store is up: accepted');
ok(FaasTest::wait_for(sub { $db->psql("SELECT state FROM faas.invocations "
                                      . "WHERE id = '$id'") eq "2\n" }, 15),
   '... and done in the store');

# outcomes refused for 4 s: an error from the database, its connection kept
$db->psql(<<'EOF');
CREATE FUNCTION faas_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'outcomes refused for a test'; END $$;
CREATE TRIGGER refuse BEFORE UPDATE ON faas.invocations FOR EACH ROW
    WHEN (OLD.state = 1 AND NEW.state <> 1) EXECUTE FUNCTION faas_refuse();
EOF
($st, $id) = submit();
is($st, 202, 'accepted while outcomes are refused');
ok(FaasTest::wait_for(sub { FaasTest::read_file("$dir/out/log") =~ /\Q$id\E/ },
                      15), '... it runs');
ok($t->wait_log(qr/the PostgreSQL store did not take 1 outcome\(s\), trying again each second: .*outcomes refused for a test/, 10),
   'the refusal is said, with the database\'s reason');
sleep 3;
$db->psql("DROP TRIGGER refuse ON faas.invocations");
ok(FaasTest::wait_for(sub { $db->psql("SELECT state FROM faas.invocations "
                                      . "WHERE id = '$id'") eq "2\n" }, 10),
   'once the database takes it again: the outcome is stored, done');
my @runs = grep { $_ eq $id } split /\n/, FaasTest::read_file("$dir/out/log");
is(scalar @runs, 1, '... and it ran once');
my @said = $t->runner_log =~ /did not take/g;
is(scalar @said, 1, 'the refusal said once, not each second');
unlike($t->runner_log, qr/its outcome is lost/, 'no outcome lost');

# refused past its lease: the runner claims it again and runs attempt 2;
# attempt 1's outcome, kept, must not land on attempt 2's claim
$db->psql(<<'EOF');
CREATE TRIGGER refuse BEFORE UPDATE ON faas.invocations FOR EACH ROW
    WHEN (OLD.state = 1 AND NEW.state <> 1) EXECUTE FUNCTION faas_refuse();
EOF
my $r = $t->fcgi_call('att', timeout => 20, params => [
    FAAS_INVOCATION => 'async', REQUEST_METHOD => 'POST',
    CONTENT_LENGTH => 2, CONTENT_TYPE => 'text/plain' ], stdin => 'hi');
my $aid = FaasTest::header($r->{http} // {}, 'faas-invocation-id') // '';
ok(FaasTest::wait_for(sub {
    (FaasTest::read_file("$adir/out/log") // '') =~ /^2$/m }, 20),
   'its lease ran out while its outcome was refused: attempt 2 ran');
$db->psql("DROP TRIGGER refuse ON faas.invocations");
ok(FaasTest::wait_for(sub { $db->psql("SELECT state FROM faas.invocations "
                                      . "WHERE id = '$aid'") eq "2\n" }, 10),
   '... done once the database takes outcomes again');
like($db->psql("SELECT attempts, convert_from(response, 'UTF8') FROM "
               . "faas.invocations WHERE id = '$aid'"),
     qr/^2\|.*attempt 2/s, '... with the answer of its last claim, not '
     . 'the stale one of attempt 1');

$t->done;
$db->done;

done_testing;

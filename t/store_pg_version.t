#!/usr/bin/perl

# The shared store's schema version: a schema of another version (made
# by a newer runner's migration, in a fleet upgraded host by host) is
# neither read nor written by this runner. It stays up, says why,
# answers an asynchronous request 503 (nothing stored, nothing lost),
# and takes it again as soon as the schema is one it knows; `store
# migrate` refuses it (exit 1) and changes nothing.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;
$t->ok_function('rec');

my $conf = "store = $uri\n";
my $bin = $t->runner_bin_name;
my $rc = $t->prefix . '/runner.conf';

# made by this version: 1
$t->start_runner(conf => $conf);
ok(FaasTest::wait_for(sub {
    $db->psql("SELECT max(version) FROM faas.version") eq "1\n" }, 20),
   'a runner made the schema, version 1');
is($t->stop_runner, 0, 'and stopped');

# a newer runner migrated it
$db->psql("UPDATE faas.version SET version = 2");
my $out = `$bin store migrate --config $rc 2>&1`;
is($? >> 8, 1, 'store migrate on version 2: exit 1') or diag($out);
like($out, qr/refused its schema: the schema faas is version 2, this runner knows version 1 \(upgrade the runner\)\n/,
     '... saying why, in the README\'s words (no "ERROR:  ", no CONTEXT)');
is($db->psql("SELECT version FROM faas.version"), "2\n", '... and left it');

$t->start_runner(conf => $conf);
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));
ok($t->wait_log(qr/the PostgreSQL store refused its schema: .*the schema faas is version 2, this runner knows version 1/, 20),
   'the runner says why it does not use the store') or diag($t->runner_log);
like($t->runner_log, qr/refused its schema: the schema faas is version 2, this runner knows version 1 \(upgrade the runner\)\n/,
     "... in the README's words: no \"ERROR:  \" before, no CONTEXT after");
my $r = $t->http_post('/async/rec', 'x');
is($r->{status}, 503, 'an asynchronous request: 503');
is($db->psql("SELECT count(*) FROM faas.invocations"), "0\n",
   '... nothing written to a schema it does not know');
is($t->http_get('/fn/rec')->{status}, 200, 'synchronous requests go on');
# tried again with backoff (100 ms doubling to 5 s): said once
sleep 7;
is(scalar(() = $t->runner_log =~ /refused its schema/g), 1,
   '... said once, not at each try');

# back to a version it knows (the upgrade rolled back): taken again
$db->psql("UPDATE faas.version SET version = 1");
my $id = '';
ok(FaasTest::wait_for(sub {
    $r = $t->http_post('/async/rec', 'y');
    $id = FaasTest::header($r, 'faas-invocation-id') // '';
    $r->{status} == 202 }, 20), 'the schema known again: 202');
ok(FaasTest::wait_for(sub {
    $db->psql("SELECT state FROM faas.invocations WHERE id = '$id'")
        eq "2\n" }, 20), '... and run');
is($db->psql("SELECT length(body), length(params) FROM faas.invocations "
             . "WHERE id = '$id'"), "0|0\n",
   '... its request (body, parameters) not kept once it ended');

$t->done;
$db->done;

done_testing;

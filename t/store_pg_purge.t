#!/usr/bin/perl

# The shared store's retention: finished invocations older than
# async_retention are purged in batches of at most 10,000 rows a
# statement, one after the other, so that a table of millions is not
# one DELETE that outlasts the statement timeout every minute and
# never ends. Promise: every old finished row goes (here 25,000: three
# statements), nothing recent, nothing not yet run; said once.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;
$t->ok_function('rec');

my $conf = "store = $uri\nasync_retention = 1h\n";

$t->pg_schema($db, $conf);

# µs, as the runner writes them
my $now = '(extract(epoch from now()) * 1000000)::bigint';
$db->psql(<<"EOF");
INSERT INTO faas.invocations (id, function, trigger, state, created,
    finished, next_at, params, body)
SELECT 'old' || i, 'rec', 'async', 2 + (i % 2), 0, $now - 172800000000,
    0, ''::bytea, 'x'::bytea FROM generate_series(1, 25000) i;
INSERT INTO faas.invocations (id, function, trigger, state, created,
    finished, next_at, params, body)
SELECT 'new' || i, 'rec', 'async', 2, 0, $now, 0, ''::bytea, ''::bytea
FROM generate_series(1, 10) i;
INSERT INTO faas.invocations (id, function, trigger, state, created,
    next_at, params, body)
SELECT 'wait' || i, 'rec', 'async', 0, 0, $now + 86400000000, ''::bytea,
    ''::bytea FROM generate_series(1, 5) i;
EOF
is($db->psql("SELECT count(*) FROM faas.invocations"), "25015\n",
   '25,000 old finished (done and failed), 10 new, 5 not yet due');

# a runner's start purges at once
$t->start_runner(conf => $conf);
$t->start_nginx($t->faas_location(
    extra => 'location = /faas/status { faas_status; faas_pass runner; }'));
ok(FaasTest::wait_for(sub {
    $db->psql("SELECT count(*) FROM faas.invocations WHERE id LIKE 'old%'")
        eq "0\n" }, 60), 'every old finished one purged');
is($db->psql("SELECT count(*) FROM faas.invocations WHERE id LIKE 'new%'"),
   "10\n", 'the recent ones kept');
is($db->psql("SELECT count(*) FROM faas.invocations WHERE id LIKE 'wait%'"),
   "5\n", 'those not yet run kept');
ok($t->wait_log(qr/purged 25000 finished invocation\(s\) past async_retention/,
                10), 'said once, with the count of all the batches')
    or diag($t->runner_log);

# the status's finished: counted again after the purge, not 30 s later
my $a;
ok(FaasTest::wait_for(sub {
       my $r = $t->http_get('/faas/status');
       $a = (($r->{status} // 0) == 200
             ? decode_json($r->{body})->{runner}{async_invocations} : {});
       ($a->{succeeded} // -1) == 10 && ($a->{failed} // -1) == 0
   }, 10), 'the status counts what is left: '
   . join(' ', map { "$_=" . ($a->{$_} // '-') } sort keys %{ $a // {} }));

$t->done;
$db->done;

done_testing;

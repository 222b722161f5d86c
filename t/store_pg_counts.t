#!/usr/bin/perl

# The status's counts of asynchronous invocations from the shared store.
# Every runner of a fleet counted the whole invocations table by state
# every 2 s: its finished rows are millions within async_retention (2M
# rows: 0.9 s a count here), so ten runners kept the database's cores
# busy counting. Promise: each function's queued and running are
# counted every time (their partial indexes, a few rows); the finished
# are counted at the connection, after a purge, then at most every 30 s
# and only when the status was asked for since; a runner's own outcomes
# show at once, the fleet's others' within 30 s of being asked for.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

my ($db, $uri) = FaasTest::postgres();
my $t = FaasTest->new;
$t->ok_function('rec');

my $conf = "store = $uri\n";

$t->pg_schema($db, $conf);

# µs, as the runner writes them: another runner's finished and queued
my $now = '(extract(epoch from now()) * 1000000)::bigint';

sub finished {
    my ($prefix, $n) = @_;
    $db->psql(<<"EOF");
INSERT INTO faas.invocations (id, function, trigger, state, created,
    finished, next_at, params, body)
SELECT '$prefix' || i, 'rec', 'async', 2 + (i % 2), 0, $now, 0, ''::bytea,
    ''::bytea FROM generate_series(1, $n) i;
ANALYZE faas.invocations;
EOF
}

finished('old', 20000);
$db->psql(<<"EOF");
INSERT INTO faas.invocations (id, function, trigger, state, created,
    next_at, params, body)
SELECT 'wait' || i, 'rec', 'async', 0, 0, $now + 86400000000, ''::bytea,
    ''::bytea FROM generate_series(1, 3) i;
EOF

$t->start_runner(conf => $conf);
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()
    . 'location = /faas/status { faas_status; faas_pass runner; }'));

sub counts {
    my $r = $t->http_get('/faas/status');
    return {} unless ($r->{status} // 0) == 200;
    return decode_json($r->{body})->{runner}{async_invocations} // {};
}

sub counts_are {
    my ($want, $secs) = @_;
    my $got;
    FaasTest::wait_for(sub {
        $got = counts();
        !grep { ($got->{$_} // -1) != $want->{$_} } keys %$want;
    }, $secs);
    return join ' ', map { "$_=" . ($got->{$_} // '-') } sort keys %$want;
}

is(counts_are({ succeeded => 10000, failed => 10000, queued => 3 }, 15),
   'failed=10000 queued=3 succeeded=10000',
   'counted at the connection: the finished and the queued');

# this runner's own outcomes: at once
for my $i (1 .. 5) {
    is($t->http_post("/async/rec", "x$i")->{status}, 202,
       "invocation $i accepted");
}
is(counts_are({ succeeded => 10005, queued => 3, running => 0 }, 20),
   'queued=3 running=0 succeeded=10005', 'its own outcomes show at once');

# the fleet's others' finished: not counted again every 2 s
sub scans {
    my ($t1, $i1) = split /\|/, $db->psql(
        "SELECT seq_scan, (SELECT idx_scan FROM pg_stat_user_indexes"
        . " WHERE indexrelname = 'invocations_done') FROM"
        . " pg_stat_user_tables WHERE relname = 'invocations'");
    return $t1 + $i1;
}

finished('more', 1000);
sleep 2;
my $before = scans();
my $t0 = time;
my $asked = 0;
while (time - $t0 < 12) {
    $asked++ if defined counts()->{succeeded};
    sleep 1;
}
sleep 1.5;
my $scanned = scans() - $before;
cmp_ok($asked, '>=', 10, "the status asked for each second ($asked times)");
cmp_ok($scanned, '<=', 1, 'the whole table read at most once in 12 s '
       . "(scans of the table or of its finished: $scanned)");

is(counts_are({ succeeded => 10505, failed => 10500 }, 45),
   'failed=10500 succeeded=10505',
   'the fleet\'s others\' finished show within 30 s of being asked for');

$t->done;
$db->done;

done_testing;

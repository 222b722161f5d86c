#!/usr/bin/perl

# A claim is a lease. A row left "running" while the runner lives (its
# outcome lost: a runner that lost track of it, or one of many sharing
# the store that died) is claimed again once its claimed_until has
# passed, and runs, the attempt counted; a row whose lease still runs is
# left alone. The rows are made with sqlite3 from an invocation that ran.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time);

my $t = FaasTest->new;
my $p = $t->prefix;
my $db = "$p/state/async.db";

# what it ran, in its folder (its /tmp is its own); the first one waits
# for out/gate (10 s at most): a finished row keeps no parameters, so
# the copies are made from it while it runs
my $dir = $t->function('rec', "exec = ./run.sh\nmode = cgi\n",
             'run.sh' => "#!/bin/sh\nbody=\$(cat)\n"
                       . "i=0; while [ \"\$body\" = first ] "
                       . "&& [ ! -e out/gate ] && [ \$i -lt 100 ]; do "
                       . "sleep 0.1; i=\$((i+1)); done\n"
                       . "echo \"\$FAAS_INVOCATION_ID \$FAAS_ATTEMPT\" "
                       . ">> out/ran\n"
                       . "printf 'Content-Type: text/plain\\r\\n\\r\\n"
                       . "ran %s\\n' \"\$body\"\n");
mkdir "$dir/out";
chmod 0777, "$dir/out";
$t->start_runner;
$t->start_nginx($t->faas_location(location => 'faas_invocation_header on;'));

sub sql {
    my ($q) = @_;
    my $out = `sqlite3 -cmd '.timeout 5000' $db "$q" 2>&1`;
    chomp $out;
    return $out;
}

my $r = $t->http_post('/fn/rec', 'first',
                      headers => "Faas-Invocation: async\r\n");
is($r->{status}, 202, 'accepted');
my $id = FaasTest::header($r, 'faas-invocation-id');
ok(FaasTest::wait_for(sub { sql("SELECT state FROM invocations "
                                . "WHERE id = '$id'") eq '1' }, 10),
   'it runs');

# two copies of it left running by nobody: one whose lease ran out a
# second ago, one whose lease runs for an hour yet
my $now = int(time * 1e6);
my ($gone, $held) = ('0' x 31 . 'a', '0' x 31 . 'b');
for ([$gone, $now - 1_000_000], [$held, $now + 3600_000_000]) {
    my ($new, $until) = @$_;
    sql("INSERT INTO invocations (id, function, trigger, state, attempts, "
        . "created, started, next_at, claimed_until, params, body) "
        . "SELECT '$new', function, trigger, 1, 1, created, $now, next_at, "
        . "$until, params, 'again' FROM invocations WHERE id = '$id'");
}
cmp_ok(sql("SELECT COUNT(*) FROM invocations WHERE state = 1 "
           . "AND id <> '$id'"), '>=', 1, 'the copies are made');
FaasTest::write_file("$dir/out/gate", '');
ok(FaasTest::wait_for(sub { sql("SELECT state FROM invocations "
                                . "WHERE id = '$id'") eq '2' }, 15),
   'the first ran');

ok(FaasTest::wait_for(sub { sql("SELECT state FROM invocations "
                                . "WHERE id = '$gone'") eq '2' }, 15),
   'the expired lease is claimed again and its invocation runs')
    or diag(sql("SELECT id, state, attempts, claimed_until "
                . "FROM invocations"));
is(sql("SELECT attempts FROM invocations WHERE id = '$gone'"), 2,
   'the attempt is counted');
like(FaasTest::read_file("$dir/out/ran"), qr/^$gone 2$/m,
     'the function saw it as attempt 2');
like(sql("SELECT response FROM invocations WHERE id = '$gone'"),
     qr/ran again/, 'its response is kept');

# a few more looks of the dispatcher: the held lease stays
sleep 2;
is(sql("SELECT state FROM invocations WHERE id = '$held'"), 1,
   'a lease still running is not claimed');
unlike(FaasTest::read_file("$dir/out/ran"), qr/^$held /m, '... nor run');

$t->done;

done_testing;

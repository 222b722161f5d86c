#!/usr/bin/perl

# Stored invocations of a function that is not loaded when the runner
# starts (a function.conf with a typo; a folder not mounted yet at boot)
# wait for it (the embedded store, as the shared one does): each was
# answered 202. They run once a reload loads it; only those made longer
# than async_retention ago fail (404, "no such function"). A start with
# it missing failed them all for good (a hostile review).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

FaasTest::need(-x '/usr/bin/sqlite3', 'the sqlite3 command (make test-deps)');

my $t = FaasTest->new;
my $p = $t->prefix;
my $db = "$p/state/async.db";

sub sql { return FaasTest::sqlite($db, $_[0]) }

# its first run held until the test lets it go: its row keeps its
# parameters meanwhile (an outcome drops them), copied below
my $good = $FaasTest::GATED_CONF;
my $dir = $t->gated_recorder('rec');

$t->start_runner;
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

my $id = $t->async_running('rec', 'first') // 'none';
isnt($id, 'none', 'an invocation accepted (202), running (its row keeps '
     . 'its parameters)');

# five made now, two a day and more ago (async_retention is 24h)
my $day = 25 * 3600 * 1000000;
for my $i (1 .. 7) {
    my $ago = $i > 5 ? $day : 0;
    sql("INSERT INTO invocations (id, function, trigger, state, attempts, "
        . "created, next_at, params, body) SELECT printf('%032x', $i), "
        . "function, trigger, 0, 0, created - $ago, next_at - $ago, "
        . "params, 'b$i' FROM invocations WHERE id = '$id'");
}
is(sql('SELECT count(*) FROM invocations WHERE state = 0'), 7,
   'seven more stored, queued behind it');

# the runner stops (draining: it claims nothing more), the first ends
$t->signal_runner('TERM');
sleep 0.5;
FaasTest::write_file("$dir/out/gate", '');
is($t->wait_runner, 0, 'the runner stopped');
unlink "$dir/out/log";
is(sql('SELECT count(*) FROM invocations WHERE state = 0'), 7,
   '... the seven still queued');

# a typo: the function is not loaded at the start
FaasTest::write_file("$dir/function.conf", $good . "memory = lots\n");
my $mark = length $t->runner_log;
$t->start_runner;
ok(FaasTest::wait_for(sub { substr($t->runner_log, $mark) =~
       /asynchronous invocations of "rec" are stored and no function of its name is loaded: they wait for it, failed 86400 s after their making/ }, 10),
   'the function not loaded: said, they wait for it')
    or diag(substr($t->runner_log, $mark));
ok(FaasTest::wait_for(sub {
    sql('SELECT count(*) FROM invocations WHERE state = 3') == 2 }, 10),
   'those made over async_retention ago failed');
is(sql("SELECT status || ' ' || error FROM invocations WHERE state = 3 "
       . 'LIMIT 1'), '404 no such function', '... 404, no such function');
sleep 2.5;
is(sql("SELECT count(*) FROM invocations WHERE state = 0 AND attempts = 0"),
   5, 'the five made now wait, queued, no attempt spent');
ok(!-e "$dir/out/log", '... none ran');
my $said = () = substr($t->runner_log, $mark) =~ /no function of its name is loaded/g;
is($said, 1, '... said once');

# fixed, reloaded: they run
FaasTest::write_file("$dir/function.conf", $good);
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub {
    sql('SELECT count(*) FROM invocations WHERE state = 2') == 6 }, 10),
   'the function loaded again: the five ran')
    or diag(sql('SELECT id, state, status, error FROM invocations'));
my $log = FaasTest::read_file("$dir/out/log");
my @ran = sort map { (split / /)[-1] } split /\n/, $log;
is("@ran", "b1 b2 b3 b4 b5", "... each once, the two failed not") or diag($log, $t->runner_log);

$t->done;

done_testing;

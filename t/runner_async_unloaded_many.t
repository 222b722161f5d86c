#!/usr/bin/perl

# More names with invocations stored and no function loaded than the
# runner remembers (64): the first 64 are said and wait; the others wait
# their turn (a look at each a minute at most, not every one each
# second), 64 a minute, from the first again: the last of 130, made
# longer than async_retention ago, fails 404 in the third minute (the
# first 128 took every place for good: a review). Any of them loaded by
# a reload runs at once, remembered or not; the runner keeps answering
# meanwhile; 64 names are said a reload, then one line for the rest.

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

# a run logs its id and body; rec's first held until its gate is made
sub recorder {
    my ($name) = @_;
    my $dir = $t->gated_recorder($name);
    FaasTest::write_file("$dir/out/gate", '') if $name ne 'rec';
    return $dir;
}

my $rec = recorder('rec');
$t->start_runner;
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

my $id = $t->async_running('rec', 'first') // 'none';
isnt($id, 'none', 'an invocation accepted (202), running (its row keeps '
     . 'its parameters)');

# 130 names none of which is a function: u130 made a day and more ago
# (async_retention is 24h), the others now
my $day = 25 * 3600 * 1000000;
sql("WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
    . "WHERE n < 130) INSERT INTO invocations (id, function, trigger, "
    . "state, attempts, created, next_at, params, body) SELECT "
    . "printf('%032x', 1000 + n), printf('u%03d', n), trigger, 0, 0, "
    . "created - (n = 130) * $day, next_at - (n = 130) * $day, params, "
    . "'b' || n FROM s, invocations WHERE id = '$id'");
is(sql("SELECT count(*) FROM invocations WHERE function LIKE 'u%' "
       . 'AND state = 0'), 130, '130 stored for 130 names not loaded');

$t->signal_runner('TERM');
sleep 0.5;
FaasTest::write_file("$rec/out/gate", '');
is($t->wait_runner, 0, 'the runner stopped');

my $mark = length $t->runner_log;
my $said = sub {
    my (%n, $log);
    $log = substr($t->runner_log, $mark);
    $n{$1}++ while $log =~ /invocations of "(u\d+)" are stored and no /g;
    return \%n;
};
my $t0 = time;
$t->start_runner;

ok(FaasTest::wait_for(sub { keys %{ $said->() } >= 64 }, 10),
   '64 names said');
sleep 3;
my $first = $said->();
is(scalar keys %$first, 64, '... no more within the minute')
    or diag(join ' ', sort keys %$first);
is(scalar(grep { $_ > 1 } values %$first), 0, '... each once');
is(sql("SELECT count(*) FROM invocations WHERE function LIKE 'u%' "
       . 'AND state = 0 AND attempts = 0'), 130,
   '... all wait (u130 its turn), no attempt spent');

my $ok = 0;
for (1 .. 20) {
    my $x = $t->http_post('/fn/rec', 'sync');
    $ok++ if $x->{status} == 200 && $x->{body} eq "ok\n";
}
is($ok, 20, 'a loaded function answers meanwhile');

# one remembered, one not: loaded, both run at once, each its own
# function (their stored parameters, copied, name rec)
my ($known) = sort keys %$first;
my ($other) = grep { !$first->{$_} } map { sprintf 'u%03d', $_ } 1 .. 129;
ok($known && $other, "one said ($known), one waiting its turn ("
   . ($other // 'none') . ')');
my %dir = map { $_ => recorder($_) } $known, $other;
$t->signal_runner('HUP');
for my $name ($known, $other) {
    ok(FaasTest::wait_for(sub {
        FaasTest::read_file("$dir{$name}/out/log") =~ /^\w+ b\d+$/m }, 10),
       "$name loaded: its invocation ran")
        or diag(sql("SELECT * FROM invocations WHERE function = '$name'"));
}

# the next minutes: those waiting their turn are looked at, 64 a minute
ok(FaasTest::wait_for(sub {
    sql("SELECT status || ' ' || error FROM invocations "
        . "WHERE function = 'u130'") eq '404 no such function' }, 150),
   'the last of 130, made over async_retention ago, failed 404');
my $late = time - $t0;
cmp_ok($late, '>=', 100, "... in its turn ($late s), not at once");
my $all = $said->();
is(scalar(grep { !$all->{$_} } grep { $_ ne $other }
          map { sprintf 'u%03d', $_ } 2 .. 129), 0,
   'every other name had its turn (said)')
    or diag(join ' ', sort keys %$all);
# (one may be claimed for its look at that moment)
my $n;
ok(FaasTest::wait_for(sub {
    $n = sql("SELECT count(*) FROM invocations WHERE function LIKE 'u%' "
             . 'AND state = 0 AND attempts = 0');
    $n == 127 }, 5), "... the 127 others still wait, no attempt spent ($n)")
    or diag(sql("SELECT function, state, attempts FROM invocations "
                . "WHERE function LIKE 'u%' AND NOT (state = 0 AND "
                . 'attempts = 0)'));
my $lines = 0;
$lines += $_ for values %$all;
cmp_ok($lines, '<=', 128, "said $lines times in two reloads: 64 a reload "
       . 'at most');
is(scalar(grep { $_ > 2 } values %$all), 0, '... a name once a reload');
ok(FaasTest::read_file("$rec/out/log") !~ /\bb\d+$/m,
   'no stored invocation of another name ran rec');

$t->done;

done_testing;

#!/usr/bin/perl

# A function's name given to another tenant (a reload: alice's folder
# now says tenant mallory) while alice has 2,000 invocations of it stored
# (the embedded store): each is failed (404, "its function is another
# tenant's") 64 a look, never all in one pass of the event loop, a
# commit each: 20,000 of them froze the runner for 34 s (every tenant's
# requests waited; a hostile review), 20 ms of them a look and as long
# before the next (a review: not most of the loop). The proof here needs no clock: a
# request of bob's is answered while they are being failed, neither none
# nor all of them yet. Alice's run ending then is no room of mallory's
# function (max_instances).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

FaasTest::need(-x '/usr/bin/sqlite3', 'the sqlite3 command (make test-deps)');

my $N = 2000;
my $t = FaasTest->new;
my $p = $t->prefix;
my $db = "$p/state/async.db";

sub sql { return FaasTest::sqlite($db, $_[0]) }

# its one instance held until the test lets it go (out/gate-BODY)
my $gated = "#!/bin/sh\nbody=\$(cat)\necho \"start \$body\" >> out/log\n"
          . "i=0\nwhile [ ! -e \"out/gate-\$body\" ] && [ \$i -lt 300 ]; "
          . "do sleep 0.1; i=\$((i + 1)); done\n"
          . "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n";
my $conf = "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
         . "isolation = none\n";
my $dir = $t->function('report', $conf . "tenant = alice\n",
                       'run.sh' => $gated);
mkdir "$dir/out";
chmod 0777, "$dir/out";
# alice's and mallory's runs write it (each her own dynamic user)
FaasTest::write_file("$dir/out/log", '');
chmod 0666, "$dir/out/log";
$t->ok_function('other', "tenant = bob\n");

$t->start_runner;
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

my $r = $t->http_post('/async/report', 'x');
is($r->{status}, 202, 'alice\'s invocation accepted');
my $id = FaasTest::header($r, 'faas-invocation-id') // 'none';
ok(FaasTest::wait_for(sub {
    sql("SELECT state FROM invocations WHERE id = '$id'") eq '1' }, 10),
   '... and running (its function\'s one instance)');

# 2,000 more of alice's, as if accepted while it ran
sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    . "WHERE i < $N) INSERT INTO invocations (id, function, trigger, "
    . "state, attempts, created, next_at, params, body) SELECT "
    . "printf('%032x', i), function, trigger, 0, 0, created, next_at, "
    . "params, 'b' FROM n, invocations WHERE id = '$id'");
is(sql('SELECT count(*) FROM invocations WHERE state = 0'), $N,
   "$N of alice's stored behind it");

sub failed {
    return sql("SELECT count(*) FROM invocations WHERE state = 3 AND "
               . "status = 404 AND error = 'its function is another "
               . "tenant''s'");
}

# the name is mallory's now
FaasTest::write_file("$dir/function.conf", $conf . "tenant = mallory\n");
$t->signal_runner('HUP');
ok(FaasTest::wait_for(sub { failed() > 0 }, 10),
   'the name given to mallory: alice\'s stored ones failed, 404')
    or diag($t->runner_log);

$r = $t->http_get('/fn/other');
is($r->{status}, 200, 'bob\'s request answered meanwhile');
my $c = failed();
ok($c > 0 && $c < $N, "... with $c of $N failed: a few a look, not all in "
   . 'one pass of the event loop');
sleep 2.5;
my $later = failed();
ok($later > $c, "... and more later ($later, soon all), none run")
    or diag($t->runner_log);
is(sql("SELECT count(*) FROM invocations WHERE state = 2"), 0,
   '... none of them run for mallory (a claimed one is failed next)');
unlike(FaasTest::read_file("$dir/out/log"), qr/^start b$/m,
       '... none started');

# mallory's own: one runs (her function's one instance), one waits; the
# end of alice's run is no room of mallory's (it lowered her count: her
# second ran beside her first, past max_instances)
$r = $t->http_post('/async/report', 'm1');
is($r->{status}, 202, 'mallory\'s first accepted');
# (behind what is left of alice's: about 250 fail a second)
ok(FaasTest::wait_for(sub {
    FaasTest::read_file("$dir/out/log") =~ /^start m1$/m }, 40),
   '... and running') or diag($t->runner_log);
$r = $t->http_post('/async/report', 'm2');
is($r->{status}, 202, 'mallory\'s second accepted');
FaasTest::write_file("$dir/out/gate-x", '');
ok($t->wait_log(qr/invocation \Q$id\E of "report": the function is another tenant's now/),
   'alice\'s run ended');
sleep 2;
unlike(FaasTest::read_file("$dir/out/log"), qr/^start m2$/m,
       '... mallory\'s second still waits: max_instances 1 holds');
FaasTest::write_file("$dir/out/gate-m1", '');
ok(FaasTest::wait_for(sub {
    FaasTest::read_file("$dir/out/log") =~ /^start m2$/m }, 10),
   '... and runs once her first is done');
FaasTest::write_file("$dir/out/gate-m2", '');
$t->done;

done_testing;

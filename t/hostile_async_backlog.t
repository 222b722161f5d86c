#!/usr/bin/perl

# A tenant's stored invocations against everyone else's (the embedded
# store):
# - more than 256 of its functions kept busy (one run each, sleeping,
#   and more queued behind it) never stop another function's
#   invocations: the look at what is due skips a busy function before
#   it counts it (it took 256 places, and the function named after
#   them never ran);
# - a backlog of 200,000 queued invocations (20 functions at their
#   async_max_queued) behind busy functions, with schedules ticking,
#   costs the runner next to nothing while it waits: every look is an
#   index seek (each scanned the backlog: a second of CPU a second, and
#   every tenant's requests waited behind it).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use POSIX ();

FaasTest::need(-x '/usr/bin/sqlite3', 'the sqlite3 command (make test-deps)');

my $t = FaasTest->new;
my $p = $t->prefix;
my $db = "$p/state/async.db";
my $busy = $ENV{BUSY} // 260;

# each run sleeps (its function's only instance), the rest queue
my $sleeper = "#!/bin/sh\ncat > /dev/null\nsleep 127\n"
            . "printf 'Content-Type: text/plain\\r\\n\\r\\nlate\\n'\n";
my @names = map { sprintf 'b%03d', $_ } 0 .. $busy - 1;
$t->function($_, "exec = ./run.sh\nmode = cgi\nmax_instances = 1\n"
                 . "timeout = 150s\nisolation = none\ntenant = atk\n"
             . "max_processes = 1024\n",
             'run.sh' => $sleeper) for @names;
# named after all of them: the look met it last
my $v = $t->function('victim', "exec = ./run.sh\nmode = cgi\n"
                     . "isolation = none\ntenant = vic\n",
                     'run.sh' => FaasTest::async_script('rec'));
mkdir "$v/out";
chmod 0777, "$v/out";

my $conf = "max_workers = 400\ntenant.atk.max_instances = 300\n";
$t->start_runner(conf => $conf);
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

# --- more than 256 busy functions -----------------------------------------

my $accepted = 0;
for my $round (1, 2) {
    for my $n (@names) {
        my $r = $t->http_post("/async/$n", "$round");
        $accepted++ if $r && $r->{status} == 202;
    }
}
is($accepted, 2 * $busy, "$busy functions: two invocations each accepted");

# the sleeping runs (processes in the functions' folders)
sub sleepers { grep { FaasTest::read_file("/proc/$_/cmdline")
                      =~ /^sleep\x00127\x00/ } $t->leftovers }
sub running { scalar(() = sleepers()) }

# draining, the runner waits for its runs: they are ended for it
sub stop_busy_runner {
    kill 'TERM', $t->runner_pid;
    my $st;
    FaasTest::wait_for(sub { kill 'KILL', sleepers();
                             defined($st = $t->wait_runner(0.2)) }, 30);
    is($st, 0, 'the runner stops once its sleeping runs are killed');
}
ok(FaasTest::wait_for(sub { running() >= $busy }, 60),
   "... one of each running (" . running() . '), the other queued');

my $r = $t->http_post('/async/victim', 'after');
is($r->{status}, 202, 'another function\'s invocation accepted');
ok(FaasTest::wait_for(sub {
       FaasTest::read_file("$v/out/log") =~ / async POST after$/m }, 15),
   '... and run, though the busy functions came first in the look')
    or diag($t->runner_log =~ /([^\n]*(?:error|crit)[^\n]*)/ ? $1 : '');

# one the runner's counts do not know of (written into the store behind
# its back, as another runner of the store would): found by the list of
# every function in the store, made once a second, the 260 busy ones
# before it passed over
my $params = params_hex('victim');
my $said = `sqlite3 -cmd '.timeout 5000' $db "INSERT INTO invocations (id, \
function, trigger, state, attempts, created, next_at, params, body) \
SELECT printf('%032x', abs(random())), 'victim', 'async', 0, 0, created, \
next_at, X'$params', CAST('l' AS BLOB) FROM invocations \
WHERE function = 'b000' AND state = 0 LIMIT 1" 2>&1`;
is($?, 0, 'an invocation the counts do not know of, stored') or diag($said);
ok(FaasTest::wait_for(sub {
       FaasTest::read_file("$v/out/log") =~ / POST l$/m }, 15),
   '... and run, found in the list of the store\'s functions');

stop_busy_runner();

# --- a backlog of 200,000 ---------------------------------------------------

# as the functions' clients would have made them: 10,000
# (async_max_queued) for each of 20 functions; each function busy with
# a run of its own as the runner starts
sub params_hex {
    my ($fn) = @_;
    return unpack 'H*', FaasTest::fcgi_params(
        @{ FaasTest::fcgi_default_params($fn, REQUEST_METHOD => 'POST',
                                         CONTENT_LENGTH => 1) });
}
my $sql = "CREATE TEMP TABLE n (i INTEGER PRIMARY KEY);"
        . "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
        . "WHERE i < 10000) INSERT INTO n SELECT i FROM c;"
        . "CREATE TEMP TABLE row AS SELECT * FROM invocations "
        . "WHERE function = 'victim' LIMIT 1;";
for my $f (@names[0 .. 19]) {
    $sql .= "INSERT INTO invocations (id, function, trigger, state, "
          . "attempts, created, next_at, params, body) SELECT "
          . "printf('%032x', abs(random())), '$f', 'async', 0, 0, "
          . "row.created + n.i, row.created + n.i, X'" . params_hex($f)
          . "', CAST('b' AS BLOB) "
          . "FROM n, row;";
}
my $out = `sqlite3 -cmd '.timeout 5000' $db "$sql" 2>&1`;
is($?, 0, 'the backlog written') or diag($out);
cmp_ok(`sqlite3 $db "SELECT COUNT(*) FROM invocations WHERE state = 0"`,
       '>=', 200000, '... 200,000 queued and more');

# schedules ticking each second, each asking the store whether its last
# tick is done
$t->function("tick$_", "exec = ./run.sh\nmode = cgi\nisolation = none\n"
             . "schedule = \@every 1s\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                       . "\\r\\n\\r\\nt\\n'\n") for 1 .. 5;

$t->start_runner(conf => $conf);
my $rp = $t->runner_pid;
ok(FaasTest::wait_for(sub { running() >= 20 }, 30),
   'the 20 backlogged functions busy again');

sub cpu_ticks {
    my @f = split / /, (FaasTest::read_file("/proc/$rp/stat")
                        =~ /\) (.*)/)[0];
    return $f[11] + $f[12];
}
sleep 2;
my $c0 = cpu_ticks();
sleep 5;
my $used = (cpu_ticks() - $c0) / POSIX::sysconf(POSIX::_SC_CLK_TCK());
ok($used < 1.0, sprintf('the runner waiting on the backlog used %.2f s of '
   . 'CPU in 5 s', $used));

$r = $t->http_post('/async/victim', 'behind');
is($r->{status}, 202, 'another function\'s invocation accepted');
ok(FaasTest::wait_for(sub {
       FaasTest::read_file("$v/out/log") =~ / async POST behind$/m }, 15),
   '... and run behind the backlog');

stop_busy_runner();
$t->done;

done_testing;

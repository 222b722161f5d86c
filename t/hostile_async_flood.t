#!/usr/bin/perl

# A tenant's stored invocations held every connection the runner takes
# (hostile pass): each one on its way is a FastCGI connection of the
# runner's own that waits in its function's queue, they counted against
# max_connections, and they were bounded per function only (its
# max_instances): two slow functions of one tenant with thousands of
# async calls (or 4,200 on a schedule) paused accepting, and every
# other tenant's requests waited. Promise: the runner's own connections
# are not counted against max_connections; stored invocations on their
# way are bounded (a quarter of max_connections for the host, half of
# that for one tenant of several, a tenant's max_instances when set);
# another tenant's requests and async invocations are served at once;
# every accepted one of the flood still runs.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time sleep);

FaasTest::need(-x '/usr/bin/sqlite3', 'the sqlite3 command (make test-deps)');

my $t = FaasTest->new;
my $slow = "#!/bin/sh\ni=0\nwhile [ ! -e gate ] && [ \$i -lt 300 ]; do "
           . "sleep 0.1; i=\$((i+1)); done\nprintf 'Content-Type: "
           . "text/plain\\r\\n\\r\\nslow\\n'\n";
my %dir;
for my $n ('slowa', 'slowb') {
    $dir{$n} = $t->function($n, "exec = ./run.sh\nmode = cgi\n"
                            . "max_instances = 64\nqueue = 500\n"
                            . "queue_timeout = 60s\ntimeout = 60s\n"
                            . "tenant = mallory\n", 'run.sh' => $slow);
}
$t->function('fast', "exec = ./run.sh\nmode = cgi\ntenant = victim\n",
             'run.sh' => "#!/bin/sh\nprintf 'Content-Type: text/plain"
                         . "\\r\\n\\r\\nfast\\n'\n");
my $vdir = $t->function('vasync', "exec = ./run.sh\nmode = cgi\n"
                        . "tenant = victim\n", 'run.sh' => "#!/bin/sh\n"
                        . "cat > out/ran\nprintf 'Content-Type: text/plain"
                        . "\\r\\n\\r\\nok\\n'\n");
mkdir "$vdir/out";
chmod 0777, "$vdir/out";

$t->start_runner(conf => "max_connections = 64\nmax_workers = 200\n");
$t->start_nginx($t->faas_location(extra => FaasTest::async_location()));

# 2 x 80 of mallory's: more than max_connections, each function's
# max_instances alone would let 128 on their way at once
my $accepted = 0;
for my $i (1 .. 80) {
    for my $n ('slowa', 'slowb') {
        $accepted++ if $t->http_post("/async/$n", "x$i")->{status} == 202;
    }
}
is($accepted, 160, 'mallory: 160 asynchronous invocations accepted');

sub running {
    my $n = 0;
    for my $pid (FaasTest::all_pids()) {
        my $cwd = readlink("/proc/$pid/cwd") // next;
        my $cmd = FaasTest::read_file("/proc/$pid/cmdline") // next;
        $n++ if $cwd =~ m{/slow[ab]$} && $cmd =~ /run\.sh/;
    }
    return $n;
}

sleep 3;
my $most = 0;
for (1 .. 5) {
    my $n = running();
    $most = $n if $n > $most;
    sleep 0.2;
}
cmp_ok($most, '>', 0, "mallory's run ($most at once)");
cmp_ok($most, '<=', 8, '... no more than half of a quarter of '
       . 'max_connections 64 at once: 8');

# through nginx (its kept connections) and on connections of their own
my $t0 = time;
my $ok = 0;
for (1 .. 10) {
    $ok++ if ($t->http_get('/fn/fast', timeout => 10)->{status} // 0) == 200;
    $ok++ if ($t->fcgi_call('fast', timeout => 5)->{http}{status} // 0)
             == 200;
}
my $took = time - $t0;
is($ok, 20, 'another tenant\'s 20 requests answered');
cmp_ok($took, '<', 8, sprintf('... at once (%.2f s)', $took));
unlike($t->runner_log, qr/max_connections 64 reached/,
       '... the runner never stopped accepting');

is($t->http_post('/async/vasync', 'victim')->{status}, 202,
   'another tenant\'s asynchronous invocation accepted');
ok(FaasTest::wait_for(sub { -e "$vdir/out/ran" }, 10),
   '... and run while mallory\'s wait');

# the gate opens: every one of mallory's accepted runs
FaasTest::write_file("$_/gate", '') for values %dir;
my $db = $t->prefix . '/state/async.db';
my $done = 0;
ok(FaasTest::wait_for(sub {
       $done = `sqlite3 -cmd '.timeout 5000' -readonly $db "SELECT COUNT(*) FROM invocations WHERE state = 2 AND function LIKE 'slow%'" 2>/dev/null`;
       chomp $done;
       ($done || 0) >= 160;
   }, 90), "every one of mallory's 160 ran ($done)")
    or diag(`sqlite3 -readonly $db "SELECT function, state, COUNT(*) FROM invocations GROUP BY 1, 2"`);

$t->done;
done_testing;

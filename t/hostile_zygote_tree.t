#!/usr/bin/perl

# An app whose import forks a child that stays (a plain fork: the
# zygote's own child), which forks in turn a grandchild in a session of
# its own, under "isolation = none" (no pid namespace: what is orphaned
# comes to the runner, a subreaper). The zygote's child is killed as it
# is ready; the grandchild, not the runner's child then, was not looked
# at, and came to the runner once its parent died: in no live worker's
# or zygote's session, killed only when a worker of its user ends, which
# a function whose workers live on (min_instances, a long idle_timeout)
# never does. Promise: what is under the zygote's child goes with it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('users');

my $t = FaasTest->new;

my $dir = $t->function('zytree', "runtime = python\napp = z:app\n"
                       . "user = nobody\nisolation = none\n"
                       . "idle_timeout = 600s\n", 'z.py' => <<'EOS');
import os, time
marker = os.path.join(os.path.dirname(__file__), 'out', 'forked')
if not os.path.exists(marker):
    open(marker, 'w').close()
    if os.fork() == 0:
        if os.fork() == 0:
            os.setsid()
            os.execv('/bin/sleep', ['sleep', '3641'])
        time.sleep(600)
        os._exit(0)
    time.sleep(0.5)
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'zygote ok\n']
EOS
mkdir "$dir/out";
chmod 0777, "$dir/out";

$t->start_runner(conf => "limit_isolation = none\n");
$t->start_nginx($t->faas_location);

sub named { return FaasTest::cmdline_pids(@_) }

is($t->http_get('/fn/zytree/')->{body}, "zygote ok\n", 'answered');
ok(-e "$dir/out/forked", '(its app forked while imported)');
ok($t->wait_log(qr/zygote \d+ of "zytree" started processes nobody bills/,
                10), 'its zygote is retired');
ok(FaasTest::wait_for(sub { !named(qr/^sleep\x003641\x00/) }, 10),
   "the grandchild its app made is gone too")
    or diag('left: ' . join ' ', named(qr/^sleep\x003641\x00/));
is($t->http_get('/fn/zytree/')->{body}, "zygote ok\n", 'served again');

$t->done;

done_testing;

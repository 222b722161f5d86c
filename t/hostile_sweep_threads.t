#!/usr/bin/perl

# A sweep looks under a stray for what it forked through
# /proc/PID/task/PID/children: its main thread's children alone. A
# child another of its threads forked (alive) is listed under that
# thread only: not stopped, it sees its parent killed and, an orphan
# until the next sweep, does the same again, one generation always
# alive. Promise: what any thread of a stray forked goes with it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('pid namespaces');
FaasTest::need(-x '/usr/bin/python3', 'python3 (make test-deps)');

my $t = FaasTest->new;

$t->function('phoenix', "runtime = python\napp = a:app\nmin_instances = 1\n"
             . "max_requests = 0\n", 'a.py' => <<'EOF');
import ctypes, os, threading, time

def generation():
    ctypes.CDLL(None).prctl(15, b'phoenix', 0, 0, 0)
    def fork():
        if os.fork() == 0:
            child()
        threading.Event().wait()
    threading.Thread(target=fork, daemon=True).start()
    threading.Event().wait()

def child():
    ctypes.CDLL(None).prctl(15, b'phoenix', 0, 0, 0)
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.02)
    generation()                 # its parent killed: the next one

def app(env, start):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            generation()
        os._exit(0)
    os.wait()
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'started\n']
EOF

my $mlog = $t->prefix . '/logs/meter.log';
$t->start_runner(conf => "meter_log = $mlog\nmeter_idle_interval = 1s\n");
$t->start_nginx($t->faas_location);

sub phoenixes {
    return grep { (FaasTest::read_file("/proc/$_/comm") // '') eq "phoenix\n" }
           FaasTest::all_pids();
}

is($t->http_get('/fn/phoenix/')->{body}, "started\n", 'phoenix: started');
ok(FaasTest::wait_for(sub { phoenixes() }, 5), '... its processes seen');
ok(FaasTest::wait_for(sub { !phoenixes() }, 10),
   "what a stray's thread forked is killed with it")
    or diag(join ' ', phoenixes());

$t->done;
done_testing;

#!/usr/bin/perl

# A sweep takes a process the kernel is ending (SIGKILL pending, or
# PF_EXITING) for one already gone (bb135d2), and did not look under
# it. A function can keep one of its processes ending for as long as
# it likes: SIGKILLed while blocked, uninterruptibly, on a pipe's lock
# that a process of a live worker's session holds (a splice() into a
# full socket). Its children run on, its own still, out of every
# sweep: unbilled and never ended. Promise: what is under such a
# process is found and killed as under any stray.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('pid namespaces');
FaasTest::need(-x '/usr/bin/python3', 'python3 (make test-deps)');

my $t = FaasTest->new;

$t->function('hider', "runtime = python\napp = a:app\nmin_instances = 1\n"
             . "max_requests = 0\n", 'a.py' => <<'EOF');
import os, signal, socket, time

def app(env, start):
    r, w = os.pipe()
    os.write(w, b'x' * 16)
    a, b = socket.socketpair()
    a.setblocking(False)
    try:
        while True:
            a.send(b'y' * 65536)
    except BlockingIOError:
        pass
    a.setblocking(True)
    if os.fork() == 0:
        # in the worker's session, its child: the pipe's lock held
        os.splice(r, a.fileno(), 16)
        os._exit(0)
    time.sleep(0.3)
    go_r, go_w = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            if os.fork() == 0:
                os.execv('/bin/sleep', ['sleep', '3603'])
            os.write(go_w, b'%d' % os.getpid())
            os.write(w, b'z')           # blocks in D on the pipe's lock
            os._exit(0)
        os._exit(0)
    os.wait()
    x = int(os.read(go_r, 16))
    time.sleep(0.3)
    os.kill(x, signal.SIGKILL)          # ending, never ended
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'%d\n' % x]
EOF

my $mlog = $t->prefix . '/logs/meter.log';
$t->start_runner(conf => "meter_log = $mlog\nmeter_idle_interval = 1s\n");
$t->start_nginx($t->faas_location);

sub sleepers {
    return grep { (FaasTest::read_file("/proc/$_/cmdline") // '')
                  eq "sleep\0003603\0" } FaasTest::all_pids();
}

my $r = $t->http_get('/fn/hider/');
like($r->{body}, qr/^\d+$/, 'hider: served, its process ending');
ok(FaasTest::wait_for(sub { sleepers() }, 5), '... its child seen');
my ($y) = sleepers();
my $x = (split / /, ((FaasTest::read_file("/proc/$y/stat") // '')
                     =~ /\) (.*)/)[0] // '')[1] // 0;
my @f = split / /, ((FaasTest::read_file("/proc/$x/stat") // '')
                    =~ /\) (.*)/)[0] // '';
is($f[0] // '', 'D', "... its parent $x blocked on the pipe's lock");
ok((($f[28] // 0) >> 8) & 1, '... with SIGKILL pending');
ok(FaasTest::wait_for(sub { !sleepers() }, 15),
   'the child of a process ending is killed by the idle sweeps')
    or diag(join ' ', sleepers());

$t->done;
done_testing;

#!/usr/bin/perl

# An app that patches its driver at import (its module is __main__):
# once its zygote is ready, a thread of the zygote's forks a child that
# works on. The zygote's children were read from its main thread's
# task (/proc/PID/task/PID/children), which lists only what that thread
# forked: the child was in none of its looks, in no sweep (no orphan, no
# child of the runner's), nor in the zygote's CPU (a live child's is
# not), for as long as the zygote (and the thread, which else hands
# its children to the main thread as it ends) lived. Promise: it is found at a look
# (10 s), killed, the zygote retired.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('users and namespaces');

my $t = FaasTest->new;

$t->function('thr', "runtime = python\napp = z:app\nuser = nobody\n"
             . "idle_timeout = 600s\n", 'z.py' => <<'EOS');
import os, sys, threading, time
drv = sys.modules['__main__']
said = drv.reply
def later():
    time.sleep(1)
    if os.fork() == 0:
        os.execv('/bin/sleep', ['sleep', '3671'])
    time.sleep(600)
def reply(sock, pid, err):
    said(sock, pid, err)
    if pid == 0 and err == 0 and not getattr(drv, 'done', False):
        drv.done = True
        drv.threaded = lambda: False
        threading.Thread(target=later, daemon=True).start()
drv.reply = reply
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'thr ok\n']
EOS

$t->start_runner;
$t->start_nginx($t->faas_location);

is($t->http_get('/fn/thr/')->{body}, "thr ok\n", 'answered');
FaasTest::sleeper_made_and_gone(3671,
    '(a thread of its zygote forked, after it was ready)',
    'the child is gone');
ok($t->wait_log(qr/zygote \d+ of "thr" started processes nobody bills/, 5),
   'the zygote is retired');
is($t->http_get('/fn/thr/')->{body}, "thr ok\n", 'served again');

$t->done;

done_testing;

#!/usr/bin/perl

# A zygote's spare whose app patched the driver (t/runtime_zygote_spare.t)
# starts a thread while it waits, which forks a child and lives on: a
# child a thread forked is that thread's (its task's children file), so
# the look at the spare's children (its main thread's) saw none, and
# the child, no orphan and no child of the runner's, was in no sweep,
# working for nobody's bill while the function stayed at its
# max_instances. Promise: found at the zygote's look (10 s), killed,
# the zygote retired.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need(-x '/usr/bin/python3', 'python3');
FaasTest::need_root();

my $t = FaasTest->new;

$t->function('thrsp', "runtime = python\napp = sp:app\ntimeout = 5s\n"
                      . "min_instances = 1\nmax_instances = 1\n",
             'sp.py' => <<'EOF');
import os, socket, threading, time

_recv_fds = socket.recv_fds


def child():
    if os.fork() == 0:
        os.execv('/bin/sleep', ['sleep', '3681'])
    time.sleep(600)


def waiting(sock, bufsize, maxfds, flags=0):
    threading.Thread(target=child, daemon=True).start()
    return _recv_fds(sock, bufsize, maxfds, flags)


socket.recv_fds = waiting


def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'thrsp ok\n']
EOF

$t->start_runner;
$t->start_nginx($t->faas_location);

is($t->http_get('/fn/thrsp/')->{body}, "thrsp ok\n", 'answered');
ok($t->wait_log(qr/spare \d+ of zygote \d+ of "thrsp" has a child while/,
                25), 'the waiting spare\'s thread\'s child is found');
ok($t->wait_log(qr/killing process \d+, made by zygote \d+ of "thrsp"(?s:.*)(?x)
                   killing\ process\ \d+,\ made\ by\ zygote/, 5),
   '... killed with its spare');
ok($t->wait_log(qr/zygote \d+ of "thrsp" started processes nobody bills/, 5),
   '... the zygote retired');
is($t->http_get('/fn/thrsp/')->{body}, "thrsp ok\n", 'served again');

$t->done;

done_testing;

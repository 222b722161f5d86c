#!/usr/bin/perl

# runtime = python: the zygote forks its spare ahead, the runner's child
# (CLONE_PARENT) in the zygote's session, waiting for the runner's
# message for its next worker. An app may patch the driver while it is
# imported: its spare then runs the app's code while it waits. Nobody
# bills a zygote's session, the zygote's CPU look counts its own (the
# spare is not its child), and the pid namespace's sweeps leave the
# zygote's session alone; a function at its max_instances (min_instances
# = max_instances = 1) never asks for another worker, so the spare never
# has to answer: a core worked for nobody's bill for as long as the
# function lived. Promise: a spare that uses CPU while it waits is
# killed at the runner's next look at its zygote (10 s), the zygote
# retired (its workers start cold, as for any misbehaving zygote, each
# importing the app itself and billed for it), the function serves on,
# the runner stays up; an honest spare is left alone.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

FaasTest::need(-x '/usr/bin/python3', 'python3');
FaasTest::need_root();

my $t = FaasTest->new;

$t->function('burner', "runtime = python\napp = sp:app\ntimeout = 5s\n"
                       . "min_instances = 1\nmax_instances = 1\n",
             'sp.py' => <<'EOF');
import os, select, socket

_recv_fds = socket.recv_fds


def waiting(sock, bufsize, maxfds, flags=0):
    # the driver's spare waits here: it works meanwhile, and reads the
    # runner's message as soon as one comes
    while not select.select([sock], [], [], 0)[0]:
        x = 0
        for i in range(100000):
            x += i
    return _recv_fds(sock, bufsize, maxfds, flags)


socket.recv_fds = waiting


def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'burner %d\n' % os.getpid()]
EOF

# the same work in a child of the spare's (its own, not the runner's):
# the spare itself uses nothing
$t->function('forker', "runtime = python\napp = fk:app\ntimeout = 5s\n"
                       . "min_instances = 1\nmax_instances = 1\n",
             'fk.py' => <<'EOF');
import os, socket

_recv_fds = socket.recv_fds


def waiting(sock, bufsize, maxfds, flags=0):
    pid = os.fork()
    if pid == 0:
        while True:
            pass
    try:
        return _recv_fds(sock, bufsize, maxfds, flags)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


socket.recv_fds = waiting


def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'forker %d\n' % os.getpid()]
EOF

# the same, each spare under the look's bound: it works a while and
# leaves, and its zygote forks the next one
$t->function('cycler', "runtime = python\napp = cy:app\ntimeout = 5s\n"
                       . "min_instances = 1\nmax_instances = 1\n",
             'cy.py' => <<'EOF');
import os, select, socket, time

_recv_fds = socket.recv_fds


def waiting(sock, bufsize, maxfds, flags=0):
    end = time.process_time() + 0.3
    while time.process_time() < end:
        if select.select([sock], [], [], 0)[0]:
            return _recv_fds(sock, bufsize, maxfds, flags)
    if select.select([sock], [], [], 0.5)[0]:
        return _recv_fds(sock, bufsize, maxfds, flags)
    os._exit(0)


socket.recv_fds = waiting


def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'cycler %d\n' % os.getpid()]
EOF

$t->function('honest', "runtime = python\napp = h:app\ntimeout = 5s\n"
                       . "min_instances = 1\nmax_instances = 1\n",
             'h.py' => <<'EOF');
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'honest\n']
EOF

$t->start_runner;
$t->start_nginx($t->faas_location);

like($t->http_get('/fn/burner/')->{body}, qr/^burner \d+$/,
     'the app that patched its spare is served');
is($t->http_get('/fn/honest/')->{body}, "honest\n", 'the honest one too');

ok($t->wait_log(qr/spare \d+ of zygote \d+ of "burner" used \d+ ms of CPU/,
                25), 'the working spare found at a look at its zygote')
    or diag($t->runner_log);
like($t->runner_log, qr/zygote \d+ of "burner" .*nobody bills|started processes nobody bills/,
     '... its zygote retired');

my ($spare) = $t->runner_log =~ /spare (\d+) of zygote/;
ok($spare && FaasTest::wait_for(sub { !FaasTest::proc_alive($spare) }, 5),
   '... the spare is gone');

like($t->http_get('/fn/burner/', timeout => 20)->{body}, qr/^burner \d+$/,
     'the function serves on');

like($t->http_get('/fn/forker/')->{body}, qr/^forker \d+$/,
     'a spare that works in a child of its own: served');
ok($t->wait_log(qr/spare \d+ of zygote \d+ of "forker" has a child/, 25),
   '... found at a look at its zygote')
    or diag($t->runner_log);
like($t->http_get('/fn/forker/', timeout => 20)->{body}, qr/^forker \d+$/,
     '... the function serves on');

like($t->http_get('/fn/cycler/')->{body}, qr/^cycler \d+$/,
     'a spare that works under the bound and leaves: served');
ok($t->wait_log(qr/spare \d+ of zygote \d+ of "cycler" ended on its own/,
                10), '... its end on its own retires its zygote')
    or diag($t->runner_log);
like($t->http_get('/fn/cycler/', timeout => 20)->{body}, qr/^cycler \d+$/,
     '... the function serves on');

# an honest spare uses nothing while it waits: left alone
sleep 11;
unlike($t->runner_log, qr/of "honest" (used|has|ended)|zygote \d+ of "honest".*nobody/,
       'an honest spare: its zygote kept');
is($t->http_get('/fn/honest/')->{body}, "honest\n", '... and served');

$t->done;
done_testing;

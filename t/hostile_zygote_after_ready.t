#!/usr/bin/perl

# An app that patches its driver at import (its module is __main__): once
# the zygote has said it is ready, the zygote makes a process the
# runner's child (clone(CLONE_PARENT)) in a session of its own (setsid),
# under "isolation = none". It is in no zygote's session (the looks at
# it every 10 s see none), not the zygote's child, and no pid namespace
# is swept for it: only a worker's end of its user sweeps it, which a
# function whose workers live on never has. Promise: it is gone within
# a look of the zygote's (10 s) or the idle look.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

FaasTest::need_root('users');

my $t = FaasTest->new;

$t->function('late', "runtime = python\napp = z:app\nuser = nobody\n"
             . "isolation = none\nidle_timeout = 600s\n", 'z.py' => <<'EOS');
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
drv = sys.modules['__main__']
said = drv.reply
def reply(sock, pid, err):
    said(sock, pid, err)
    if pid == 0 and err == 0 and not getattr(drv, 'done', False):
        drv.done = True
        time.sleep(1)
        if libc.syscall(56, 0x8000 | 17, 0, 0, 0, 0) == 0:
            os.setsid()
            os.closerange(0, 64)
            os.execv('/bin/sleep', ['sleep', '3661'])
drv.reply = reply
def app(env, start):
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'late ok\n']
EOS

$t->start_runner(conf => "limit_isolation = none\nmeter_idle_interval = 5s\n");
$t->start_nginx($t->faas_location);

is($t->http_get('/fn/late/')->{body}, "late ok\n", 'answered');
FaasTest::sleeper_made_and_gone(3661,
    '(its zygote made the process after it was ready)',
    'the process is gone');

$t->done;

done_testing;

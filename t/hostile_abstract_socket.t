#!/usr/bin/perl

# Abstract unix sockets belong to the network namespace, which the
# default isolation ("tmp pid ipc") does not split, and have no owner or
# mode: any function could connect to another tenant's (or the host's)
# and take what it serves. Promise: under "ipc" isolation, on a kernel
# with landlock ABI 6, a function connects to no abstract socket bound
# outside its own processes (its prototype's domain): another tenant's
# and the host's refuse it, its own answers. Without landlock 6 the
# runner says at start that they are shared (the test is skipped).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::UNIX;
use Socket;

FaasTest::need_root('tenants');
FaasTest::need(-x '/usr/bin/python3', 'python3');

my $t = FaasTest->new;
my ($victim, $host) = ("faas-victim-$$", "faas-host-$$");

# the victim serves a secret on its abstract socket for 8 s
$t->function('victim', "exec = ./run.py\nmode = cgi\ntenant = victim\n"
                       . "timeout = 20s\n", 'run.py' => <<"EOF");
#!/usr/bin/python3
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind('\\0$victim')
s.listen(8)
s.settimeout(0.2)
end = time.time() + 8
while time.time() < end:
    try:
        c, _ = s.accept()
        c.sendall(b'VICTIM-SECRET')
        c.close()
    except socket.timeout:
        pass
sys.stdout.write('Content-Type: text/plain\\r\\n\\r\\nserved\\n')
EOF

# the spy, another tenant: the victim's, the host's and its own
$t->function('spy', "exec = ./run.py\nmode = cgi\ntenant = mallory\n",
             'run.py' => <<"EOF");
#!/usr/bin/python3
import errno, os, socket, sys, threading
def get(name):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(2)
    try:
        c.connect('\\0' + name)
        return c.recv(64).decode() or 'empty'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
own = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
own.bind('\\0faas-own-%d' % os.getpid())
own.listen(1)
def serve():
    c, _ = own.accept()
    c.sendall(b'OWN')
    c.close()
threading.Thread(target=serve, daemon=True).start()
out = 'victim: %s\\nhost: %s\\nown: %s\\n' % (
    get('$victim'), get('$host'), get('faas-own-%d' % os.getpid()))
sys.stdout.write('Content-Type: text/plain\\r\\n\\r\\n' + out)
EOF

$t->start_runner;
$t->start_nginx($t->faas_location);

if ($t->runner_log =~ /landlock ABI (\d+) \(6 needed\)/) {
    like($t->runner_log, qr/abstract unix sockets shared/,
         "no landlock 6 (ABI $1): the runner says they are shared");
    $t->done;
    done_testing;
    exit 0;
}

# the host's own abstract socket
my $hs = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => "\0$host",
                               Listen => 4) or die "bind: $!";

my $v = $t->http_start('/fn/victim');
ok(FaasTest::wait_for(sub {
    (FaasTest::read_file('/proc/net/unix') // '') =~ /\@\Q$victim\E/ }, 10),
   "the victim's abstract socket is bound");

# from the host (outside any function): it serves
my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => "\0$victim");
my $got = '';
$c->recv($got, 64) if $c;
is($got, 'VICTIM-SECRET', 'the host reaches it: the socket is real');

my $r = $t->http_get('/fn/spy');
is($r->{status}, 200, 'the spy ran');
like($r->{body}, qr/^victim: EPERM$/m, "another tenant's: refused");
like($r->{body}, qr/^host: EPERM$/m, "the host's: refused");
like($r->{body}, qr/^own: OWN$/m, 'its own: served (connecting works)');
unlike($r->{body}, qr/SECRET/, 'no secret crossed');

$r = FaasTest::http_finish($v, timeout => 20);
like($r->{body}, qr/served/, 'the victim served on');

close $hs;
$t->done;
done_testing;

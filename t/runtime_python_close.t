#!/usr/bin/perl

# runtime = python: the close() of an app's iterable runs once the whole
# response went, as under gunicorn, whose client has it whole at once
# (its last chunk sent before close()). A close() that hangs (a
# teardown that waits on a dead database) held the client until the
# function's timeout, then cut the response: a chunked one never got
# its last chunk, one without a Content-Length its end. Promise: the
# client has the whole response at once whatever close() does; the
# worker is held to its timeout (killed there); an app that keeps
# SIGALRM for itself is answered as before; the runner stays up.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

FaasTest::need(-x '/usr/bin/python3', 'python3');

my $t = FaasTest->new;

$t->function('closing', "runtime = python\napp = app:app\ntimeout = 3s\n"
                        . "max_instances = 2\n", 'app.py' => <<'EOF');
import signal, time


class Body:
    def __init__(self, pause):
        self.pause = pause
    def __iter__(self):
        yield b'given '
        yield b'whole\n'
    def close(self):
        time.sleep(self.pause)


def own(signum, frame):
    pass


def app(env, start):
    q = env['QUERY_STRING']
    start('200 OK', [('Content-Type', 'text/plain')])
    if q == 'hang':
        return Body(30)
    if q == 'slow':
        return Body(0.5)
    if q == 'alarm':
        # the app's own SIGALRM: the driver keeps out of it
        signal.signal(signal.SIGALRM, own)
        return Body(1)
    return Body(0)
EOF

my $rmeter = $t->prefix . '/logs/meter.log';
my $mlog = $t->prefix . '/logs/faas.log';

$t->start_runner(conf => "meter_log = $rmeter\n");
$t->start_nginx(FaasTest::meter_log_format()
                . $t->faas_location(location => "access_log $mlog faas_meter;"));

# HTTP/1.1: nginx sends the body chunked; the answer is whole at its
# last chunk (the connection then closes: Connection: close)
sub get11 {
    my ($q) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 5) or die "connect: $!";
    my $start = time;
    my $r = FaasTest::http_exchange($s, "GET /fn/closing/?$q HTTP/1.1\r\n"
                                    . "Host: localhost\r\n"
                                    . "Connection: close\r\n\r\n",
                                    timeout => 10);
    return ($r, time - $start);
}

my ($r, $took) = get11('quick');
is($r->{status}, 200, 'a quick close(): 200');
is($r->{body}, "given whole\n", '... the body whole');
like($r->{raw}, qr/\r\n0\r\n\r\n\z/, '... its last chunk sent');
sleep 0.5;
unlike(FaasTest::read_file($rmeter), qr/trigger=after_response/,
       '... an ordinary invocation: nothing metered after its response');

($r, $took) = get11('hang');
is($r->{status}, 200, 'a close() that hangs: 200');
is($r->{body}, "given whole\n", '... the body whole');
like($r->{raw}, qr/\r\n0\r\n\r\n\z/, '... its last chunk sent');
ok($took < 1.5, sprintf('... at once, not at the timeout (%.2f s)', $took));
ok($t->wait_log(qr/"closing" timed out after 3000 ms/, 10),
   '... the worker held to its timeout, killed there');

ok(FaasTest::wait_for(sub {
       FaasTest::read_file($rmeter) =~ /function=closing .*outcome=timeout.*trigger=after_response/
   }, 10), '... what the hung close() used is metered in meter_log (timeout)')
    or diag(FaasTest::read_file($rmeter));

($r, $took) = get11('slow');
is($r->{body}, "given whole\n", 'a close() of 0.5 s: the body whole');
ok($took < 0.4, sprintf('... at once (%.2f s)', $took));
ok(FaasTest::wait_for(sub {
       FaasTest::read_file($rmeter) =~ /function=closing .*outcome=ok.*trigger=after_response/
   }, 10), '... its close() metered in meter_log (ok)')
    or diag(FaasTest::read_file($rmeter));

# HTTP/1.0: the body ends with the connection
my $start = time;
$r = $t->http_get('/fn/closing/?slow', timeout => 10);
is($r->{body}, "given whole\n", 'HTTP/1.0: the body whole');
ok(time - $start < 0.4, sprintf('... at once (%.2f s)', time - $start));

($r, $took) = get11('alarm');
is($r->{body}, "given whole\n", 'an app with its own SIGALRM: the body whole');
ok($took >= 0.9, sprintf('... when its close() returned, as before '
                         . '(%.2f s)', $took));

($r, $took) = get11('quick');
is($r->{status}, 200, 'the function serves on');

$t->done;
done_testing;

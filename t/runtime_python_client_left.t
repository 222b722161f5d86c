#!/usr/bin/perl

# runtime = python: a client that leaves a streamed response. PEP 3333
# asks that the iterable's close() be called "whether the request was
# completed normally, or terminated early due to ... an early
# disconnect of the browser". The runner drops what a function writes
# for nobody and kills it past 1 MiB, or at its timeout: close() never
# ran, and a fast stream cost its worker. Promise: the runner tells
# the driver (ABORT_REQUEST), which asks the stream for no more and
# calls close() at its next block; the worker serves on; through
# faas_pass and through stock fastcgi_pass, with a body the app never
# read as well.

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

$t->function('stream', "runtime = python\napp = app:app\ntimeout = 20s\n"
                       . "max_instances = 1\n", 'app.py' => <<'EOF');
import os, sys, time


class Stream:
    def __init__(self, name, pause, size):
        self.name, self.pause, self.size, self.n = name, pause, size, 0

    def __iter__(self):
        while True:
            yield b'block %d %s\n' % (self.n, b'x' * self.size)
            self.n += 1
            time.sleep(self.pause)

    def close(self):
        print('%s closed after %d blocks' % (self.name, self.n),
              file=sys.stderr, flush=True)
        if self.name == 'raise':
            raise RuntimeError('a teardown that fails')


def app(env, start):
    q = env['QUERY_STRING']
    start('200 OK', [('Content-Type', 'text/plain')])
    if q == 'pid':
        return [b'%d' % os.getpid()]
    if q.startswith('slow') or q == 'raise':
        return Stream(q, 0.2, 10)
    # fast, or unread: a body the app never reads
    return Stream(q, 0, 60000)
EOF

my $faas_port = FaasTest::free_port();
$t->start_runner;
$t->start_nginx($t->fastcgi_location . $t->faas_route_server($faas_port));

sub pid {
    my $r = $t->http_get('/fn/stream?pid');
    return $r->{status} == 200 ? $r->{body} : "status $r->{status}";
}

# the header and the first block read, then gone
sub leave {
    my ($port, $q, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    $body //= '';
    my $method = length $body ? 'POST' : 'GET';
    print $s "$method /fn/stream?$q HTTP/1.0\r\nHost: x\r\n"
             . 'Content-Length: ' . length($body) . "\r\n\r\n";
    print $s $body;
    my $got = '';
    my $end = time + 10;
    while ($got !~ /block 0 / && time < $end) {
        last unless sysread($s, $got, 65536, length $got);
    }
    close $s;
    return $got =~ /^HTTP\/1\.1 200 .*block 0 /s;
}

my $pid = pid();
like($pid, qr/^\d+$/, "the worker's pid");

for my $front (['faas_pass', $faas_port], ['fastcgi_pass', $t->{port}]) {
    my ($name, $port) = @$front;

    for my $q ('slow', 'fast') {
        my $log = length $t->runner_log;
        my $start = time;
        ok(leave($port, "$q-$name"), "$name, $q stream: its first block");
        ok(FaasTest::wait_for(sub { substr($t->runner_log, $log)
                                    =~ /$q-$name closed after (\d+) blocks/ },
                              10), '... its close() ran');
        my ($n) = substr($t->runner_log, $log) =~ /closed after (\d+) blocks/;
        ok(defined $n && ($q eq 'fast' ? $n < 40 : $n < 10),
           '... soon: ' . ($n // '?') . ' blocks');
        ok(time - $start < 8, '... long before its timeout');
        unlike(substr($t->runner_log, $log), qr/nobody reads|timed out/,
               '... neither killed nor timed out');
        is(pid(), $pid, '... the same worker serves on');
    }
}

# a body of 100 kB the app never reads (the runner holds a response
# until its worker has the whole body: no more is ever unread): read
# ahead to look for the client, which left
my $log = length $t->runner_log;
ok(leave($faas_port, 'unread', 'b' x (100 * 1024)),
   'a stream that leaves its 100 kB body unread: its first block');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $log)
                            =~ /unread closed after \d+ blocks/ }, 10),
   '... its close() ran');
unlike(substr($t->runner_log, $log), qr/nobody reads|timed out/,
       '... neither killed nor timed out');
is(pid(), $pid, '... the same worker serves on');

# its close() raises: logged, the worker serves on (it exited before)
$log = length $t->runner_log;
ok(leave($faas_port, 'raise'), 'a stream whose close() raises: its first block');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $log)
                            =~ /raise closed after \d+ blocks/ }, 10),
   '... its close() ran');
ok(FaasTest::wait_for(sub { substr($t->runner_log, $log)
                            =~ /RuntimeError: a teardown that fails/ }, 10),
   '... its traceback logged');
is(pid(), $pid, '... the same worker serves on');

my $rss = FaasTest::read_file("/proc/$t->{runner_pid}/status")
          =~ /VmRSS:\s+(\d+)/ ? $1 : 0;
ok($rss > 0 && $rss < 64 * 1024, "the runner stays small ($rss kB)");

$t->done;
done_testing;

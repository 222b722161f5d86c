#!/usr/bin/perl

# runtime = python against PEP 3333 and gunicorn, where a stranger found
# it apart: the block that completed a Content-Length was held for the
# request's end (a generator that then slept held the client, one that
# then raised turned a whole 200 into a 500); a HEAD, a 204 or a 304
# with a body over 1 MiB through stock fastcgi_pass killed its worker
# (nginx reads no such body: "wrote N bytes nobody reads"); SERVER_NAME
# was empty in a server without server_name. Promise: each block goes
# as it is yielded, a response whole by its Content-Length stays the
# app's; no body is sent where HTTP has none (gunicorn sends none), the
# worker serves on; SERVER_NAME is never empty (the server's address,
# as gunicorn gives its bound one).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(time);

FaasTest::need(-x '/usr/bin/python3', 'python3');

my $t = FaasTest->new;

$t->function('pep', "runtime = python\napp = app:app\ntimeout = 10s\n"
                    . "max_instances = 1\n", 'app.py' => <<'EOF');
import os, time


def app(env, start):
    q = env['QUERY_STRING']
    if q in ('sleep', 'raise'):
        def body():
            yield b'hello'
            if q == 'raise':
                raise RuntimeError('after the whole body')
            time.sleep(3)
        start('200 OK', [('Content-Type', 'text/plain'),
                         ('Content-Length', '5')])
        return body()
    if q == 'endless':
        def body():
            while True:
                yield b'data: ping\n\n'
                time.sleep(0.1)
        start('200 OK', [('Content-Type', 'text/event-stream')])
        return body()
    if q == 'override':
        # a method-override middleware: the client's GET stays a GET
        env['REQUEST_METHOD'] = 'HEAD'
        start('200 OK', [('Content-Type', 'text/plain'),
                         ('Content-Length', '5')])
        return [b'hello']
    if q in ('big', '204', '304'):
        status = {'big': '200 OK', '204': '204 No Content',
                  '304': '304 Not Modified'}[q]
        start(status, [('Content-Type', 'text/plain'),
                       ('Content-Length', '3000000')])
        return [b'x' * 3000000]
    start('200 OK', [('Content-Type', 'text/plain')])
    return [('pid=%d name=[%s]' % (os.getpid(), env['SERVER_NAME']))
            .encode()]
EOF

my $faas_port = FaasTest::free_port();
$t->start_runner;
$t->start_nginx($t->fastcgi_location
    . $t->faas_route_server($faas_port));

# (until: read no further than that; nginx closes at the request's end)
sub get {
    my ($port, $req, $until) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    my $t0 = time;
    my $r = FaasTest::http_exchange($s, $req, timeout => 15,
                                    $until ? (until => $until) : ());
    $r->{took} = time - $t0;
    return $r;
}

for my $front (['faas_pass', $faas_port], ['fastcgi_pass', $t->{port}]) {
    my ($name, $port) = @$front;
    my $r = get($port, "GET /fn/pep/?sleep HTTP/1.0\r\nHost: x\r\n\r\n",
                qr/\r\n\r\nhello\z/);
    is("$r->{status} $r->{body}", '200 hello',
       "$name: a generator's whole Content-Length");
    ok($r->{took} < 2, sprintf('... its bytes at once, not after the app\'s '
                               . '3 s sleep (%.2f s)', $r->{took}));
    $r = get($port, "GET /fn/pep/?raise HTTP/1.0\r\nHost: x\r\n\r\n");
    is("$r->{status} $r->{body}", '200 hello',
       "$name: one that raises after its whole Content-Length: the app's "
       . '200, whole');
}
like($t->runner_log, qr/RuntimeError: after the whole body/,
     'the failure is in the log');

# bodies HTTP has not, through stock fastcgi_pass (which reads none)
my ($pid) = get($t->{port}, "GET /fn/pep/ HTTP/1.0\r\nHost: x\r\n\r\n")
            ->{body} =~ /pid=(\d+)/;
my $r = get($t->{port}, "HEAD /fn/pep/?big HTTP/1.0\r\nHost: x\r\n\r\n");
is($r->{status}, 200, 'HEAD of a 3 MB body: 200');
is(FaasTest::header($r, 'content-length'), '3000000',
   '... its Content-Length');
for my $s (204, 304) {
    $r = get($t->{port}, "GET /fn/pep/?$s HTTP/1.0\r\nHost: x\r\n\r\n");
    is($r->{status}, $s, "$s with a 3 MB body: $s");
}
$r = get($t->{port}, "GET /fn/pep/ HTTP/1.0\r\nHost: x\r\n\r\n");
my ($pid2) = $r->{body} =~ /pid=(\d+)/;
is($pid2, $pid, 'the same worker serves on');
unlike($t->runner_log, qr/nobody reads/, 'none killed for a body unread');

# a HEAD of an endless stream: its header, at once, through both fronts
for my $port ($faas_port, $t->{port}) {
    my $e = get($port, "HEAD /fn/pep/?endless HTTP/1.0\r\nHost: x\r\n\r\n");
    is($e->{status}, 200, 'HEAD of an endless stream: 200');
    ok($e->{took} < 5, sprintf('... at once, not at its 10 s timeout '
                               . '(%.1f s)', $e->{took}));
}

my $o = get($t->{port}, "GET /fn/pep/?override HTTP/1.0\r\nHost: x\r\n\r\n");
is("$o->{status} $o->{body}", '200 hello',
   'a GET the app calls HEAD (middleware): its body still sent');

# SERVER_NAME in a server without server_name: its address
like($r->{body}, qr/name=\[127\.0\.0\.1\]/,
     'SERVER_NAME never empty: the server\'s address');

$t->done;
done_testing;

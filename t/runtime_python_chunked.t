#!/usr/bin/perl

# runtime = python behind stock nginx (fastcgi_pass) with
# fastcgi_request_buffering off: a chunked request body has no length
# nginx knows, so no CONTENT_LENGTH; wsgi.input read nothing of it (the
# app, a Flask one too, saw an empty body and answered as if it had
# one), where gunicorn behind nginx (proxy_request_buffering off) reads
# the chunked body to its end and says so (wsgi.input_terminated).
# Promise: the app reads the whole body, as it comes; with a
# CONTENT_LENGTH, that many bytes and no more; a GET reads nothing; the
# function serves on.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep);

FaasTest::need(-x '/usr/bin/python3', 'python3');

my $flask = !system('/usr/bin/python3 -c "import flask" 2>/dev/null');

my $t = FaasTest->new;

$t->function('echo', "runtime = python\napp = app:app\ntimeout = 5s\n",
             'app.py' => <<'EOF');
def app(env, start):
    body = env['wsgi.input'].read()
    start('200 OK', [('Content-Type', 'text/plain')])
    return [b'%d %r [%s]' % (len(body), env.get('wsgi.input_terminated'),
                             body)]
EOF

$t->function('shop', "runtime = python\napp = shop:app\ntimeout = 5s\n",
             'shop.py' => <<'EOF') if $flask;
from flask import Flask, request

app = Flask(__name__)


@app.route('/', methods=['POST'])
def echo():
    return '%d [%s]' % (len(request.get_data()),
                        request.get_data().decode())
EOF

$t->start_runner;
$t->start_nginx($t->fastcgi_location(request_buffering => 'off'));

# a chunked body in two chunks, the second one later
sub chunked {
    my ($uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$t->{port}",
                                  Timeout => 5) or die "connect: $!";
    syswrite($s, "POST $uri HTTP/1.1\r\nHost: localhost\r\n"
                 . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                 . "5\r\nhello\r\n");
    sleep 0.3;
    syswrite($s, "6\r\n-world\r\n0\r\n\r\n");
    return FaasTest::http_exchange($s, '', timeout => 10);
}

my $r = chunked('/fn/echo/');
is($r->{status}, 200, 'a chunked body, no CONTENT_LENGTH: 200');
is($r->{body}, '11 True [hello-world]', '... read whole, to its end');

$r = $t->http("POST /fn/echo/ HTTP/1.0\r\nHost: localhost\r\n"
              . "Content-Length: 5\r\n\r\nhello");
is($r->{body}, '5 True [hello]', 'a body with its length: that many bytes');

$r = $t->http_get('/fn/echo/');
is($r->{body}, '0 True []', 'a GET: nothing to read');

SKIP: {
    skip 'python3-flask', 1 unless $flask;
    $r = chunked('/fn/shop/');
    is($r->{body}, '11 [hello-world]', 'Flask: request.get_data() whole');
}

$r = chunked('/fn/echo/');
is($r->{body}, '11 True [hello-world]', 'the function serves on');

$t->done;
done_testing;

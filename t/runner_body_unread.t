#!/usr/bin/perl

# A libfcgi app that answers a POST without reading its body (it serves
# GETs, say), its connection kept. What it left in its socket are the
# records of a request that has ended: at its next FCGX_Accept_r,
# libfcgi takes them for a protocol error and closes the connection.
# Alone, that costs nothing: the runner sees an idle connection close
# and connects again. With a request waiting, the runner sends it at
# once on that connection, libfcgi reads it with what was left and
# drops both: the next client, whoever it is, got a 502 billed as a
# crash. Promise: a worker that left bytes of its request unread gets
# its next request on a fresh connection; every request answers 200,
# none is said broken.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use Time::HiRes qw(sleep);

my $t = FaasTest->new;
my $fn = $t->testfn;

# one worker: the waiting request goes where the body was left
$t->function('get', "exec = $fn\nmax_instances = 1\nqueue_timeout = 10s\n");
$t->start_runner;
$t->start_nginx;

is($t->http_get('/fn/get')->{status}, 200, 'a GET answers');

# a POST it answers after 300 ms, its body unread (over libfcgi's 8 KiB
# read, and one it reads whole with its request), and two clients'
# requests waiting behind it
my @sizes = (20_000, 100, 64 * 1024, 9000);
my (@got, @want);
for my $n (@sizes) {
    my $post = post_start('/fn/get?op=sleep&ms=300', 'b' x $n);
    sleep 0.1;
    my @next = ($t->http_start('/fn/get?next'),
                post_start('/fn/get?then', 'x'));
    for ($post, @next) {
        my $r = FaasTest::http_finish($_, timeout => 20);
        push @got, $r->{status} // 0;
        push @want, 200;
    }
}
is("@got", "@want", 'each answered 200: a POST whose body the app never '
   . 'read, then the two requests that waited for its worker');

my $log = $t->runner_log;
unlike($log, qr/mid-request|while serving a request/,
       'no request said broken');

$t->done;
done_testing;


sub post_start {
    my ($uri, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port,
                                  Timeout => 5) or die "connect: $!";
    my $req = "POST $uri HTTP/1.0\r\nHost: localhost\r\nContent-Length: "
              . length($body) . "\r\n\r\n$body";
    my $off = 0;
    while ($off < length $req) {
        my $n = syswrite($s, $req, length($req) - $off, $off);
        die "write: $!" unless defined $n;
        $off += $n;
    }
    return $s;
}

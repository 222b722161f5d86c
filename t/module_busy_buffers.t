#!/usr/bin/perl

# faas_buffer_size of 14k or more (a page's buffers, 8 of them): the busy
# buffers nginx keeps for a slow client (twice the size) were more than
# all the response's buffers but one, the bound nginx checks for
# fastcgi_busy_buffers_size; from 32k, more than all of them, the
# header's own buffer too. With every buffer busy and none left to
# read into, the pipe wrote an empty chain to its temporary file: the
# worker died (SIGSEGV), every request it had cut; or, the client
# writable, it never flushed them and the worker spun at 100% CPU,
# serving nothing more. Three slow clients of a big response, with
# faas_buffer_size 64k, each get all of it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use IO::Select;
use IO::Socket::INET;
use Socket qw(SOL_SOCKET SO_RCVBUF);
use Test::More;
use Time::HiRes qw(sleep time);

my $t = FaasTest->new;
$t->function('big', "exec = " . $t->testfn . "\n");
$t->start_runner;

my $http = $t->faas_location(location => 'faas_buffer_size 64k;');
# a small send buffer: the client's socket is full at once
$http =~ s/(listen 127\.0\.0\.1:\d+);/$1 sndbuf=4k;/ or die "no listen";
$t->start_nginx($http);

my $size = 10_000_000;
my (@socks, %in);

for my $i (1 .. 3) {
    my $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
    setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096) or die "rcvbuf: $!";
    $s->connect(Socket::pack_sockaddr_in($t->{port},
                                         Socket::inet_aton('127.0.0.1')))
        or die "connect: $!";
    syswrite($s, "GET /fn/big/?op=big&n=$size HTTP/1.0\r\n"
                 . "Host: localhost\r\n\r\n");
    push @socks, $s;
    $in{$s} = '';
}

# read slowly, a few kilobytes at a time, as the answer comes: nginx's
# writes to them stop and start, its buffers busy
my $sel = IO::Select->new(@socks);
my $end = time + 60;

while ($sel->count && time < $end) {
    for my $s ($sel->can_read(1)) {
        my $n = sysread($s, my $buf, 4096);
        if (!$n) {
            $sel->remove($s);
            close $s;
            next;
        }
        $in{$s} .= $buf;
    }
    sleep(0.001);
}

for my $i (0 .. $#socks) {
    my $r = FaasTest::http_parse($in{ $socks[$i] });
    is($r->{status}, 200, "slow client $i: 200");
    is(length($r->{body} // ''), $size, "... all $size bytes of the body");
}

unlike($t->error_log, qr/exited on signal/, 'no nginx worker died');

# a location in one of faas_buffer_size 1m (514 buffers of a page) with
# its own 4k keeps 8 of them: a client that reads nothing has 32 kB of
# the response in nginx's memory, then the temporary file (it had the
# outer location's 514, 2 MB a client, the size not its own)
$t->stop_nginx;
$http = $t->faas_location(location => <<'EOF');
            faas_buffer_size 1m;
            location /fn/small/ {
                faas_buffer_size 4k;
                faas_route ^/fn/small/ big;
                faas_pass runner;
            }
EOF
$http =~ s/(listen 127\.0\.0\.1:\d+);/$1 sndbuf=4k;/ or die "no listen";
$t->start_nginx($http);
my $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
setsockopt($s, SOL_SOCKET, SO_RCVBUF, 4096) or die "rcvbuf: $!";
$s->connect(Socket::pack_sockaddr_in($t->{port},
                                     Socket::inet_aton('127.0.0.1')))
    or die "connect: $!";
syswrite($s, "GET /fn/small/?op=big&n=1000000 HTTP/1.0\r\n"
             . "Host: localhost\r\n\r\n");
ok(FaasTest::wait_for(sub { $t->error_log =~ m{buffered to a temporary file .*"GET /fn/small/} }, 20),
   'a nested location of a smaller faas_buffer_size: its own buffers, then '
   . 'the temporary file');
close $s;

$t->done;
done_testing;

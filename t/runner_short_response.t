#!/usr/bin/perl

# A script whose response is shorter than the Content-Length it gave,
# behind stock nginx with fastcgi_keep_conn on: nginx takes it for an
# error and closes the client's connection, so the client knows it got
# less than it was told. Through the runner it kept the connection and
# the client waited for the missing bytes until keepalive_timeout (the
# runner's empty STDOUT end, unpadded, left nginx's pipe wanting no
# more: a clean end); php-fpm's answer closed it at once. Promise: the
# same as php-fpm behind the same nginx: the bytes sent, then the
# connection closed at once; a response as long as it says is kept
# alive; and faas_pass closes at once too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time);

my $t = FaasTest->new;
my $p = $t->prefix;

my $php = <<'EOF_PHP';
<?php
header('Content-Length: ' . (($_GET['op'] ?? '') === 'short' ? 100 : 5));
header('Content-Type: text/plain');
echo 'short';
EOF_PHP

$t->function('php', "exec = php-cgi\nscript = app.php\nmemory = 512M\n",
             'app.php' => $php);

my $fpm_sock = $t->start_php_fpm;
mkdir "$p/www" or die "mkdir: $!";
FaasTest::write_file("$p/www/app.php", $php);
my ($fpm_port, $faas_port) = (FaasTest::free_port(), FaasTest::free_port());

$t->start_runner;
$t->start_nginx($t->fastcgi_location
    . ($fpm_sock ? $t->php_fpm_server($fpm_port, "$p/www",
                                      php => 'fastcgi_keep_conn on;') : '')
    . $t->faas_route_server($faas_port));

# HTTP/1.1 requests on a connection the client keeps, the next sent
# once the last one's whole body came: what came, and whether the server
# closed it (within 10 s; nginx keeps an idle one 75)
sub kept {
    my ($port, @uris) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    my ($in, $closed, $t0, $answers) = ('', 0, time, 0);
    my $sel = IO::Select->new($s);
    syswrite($s, "GET $uris[0] HTTP/1.1\r\nHost: localhost\r\n\r\n");
    while (time - $t0 < 10) {
        next unless $sel->can_read(0.5);
        my $n = sysread($s, my $buf, 65536);
        if (!$n) {
            $closed = 1;
            last;
        }
        $in .= $buf;
        $answers = () = $in =~ /\r\n\r\nshort/g;
        last if $answers == @uris && $uris[-1] !~ /short/;
        if ($answers < @uris && $in =~ /short\z/ && $uris[$answers - 1]
            && $uris[$answers - 1] !~ /short/)
        {
            syswrite($s, "GET $uris[$answers] HTTP/1.1\r\n"
                         . "Host: localhost\r\n\r\n");
        }
    }
    close $s;
    my ($body) = $in =~ /\r\n\r\n(?:.*\r\n\r\n)?(.*)\z/s;
    return { head => $in, body => $body // '', closed => $closed,
             answers => $answers };
}

my @servers = (['runner', $t->{port}, '/fn/php'],
               ['faas_pass', $faas_port, '/fn/php']);
push @servers, ['php-fpm', $fpm_port, '/app.php'] if $fpm_sock;

for my $s (@servers) {
    my ($name, $port, $uri) = @$s;
    my $r = kept($port, "$uri?op=short");
    like($r->{head}, qr{^HTTP/1.1 200 .*\r\nContent-Length: 100\r\n}si,
         "$name: a response that says 100 bytes");
    is($r->{body}, 'short', '... with the 5 it has');
    ok($r->{closed}, '... and the connection closed at once');

    # whole ones: the client's connection serves the next, and the
    # next, and a short one after them is still cut and closed
    $r = kept($port, $uri, $uri, $uri, "$uri?op=short");
    is($r->{answers}, 4, "$name: 3 whole responses on one connection, "
                         . 'then a short one');
    is($r->{body}, 'short', '... its 5 bytes');
    ok($r->{closed}, '... then closed');
}

my $short = () = $t->error_log =~ /upstream prematurely closed FastCGI stdout/g;
ok($short >= 2, "nginx said the runner's answers were short ($short)");

$t->stop_php_fpm;
$t->done;
done_testing;

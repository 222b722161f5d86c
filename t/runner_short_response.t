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
    . "    server {\n        listen 127.0.0.1:$faas_port;\n"
    . "        location /fn/ {\n"
    . '            faas_route ^/fn/(?<fname>[^/]*) $fname;' . "\n"
    . "            faas_pass runner;\n        }\n    }\n");

# one HTTP/1.1 request on a connection the client keeps: what came, and
# whether the server closed it (within 10 s; nginx keeps an idle one 75)
sub kept {
    my ($port, $uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    syswrite($s, "GET $uri HTTP/1.1\r\nHost: localhost\r\n\r\n");
    my ($in, $closed, $t0) = ('', 0, time);
    my $sel = IO::Select->new($s);
    while (time - $t0 < 10) {
        next unless $sel->can_read(0.5);
        my $n = sysread($s, my $buf, 65536);
        if (!$n) {
            $closed = 1;
            last;
        }
        $in .= $buf;
        last if $in =~ /\r\n\r\nshort\z/ && $uri !~ /short/;
    }
    close $s;
    my ($body) = $in =~ /\r\n\r\n(.*)\z/s;
    return { head => $in, body => $body // '', closed => $closed };
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

    $r = kept($port, $uri);
    is($r->{body}, 'short', "$name: a whole response");
    ok(!$r->{closed}, '... its connection kept');
}

SKIP: {
    skip 'php-fpm', 1 unless $fpm_sock;
    my $e = $t->error_log;
    my $runner = () = $e =~ /upstream prematurely closed FastCGI stdout/g;
    ok($runner >= 1, "nginx said the runner's answer was short");
}

$t->stop_php_fpm;
$t->done;
done_testing;

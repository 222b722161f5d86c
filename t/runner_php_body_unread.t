#!/usr/bin/perl

# php-cgi given more body than it reads: a chunked body through
# fastcgi_pass with fastcgi_request_buffering off has no CONTENT_LENGTH,
# and a FastCGI client may send more than its CONTENT_LENGTH. php-cgi
# answers, closes its connection and resets what it left; the runner,
# still writing the body, met the reset before it read the answer
# waiting in its socket: a 502, the worker killed as broken. Promise:
# what the worker answered is what the client gets, the rest of the
# body is dropped, the worker serves on; php-fpm behind the same nginx
# gives the same bytes. A worker that stops reading and answers nothing
# is still a 502, at once, and the runner serves on.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::INET;

my $t = FaasTest->new;
my $p = $t->prefix;

my $php = <<'EOF_PHP';
<?php
header('Content-Type: text/plain');
echo 'in=', strlen(file_get_contents('php://input')), ' cl=',
     $_SERVER['CONTENT_LENGTH'] ?? 'none', "\n";
EOF_PHP

$t->function('php', "exec = php-cgi\nscript = app.php\nmemory = 512M\n"
                    . "max_instances = 1\ntimeout = 10s\n",
             'app.php' => $php);

# reads its request's parameters, then closes: the body it never reads
$t->function('quitter', "exec = ./w.pl\nmax_instances = 1\n",
             'w.pl' => $FaasTest::PERL_FCGI_WORKER . <<'EOF_W');
while (accept(my $c, $l)) {
    binmode $c;
    while (my ($type, undef, $len) = rd_rec($c)) {
        if ($type == 9) {
            syswrite($c, rec(10, 0, ''));
        } elsif ($type == 4 && $len == 0) {
            last;
        }
    }
    close $c;
}
EOF_W

my $fpm_sock = $t->start_php_fpm;
mkdir "$p/www" or die "mkdir: $!";
FaasTest::write_file("$p/www/app.php", $php);
my $fpm_port = FaasTest::free_port();

$t->start_runner;
$t->start_nginx($t->fastcgi_location(request_buffering => 'off')
    . ($fpm_sock ? $t->php_fpm_server($fpm_port, "$p/www",
                     php => 'fastcgi_request_buffering off;') : ''));

# a chunked POST of $n bytes in chunks of 64 KiB
sub chunked {
    my ($port, $uri, $n) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    my $req = "POST $uri HTTP/1.1\r\nHost: localhost\r\n"
            . "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
    while ($n > 0) {
        my $k = $n > 65536 ? 65536 : $n;
        $req .= sprintf("%x\r\n", $k) . ('c' x $k) . "\r\n";
        $n -= $k;
    }
    return FaasTest::http_exchange($s, $req . "0\r\n\r\n", timeout => 20);
}

# through nginx: CONTENT_LENGTH empty (fastcgi_params), 1 MiB the
# worker never reads
my $ours;
for my $i (1 .. 3) {
    my $r = chunked($t->{port}, '/fn/php', 1 << 20);
    is($r->{status}, 200, "chunked 1 MiB, request $i: 200");
    is($r->{body}, "in=0 cl=\n", '... what php-cgi answered');
    $ours = $r->{body};
}

SKIP: {
    skip 'php-fpm', 2 unless $fpm_sock;
    my $r = chunked($fpm_port, '/app.php', 1 << 20);
    is($r->{status}, 200, 'php-fpm, the same request: 200');
    is($r->{body}, $ours, '... the same bytes');
}

# a FastCGI client of the runner: a body longer than its CONTENT_LENGTH,
# and a GET with a body and none, on one kept connection
my $s = $t->fcgi_connect;
for my $i (1 .. 4) {
    my @cl = $i % 2 ? (CONTENT_LENGTH => 5, REQUEST_METHOD => 'POST') : ();
    my $b = FaasTest::fcgi_request_bytes(
        params => FaasTest::fcgi_default_params('php', @cl),
        stdin => 'x' x (300_000 * $i));
    my $r = FaasTest::fcgi_exchange($s, $b, timeout => 10);
    like($r->{stdout}, $i % 2 ? qr/\r\n\r\nin=5 cl=5\n\z/
                              : qr/\r\n\r\nin=0 cl=none\n\z/,
         "FastCGI, " . 300 * $i . " KB of body, request $i: its answer");
    is($r->{app_status}, 0, '... ended as the worker ended it');
}
close $s;

my $log = $t->runner_log;
unlike($log, qr/"php".*(mid-request|signal|broken)/,
       'no php-cgi taken for broken, none killed');
is($t->workers('php'), 1, 'one php-cgi served them all');

# its hostile twin: a worker that stops reading and answers nothing
my $r = chunked($t->{port}, '/fn/quitter', 1 << 20);
is($r->{status}, 502, 'a worker that closes unanswered mid-body: 502');
like($t->runner_log, qr/"quitter" (closed|reset) the connection mid-request/,
     '... said so');
is(chunked($t->{port}, '/fn/php', 1000)->{status}, 200,
   'the runner serves on');

$t->stop_php_fpm;
$t->done;
done_testing;

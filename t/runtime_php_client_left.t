#!/usr/bin/perl

# runtime = php: a client that leaves while its script still writes.
# php-fpm's write to the closed connection fails and PHP ends the
# script there (its shutdown functions run, connection_status() is 1),
# unless it called ignore_user_abort(true): then it runs on, its output
# going nowhere. faas-php never knew (the runner reads and drops what a
# worker writes for nobody): the script ran on, and one that wrote
# 1 MiB more was killed with its worker, its shutdown functions never
# run. Promise: the runner tells faas-php (ABORT_REQUEST), which looks
# for it at each flush after the first: the same as php-fpm behind the
# same nginx, for both kinds of script; the worker serves on.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);

FaasTest::need(-x "$FaasTest::BUILD/faas-php",
               'faas-php (make, with php8.2-dev and libphp8.2-embed)');
FaasTest::need_root('a function of its own user, with a private /tmp');

my $t = FaasTest->new;

# what it did goes to state/TAG, in its folder (php-fpm's www-data and
# the function's user both write there)
my $php = <<'EOF';
<?php
$f = __DIR__ . '/state/' . basename($_GET['tag'] ?? 'x');
if (isset($_GET['ignore'])) {
    ignore_user_abort(true);
}
$i = 0;
register_shutdown_function(function () use ($f, &$i) {
    file_put_contents($f, 'shutdown ' . connection_status() . " $i\n",
                      FILE_APPEND);
});
header('Content-Type: text/plain');
if (isset($_GET['pid'])) {
    echo getmypid();
    exit;
}
$n = isset($_GET['big']) ? 400 : 30;
for ($i = 0; $i < $n; $i++) {
    echo str_repeat('x', 16384), "\n";
    flush();
    usleep(isset($_GET['big']) ? 1000 : 100000);
}
file_put_contents($f, "loop ended\n", FILE_APPEND);
EOF

my $fdir = $t->function('site', "runtime = php\nscript = c.php\n"
                                . "timeout = 30s\n", 'c.php' => $php);
mkdir "$fdir/state" or die "mkdir: $!";
chmod 0777, "$fdir/state";

my $fpm_sock = $t->start_php_fpm;
my ($fpm_port, $faas_port) = (FaasTest::free_port(), FaasTest::free_port());
$t->start_runner;
$t->start_nginx($t->fastcgi_location
    . ($fpm_sock ? $t->php_fpm_server($fpm_port, $fdir) : '')
    . "    server {\n        listen 127.0.0.1:$faas_port;\n"
    . "        location / {\n            faas_function site;\n"
    . "            faas_pass runner;\n        }\n    }\n");

# the header and some of the body read, then gone
sub leave {
    my ($port, $uri) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                  Timeout => 5) or die "connect: $!";
    print $s "GET $uri HTTP/1.0\r\nHost: x\r\n\r\n";
    my $got = '';
    my $end = time + 10;
    while ($got !~ /\r\n\r\nx{100}/ && time < $end) {
        last unless sysread($s, $got, 65536, length $got);
    }
    close $s;
    return $got =~ /^HTTP\/1\.1 200 /;
}

sub state {
    my ($tag, $re) = @_;
    my $got = '';
    FaasTest::wait_for(sub {
        $got = FaasTest::read_file("$fdir/state/$tag") // '';
        $got =~ $re;
    }, 20);
    return $got;
}

sub pid {
    my $r = $t->http_get('/?pid=1', port => $faas_port, timeout => 10);
    return $r ? $r->{body} : '';
}

my $pid = pid();
like($pid, qr/^\d+$/, "faas-php's worker");

my @fronts = (['faas-php', $faas_port, '/?']);
push @fronts, ['php-fpm', $fpm_port, '/c.php?'] if $fpm_sock;

for my $front (@fronts) {
    my ($name, $port, $uri) = @$front;

    ok(leave($port, "${uri}tag=$name-plain"), "$name: a script's first "
       . 'bytes, its client gone');
    my $s = state("$name-plain", qr/^shutdown/m);
    like($s, qr/\Ashutdown 1 (\d+)\n\z/, "$name: ended at its next flush, "
         . 'its shutdown function run, connection_status() 1');
    ok(($s =~ /(\d+)$/)[0] < 20, '... long before its loop\'s end');

    ok(leave($port, "${uri}tag=$name-ignore&ignore=1"), "$name: "
       . 'ignore_user_abort(true), its client gone');
    like(state("$name-ignore", qr/^shutdown/m),
         qr/\Aloop ended\nshutdown 1 30\n\z/,
         "$name: its loop to its end, then its shutdown function");

    ok(leave($port, "${uri}tag=$name-big&ignore=1&big=1"), "$name: "
       . 'ignore_user_abort(true), 6.4 MB written after its client left');
    like(state("$name-big", qr/^shutdown/m), qr/\Aloop ended\nshutdown 1 400\n\z/,
         "$name: its loop to its end, not killed for writing to nobody");
}

unlike($t->runner_log, qr/nobody reads/, 'the runner killed none');
is(pid(), $pid,
   'the same worker serves on');

$t->stop_php_fpm;
$t->done;
done_testing;

#!/usr/bin/perl

# A graceful stop (SIGTERM; a binary upgrade's old runner does the same)
# while short CGI requests come over nginx's kept connections: a request
# that ended in the same loop round as the stop has its END_REQUEST
# still queued on its connection, which is idle by then. Promise: it is
# sent before the connection closes, a long one (2 MB) too: nginx never
# sees an answer cut
# ("upstream prematurely closed connection": a 200 whose body ends
# early, its meter record lost). Several stops, each under load.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";
use FaasTest;
use Test::More;

my $t = FaasTest->new;
$t->ok_function('echo');
# 2 MB: an answer longer than a socket takes at once
$t->function('big', "exec = ./run.sh\nmode = cgi\n", 'run.sh' => "#!/bin/sh\n"
             . "printf 'Content-Type: text/plain\\r\\n\\r\\n'\n"
             . "head -c 2097152 /dev/zero | tr '\\0' x\n");
$t->start_runner;
$t->start_nginx($t->faas_location);

my ($stops, $sent) = (6, 0);
for my $i (1 .. $stops) {
    $t->start_runner unless $i == 1;
    my @load = ((map { $t->load_start('/fn/echo', 3) } 1 .. 3),
                $t->load_start('/fn/big', 3));
    select(undef, undef, undef, 1.5);
    $t->signal_runner('TERM');
    is($t->wait_runner(15), 0, "stop $i under load: the runner exits 0");
    for my $l (@load) {
        my $res = FaasTest::load_result($l);
        $sent += $1 if $res =~ /\b200=(\d+)/;
    }
}

cmp_ok($sent, '>', 100, "requests answered 200 around the stops ($sent)");
my @cut = grep { /upstream prematurely closed/ } split /\n/, $t->error_log;
ok(!@cut, 'no answer cut by a stop') or diag(join "\n", @cut[0 .. 2]);

# a client that reads slowly (64 kB every 20 ms) the 2 MB answer of a
# request it sent before the stop: it gets all of it and END_REQUEST
# (its tail waited in the runner when its last request ended, and the
# runner left with it unsent)
$t->start_runner;
my $s = $t->fcgi_connect;
syswrite($s, FaasTest::fcgi_request_bytes(
             params => FaasTest::fcgi_default_params('big')));
ok(FaasTest::wait_for(sub { $t->runner_log =~ /spawned|started/ }, 10),
   'a slow client\'s request runs');
$t->signal_runner('TERM');
my ($got, $buf, $end) = ('', '', 0);
my $until = time + 30;
while (time < $until) {
    my $n = sysread($s, $buf, 65536);
    last unless $n;
    $got .= $buf;
    select(undef, undef, undef, 0.02);
}
my $stdout = '';
while (length($got) >= 8) {
    my ($type, $len, $pad) = unpack('xCxxnCx', $got);
    last if length($got) < 8 + $len + $pad;
    my $content = substr($got, 8, $len);
    substr($got, 0, 8 + $len + $pad) = '';
    $stdout .= $content if $type == 6;
    $end = 1 if $type == 3;
}
my ($body) = $stdout =~ /\r\n\r\n(.*)\z/s;
is(length($body // ''), 2097152, '... all of its 2 MB answer');
ok($end, '... and its END_REQUEST');
is($t->wait_runner(15), 0, '... and the runner exits 0 after');

$t->start_runner;
$t->done;
done_testing;
